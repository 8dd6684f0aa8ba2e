"""Serve a model double on a laptop: ``python -m devtools.llm_doubles openai --port 8089``.

It plays :class:`~devtools.llm_doubles.script.KeywordModel` (call the tool the question
names, then repeat its result) until interrupted. Point the service at it with
``CHAT_PROVIDER=openai CHAT_BASE_URL=http://127.0.0.1:8089/v1`` (or, for ``bedrock``,
``AWS_ENDPOINT_URL_BEDROCK_RUNTIME=http://127.0.0.1:8089``).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from contextlib import suppress

from devtools.llm_doubles.bedrock_converse import ConverseProtocol
from devtools.llm_doubles.openai_chat import ChatCompletionsProtocol
from devtools.llm_doubles.script import KeywordModel
from devtools.llm_doubles.server import ModelDouble, WireProtocol


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and serve until SIGINT/SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m devtools.llm_doubles")
    parser.add_argument("protocol", choices=("openai", "bedrock"))
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--api-key", help="require this bearer key (openai only)")
    args = parser.parse_args(argv)
    model = KeywordModel()
    protocol: WireProtocol = (
        ChatCompletionsProtocol(model, api_key=args.api_key)
        if args.protocol == "openai"
        else ConverseProtocol(model)
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with ModelDouble(protocol, port=args.port) as double:
        suffix = "/v1" if args.protocol == "openai" else ""
        print(f"{args.protocol} model double on {double.url}{suffix}", flush=True)
        with suppress(KeyboardInterrupt):
            stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
