"""What is particular to each adapter, and that the doubles refuse what providers refuse."""

from __future__ import annotations

import json

import botocore.exceptions
import pytest
import urllib3

from devtools.llm_doubles import ScriptedModel, Turn, bedrock_double, openai_double, scripts
from devtools.llm_doubles.server import ProtocolError
from service.chat import (
    ModelRequest,
    ProviderError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    StopReason,
    UserMessage,
)
from service.chat.bedrock import BedrockConverseModel, Guardrail, bedrock_runtime_client
from service.chat.openai_compat import OpenAICompatibleModel
from tests.chat.conftest import MODEL_ID, dummy_session

REQUEST = ModelRequest("rules", (UserMessage("hello"),), (), max_output_tokens=50)


def test_bedrock_client_honours_the_standard_endpoint_override(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with bedrock_double(scripts.answer("from the override"), model_id=MODEL_ID) as double:
        monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", double.url)
        client = bedrock_runtime_client(session=dummy_session(), max_attempts=1)
        turn = BedrockConverseModel(client=client, model_id=MODEL_ID).complete(REQUEST, timeout=5)

    assert turn.text == "from the override"
    assert turn.stop_reason is StopReason.END_TURN
    [request] = double.requests
    # the inference profile ARN travels percent-encoded in the path, as botocore sends it
    assert request.path.startswith("/model/arn%3Aaws%3Abedrock")
    body = request.json()
    assert body["inferenceConfig"]["maxTokens"] == 50
    assert "guardrailConfig" not in body and "toolConfig" not in body


def test_bedrock_sends_the_guardrail_and_maps_refusals() -> None:
    with bedrock_double(
        ScriptedModel([Turn(text="ok")], repeat_last=True),
        model_id=MODEL_ID,
        guardrail=("gr-1", "2"),
    ) as double:
        client = bedrock_runtime_client(
            endpoint_url=double.url, session=dummy_session(), max_attempts=1
        )
        guarded = BedrockConverseModel(
            client=client, model_id=MODEL_ID, guardrail=Guardrail("gr-1", "2")
        )
        assert guarded.complete(REQUEST, timeout=5).text == "ok"
        assert double.requests[-1].json()["guardrailConfig"] == {
            "guardrailIdentifier": "gr-1",
            "guardrailVersion": "2",
            "trace": "disabled",
        }

        wrong = BedrockConverseModel(
            client=client, model_id=MODEL_ID, guardrail=Guardrail("gr-9", "1")
        )
        with pytest.raises(ProviderError) as refused:
            wrong.complete(REQUEST, timeout=5)
        assert refused.value.code == "ResourceNotFoundException"

        double.protocol.fail_next(ProtocolError(429, "ThrottlingException", "slow down"))
        with pytest.raises(ProviderUnavailableError) as throttled:
            guarded.complete(REQUEST, timeout=5)
        assert throttled.value.code == "ThrottlingException"


def test_openai_adapter_sends_the_key_and_maps_http_errors() -> None:
    with openai_double(ScriptedModel([Turn(text="ok")], repeat_last=True), api_key="k1") as double:
        good = OpenAICompatibleModel(base_url=double.url + "/v1", model="m", api_key="k1")
        assert good.complete(REQUEST, timeout=5).text == "ok"
        assert double.requests[-1].headers["Authorization"] == "Bearer k1"
        assert "k1" not in repr(good)

        bad = OpenAICompatibleModel(base_url=double.url + "/v1", model="m", api_key="nope")
        with pytest.raises(ProviderError) as refused:
            bad.complete(REQUEST, timeout=5)
        assert refused.value.status == 401
        assert not isinstance(refused.value, ProviderUnavailableError)

        double.protocol.fail_next(ProtocolError(429, "rate_limit_exceeded", "slow down"))
        with pytest.raises(ProviderUnavailableError):
            good.complete(REQUEST, timeout=5)
        url = double.url

    # the double has stopped: nothing listens on that port any more
    gone = OpenAICompatibleModel(base_url=url + "/v1", model="m", connect_retries=0)
    with pytest.raises(ProviderUnavailableError):
        gone.complete(REQUEST, timeout=5)


def test_openai_adapter_uses_an_injected_pool() -> None:
    pool = urllib3.PoolManager()
    with openai_double(scripts.answer("pooled")) as double:
        model = OpenAICompatibleModel(base_url=double.url + "/v1", model="m", pool=pool)
        assert model.complete(REQUEST, timeout=5).text == "pooled"
    assert len(pool.pools) == 1  # the connection came from the injected pool


def test_the_converse_double_refuses_tool_results_that_answer_nothing() -> None:
    with bedrock_double(scripts.answer("unused")) as double:
        client = bedrock_runtime_client(
            endpoint_url=double.url, session=dummy_session(), max_attempts=1
        )
        with pytest.raises(botocore.exceptions.ClientError) as refused:
            client.converse(
                modelId="m",
                messages=[
                    {
                        "role": "user",
                        "content": [{"toolResult": {"toolUseId": "t1", "content": [{"json": {}}]}}],
                    }
                ],
                toolConfig={"tools": [{"toolSpec": {"name": "x", "inputSchema": {"json": {}}}}]},
            )
    assert refused.value.response["Error"]["Code"] == "ValidationException"


def test_the_chat_completions_double_refuses_unanswered_tool_calls() -> None:
    with openai_double(scripts.answer("unused")) as double:
        pool = urllib3.PoolManager()
        body = {
            "model": "m",
            "messages": [
                {"role": "user", "content": "hi"},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "c1",
                            "type": "function",
                            "function": {"name": "x", "arguments": "{}"},
                        }
                    ],
                },
                {"role": "user", "content": "no tool message in between"},
            ],
        }
        response = pool.request(
            "POST", double.url + "/v1/chat/completions", body=json.dumps(body).encode()
        )
    assert response.status == 400
    assert "must be followed by tool messages" in response.json()["error"]["message"]


def test_openai_adapter_waits_no_longer_than_the_callers_budget() -> None:
    """The per-call ``timeout`` caps the configured read timeout (the message's deadline)."""
    with openai_double(ScriptedModel([Turn(text="late", delay=30.0)])) as double:
        model = OpenAICompatibleModel(base_url=double.url + "/v1", model="m", read_timeout=30.0)
        with pytest.raises(ProviderTimeoutError):
            model.complete(REQUEST, timeout=0.3)


def test_bedrock_model_timeouts_are_timeouts() -> None:
    with bedrock_double(scripts.answer("unused")) as double:
        client = bedrock_runtime_client(
            endpoint_url=double.url, session=dummy_session(), max_attempts=1
        )
        double.protocol.fail_next(ProtocolError(408, "ModelTimeoutException", "too slow"))
        with pytest.raises(ProviderTimeoutError):
            BedrockConverseModel(client=client, model_id="m").complete(REQUEST, timeout=5)
