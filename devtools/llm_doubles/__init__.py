"""Local model servers speaking Bedrock ``Converse`` and OpenAI chat completions.

They play scripted turns (:mod:`.script`, :mod:`.scripts`) and log every request, so
tests run the real adapters against the real wire formats and can assert that nothing
they must not send ever reached "the provider". 127.0.0.1 only; tests and laptops only.
"""

from devtools.llm_doubles.bedrock_converse import ConverseProtocol, bedrock_double
from devtools.llm_doubles.openai_chat import ChatCompletionsProtocol, openai_double
from devtools.llm_doubles.script import CallTool, KeywordModel, Observed, ScriptedModel, Turn
from devtools.llm_doubles.server import ModelDouble, RecordedRequest, RequestLog

__all__ = [
    "CallTool",
    "ChatCompletionsProtocol",
    "ConverseProtocol",
    "KeywordModel",
    "ModelDouble",
    "Observed",
    "RecordedRequest",
    "RequestLog",
    "ScriptedModel",
    "Turn",
    "bedrock_double",
    "openai_double",
]
