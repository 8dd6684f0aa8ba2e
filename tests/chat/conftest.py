"""Fixtures: each adapter against its wire double, through the real clients."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import boto3
import pytest

from devtools.llm_doubles import (
    ModelDouble,
    RecordedRequest,
    bedrock_double,
    openai_double,
)
from devtools.llm_doubles.script import ModelBehaviour
from service.chat import ChatModel, HandleTable, ToolContext
from service.chat.bedrock import BedrockConverseModel, Guardrail, bedrock_runtime_client
from service.chat.openai_compat import OpenAICompatibleModel
from tests.chat.fake_ledger import ALICE, FAMILY_A, FakeLedger, seeded_ledger

MODEL_ID = "arn:aws:bedrock:eu-west-2:123456789012:inference-profile/eu.anthropic.claude-test-v1:0"
GUARDRAIL = ("gr-test123", "3")
API_KEY = "local-test-key"


def dummy_session() -> boto3.session.Session:
    """A boto3 session with fake credentials (the double checks a SigV4 signature exists)."""
    return boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="eu-west-2"
    )


@dataclass
class Provider:
    """One adapter wired to its double, with protocol-aware views of the request log."""

    kind: str
    model: ChatModel
    double: ModelDouble

    @property
    def requests(self) -> list[RecordedRequest]:
        return self.double.requests

    def log_text(self) -> str:
        return self.double.log.text()

    def system_texts(self, request: RecordedRequest) -> list[str]:
        body = request.json()
        if self.kind == "bedrock":
            return [block["text"] for block in body.get("system", [])]
        return [m["content"] for m in body["messages"] if m["role"] == "system"]

    def user_texts(self, request: RecordedRequest) -> list[str]:
        """Text the member wrote (user-role text), never tool results."""
        body = request.json()
        if self.kind == "bedrock":
            return [
                block["text"]
                for message in body["messages"]
                if message["role"] == "user"
                for block in message["content"]
                if "text" in block
            ]
        return [m["content"] for m in body["messages"] if m["role"] == "user"]

    def tool_results(self, request: RecordedRequest) -> list[tuple[dict[str, Any], bool | None]]:
        """Every tool result in the request: its JSON content and error status (Bedrock)."""
        body = request.json()
        if self.kind == "bedrock":
            return [
                (
                    block["toolResult"]["content"][0]["json"],
                    block["toolResult"]["status"] == "error",
                )
                for message in body["messages"]
                for block in message["content"]
                if "toolResult" in block
            ]
        return [(json.loads(m["content"]), None) for m in body["messages"] if m["role"] == "tool"]

    def max_tokens(self, request: RecordedRequest) -> int:
        body = request.json()
        if self.kind == "bedrock":
            return int(body["inferenceConfig"]["maxTokens"])
        return int(body["max_tokens"])


Connect = Callable[..., Provider]


@pytest.fixture(params=["bedrock", "openai"])
def connect(request: pytest.FixtureRequest) -> Iterator[Connect]:
    """``connect(script, read_timeout=...)``: the adapter of this run's protocol on a double."""
    kind: str = request.param
    with ExitStack() as stack:

        def make(script: ModelBehaviour, *, read_timeout: float = 10.0) -> Provider:
            if kind == "bedrock":
                double = stack.enter_context(
                    bedrock_double(script, model_id=MODEL_ID, guardrail=GUARDRAIL)
                )
                client = bedrock_runtime_client(
                    endpoint_url=double.url,
                    session=dummy_session(),
                    read_timeout=read_timeout,
                    max_attempts=1,
                )
                model: ChatModel = BedrockConverseModel(
                    client=client, model_id=MODEL_ID, guardrail=Guardrail(*GUARDRAIL)
                )
            else:
                double = stack.enter_context(
                    openai_double(script, api_key=API_KEY, model_name="test-model")
                )
                model = OpenAICompatibleModel(
                    base_url=double.url + "/v1",
                    model="test-model",
                    api_key=API_KEY,
                    read_timeout=read_timeout,
                )
            return Provider(kind, model, double)

        yield make


@pytest.fixture
def ledger() -> FakeLedger:
    return seeded_ledger()


def alice_context(conversation_id: UUID | None = None) -> ToolContext:
    """Alice's conversation in family A, as the endpoint will bind it."""
    return ToolContext(
        principal=ALICE,
        family_id=FAMILY_A,
        conversation_id=conversation_id or UUID("3c000000-0000-4000-8000-000000000001"),
        handles=HandleTable(),
    )
