"""The backend of the model doubles: scripted model turns, protocol-neutral.

A :class:`ScriptedModel` plays :class:`Turn` after :class:`Turn` whatever it is asked;
the wire layers (:mod:`.bedrock_converse`, :mod:`.openai_chat`) turn a request into an
:class:`Observed` view and a turn into their protocol's response. Nothing here knows
HTTP, so tests can build scripts directly.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class CallTool:
    """One tool call the scripted model makes.

    ``arguments`` is sent as JSON; ``raw_arguments`` (chat completions only, where
    arguments travel as a string) is sent verbatim instead, e.g. text that is not JSON.
    """

    name: str
    arguments: Any = field(default_factory=dict)
    raw_arguments: str | None = None


@dataclass(frozen=True, slots=True)
class Turn:
    """One scripted model turn.

    Parameters
    ----------
    text
        The assistant text.
    calls
        Tool calls of the turn.
    echo_tool_results
        Append the text of every tool result in the request to ``text``: a model that
        repeats what the tools told it (so a test sees exactly what reached the model).
    output_tokens
        Output tokens to report; estimated from the text when ``None``. A turn over the
        request's output bound is cut there (stop reason "max tokens", no tool calls).
    delay
        Seconds to hold the response (to exercise client timeouts); released early when
        the server stops.
    filtered
        The provider's content filter stopped the turn (Converse: ``guardrail_intervened``,
        chat completions: ``content_filter``).
    """

    text: str = ""
    calls: tuple[CallTool, ...] = ()
    echo_tool_results: bool = False
    output_tokens: int | None = None
    delay: float = 0.0
    filtered: bool = False


@dataclass(frozen=True, slots=True)
class Observed:
    """What the model was sent, in the terms scripts need."""

    system: tuple[str, ...]
    tool_names: tuple[str, ...]
    tool_results: tuple[str, ...]
    max_tokens: int | None
    user_text: str = ""


@dataclass(frozen=True, slots=True)
class Reply:
    """A turn as played: the text and calls after echo and truncation, and its stop."""

    text: str
    calls: tuple[CallTool, ...]
    stop: str  # "end_turn" | "tool_use" | "max_tokens" | "filtered"
    output_tokens: int
    delay: float


class ModelBehaviour(Protocol):
    """What a double plays: one reply per request."""

    def next_reply(self, observed: Observed) -> Reply:
        """The reply to one request."""
        ...


class ScriptExhaustedError(RuntimeError):
    """The model was called more often than its script has turns."""


class ScriptedModel:
    """Plays its turns in order; with ``repeat_last`` the last turn forever.

    Thread-safe: the HTTP server handles requests on threads.
    """

    def __init__(self, turns: Sequence[Turn], *, repeat_last: bool = False) -> None:
        if not turns:
            raise ValueError("a script needs at least one turn")
        self._turns = tuple(turns)
        self._repeat_last = repeat_last
        self._played = 0
        self._lock = threading.Lock()

    @property
    def played(self) -> int:
        """How many turns were played."""
        return self._played

    def next_reply(self, observed: Observed) -> Reply:
        """The next turn, adapted to what was asked."""
        with self._lock:
            index = self._played
            if index >= len(self._turns) and not self._repeat_last:
                raise ScriptExhaustedError(f"the script has only {len(self._turns)} turns")
            self._played += 1
        turn = self._turns[min(index, len(self._turns) - 1)]
        text = turn.text
        if turn.echo_tool_results:
            text = "\n".join([text, *observed.tool_results]).strip()
        tokens = turn.output_tokens
        if tokens is None:
            tokens = max(1, len(text) // 4 + 16 * len(turn.calls))
        if observed.max_tokens is not None and tokens > observed.max_tokens:
            return Reply(
                text[: observed.max_tokens * 4], (), "max_tokens", observed.max_tokens, turn.delay
            )
        stop = "filtered" if turn.filtered else "tool_use" if turn.calls else "end_turn"
        return Reply(text, turn.calls, stop, tokens, turn.delay)


class KeywordModel:
    """A stand-in model for laptops: picks the offered tool the question names, then
    answers with what the tool returned.

    On a request whose last message is the member's, it calls the offered tool whose
    name shares most words with the question (the first tool when none does), with
    empty input; on a request ending in tool results it repeats them. Enough for a
    demo of the chat path without a model server; never a judge of answers.
    """

    def next_reply(self, observed: Observed) -> Reply:
        """Call the best-matching tool, or repeat the tool results."""
        if observed.tool_results or not observed.tool_names:
            text = "\n".join(["From the tools:", *observed.tool_results]).strip()
            return Reply(text, (), "end_turn", max(1, len(text) // 4), 0.0)
        words = set(re.findall(r"[a-z]+", observed.user_text.lower()))

        def score(name: str) -> int:
            return sum(
                1 for part in name.lower().split("_") if any(w.startswith(part[:5]) for w in words)
            )

        best = max(observed.tool_names, key=score)
        return Reply("", (CallTool(best, {}),), "tool_use", 16, 0.0)
