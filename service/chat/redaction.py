"""Redaction applied to every request before it leaves for the model provider.

What is removed from text (the member's words, the model's earlier text and tool
arguments, every string inside tool results): bearer tokens, JWTs and API-key-like
secrets, e-mail addresses, UUIDs (the service's ids never reach a provider; tools
name things by handles), IBANs, card numbers (13-19 digits passing the Luhn check),
UK sort codes (``12-34-56``, ``12 34 56``, or six digits after "sort code"),
8-digit account numbers and any other run of 12-19 digits. JSON numbers (amounts and
counts computed by the service) are figures, not text, and pass unchanged; ids that
structure the conversation (tool call ids) are not text either.

The rules favour over-redaction: a reference that happens to look like an account
number is replaced too, which costs an answer a detail, never a leak.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from service.chat.messages import (
    AssistantMessage,
    Message,
    ModelRequest,
    ToolCall,
    ToolResult,
    ToolResultsMessage,
    UserMessage,
)


def luhn_valid(digits: str) -> bool:
    """Whether a string of digits passes the Luhn checksum (card numbers do)."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


@dataclass(frozen=True, slots=True)
class RedactionRule:
    """One kind of sensitive text: a pattern, an optional check and its placeholder."""

    name: str
    pattern: re.Pattern[str]
    placeholder: str
    confirm: Callable[[str], bool] | None = None

    def apply(self, text: str) -> str:
        """``text`` with every confirmed match replaced by the placeholder."""

        def substitute(match: re.Match[str]) -> str:
            found = match.group(0)
            if self.confirm is not None and not self.confirm(found):
                return found
            return self.placeholder

        return self.pattern.sub(substitute, text)


def _card_digits_valid(found: str) -> bool:
    digits = re.sub(r"\D", "", found)
    return 13 <= len(digits) <= 19 and luhn_valid(digits)


# Order matters: structured secrets first, so later, looser rules never see half of one.
DEFAULT_RULES: tuple[RedactionRule, ...] = (
    RedactionRule(
        "bearer-token",
        re.compile(r"\bbearer\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE),
        "[redacted token]",
    ),
    RedactionRule(
        "jwt",
        re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"),
        "[redacted token]",
    ),
    RedactionRule(
        "email",
        re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"),
        "[redacted email]",
    ),
    RedactionRule(
        "uuid",
        re.compile(r"\b[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\b"),
        "[redacted id]",
    ),
    RedactionRule(
        "api-key",
        re.compile(r"\b(?:sk|pk|rk)[-_][A-Za-z0-9_-]{16,}"),
        "[redacted token]",
    ),
    RedactionRule(
        # Long runs of base64url characters with letters and digits: access/refresh
        # tokens, signed URLs' signatures, hex secrets.
        "opaque-secret",
        re.compile(
            r"(?<![A-Za-z0-9_+/=-])(?=[A-Za-z0-9_+/=-]*[0-9])(?=[A-Za-z0-9_+/=-]*[A-Za-z])"
            r"[A-Za-z0-9_+/=-]{32,}(?![A-Za-z0-9_+/=-])"
        ),
        "[redacted token]",
    ),
    RedactionRule(
        "iban",
        re.compile(r"\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){3,7}(?: ?[A-Z0-9]{1,3})?\b"),
        "[redacted account number]",
    ),
    RedactionRule(
        "card-number",
        re.compile(r"(?<![0-9])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])"),
        "[redacted card number]",
        confirm=_card_digits_valid,
    ),
    RedactionRule(
        # Long digit runs that fail the card check are still references we do not send.
        "long-number",
        re.compile(r"(?<![0-9])[0-9]{12,19}(?![0-9])"),
        "[redacted number]",
    ),
    RedactionRule(
        "sort-code",
        re.compile(
            r"(?<![0-9-])[0-9]{2}([- ])[0-9]{2}\1[0-9]{2}(?![0-9-])"
            r"|\bsort[ -]?code\W{0,3}[0-9]{6}(?![0-9])",
            re.IGNORECASE,
        ),
        "[redacted sort code]",
    ),
    RedactionRule(
        "account-number",
        re.compile(r"(?<![0-9.,])[0-9]{8}(?![0-9]|[.,][0-9])"),
        "[redacted account number]",
    ),
)


class Redactor:
    """Removes sensitive text from a :class:`ModelRequest` (and from plain text or JSON).

    Parameters
    ----------
    rules
        The rules applied, in order; :data:`DEFAULT_RULES` unless given.
    """

    def __init__(self, rules: Sequence[RedactionRule] = DEFAULT_RULES) -> None:
        self._rules = tuple(rules)

    def text(self, value: str) -> str:
        """``value`` with every rule applied."""
        for rule in self._rules:
            value = rule.apply(value)
        return value

    def json(self, value: Any) -> Any:
        """A copy of a JSON value with every string (keys included) redacted."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.text(str(key)): self.json(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.json(item) for item in value]
        return value

    def request(self, request: ModelRequest) -> ModelRequest:
        """The request as it may leave the platform."""
        return replace(
            request,
            system=self.text(request.system),
            messages=tuple(self._message(message) for message in request.messages),
        )

    def _message(self, message: Message) -> Message:
        if isinstance(message, UserMessage):
            return UserMessage(self.text(message.text))
        if isinstance(message, AssistantMessage):
            return AssistantMessage(
                text=self.text(message.text),
                tool_calls=tuple(self._call(call) for call in message.tool_calls),
            )
        return ToolResultsMessage(tuple(self._result(result) for result in message.results))

    def _call(self, call: ToolCall) -> ToolCall:
        raw = None if call.raw_arguments is None else self.text(call.raw_arguments)
        return replace(call, arguments=self.json(call.arguments), raw_arguments=raw)

    def _result(self, result: ToolResult) -> ToolResult:
        return replace(result, content=self.json(result.content))
