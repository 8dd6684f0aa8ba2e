"""The backend of the model doubles: scripted model turns, protocol-neutral.

A :class:`ScriptedModel` plays :class:`Turn` after :class:`Turn` whatever it is asked;
the wire layers (:mod:`.bedrock_converse`, :mod:`.openai_chat`) turn a request into an
:class:`Observed` view and a turn into their protocol's response. Nothing here knows
HTTP, so tests can build scripts directly.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


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
    """

    text: str = ""
    calls: tuple[CallTool, ...] = ()
    echo_tool_results: bool = False
    output_tokens: int | None = None
    delay: float = 0.0


@dataclass(frozen=True, slots=True)
class Observed:
    """What the model was sent, in the terms scripts need."""

    system: tuple[str, ...]
    tool_names: tuple[str, ...]
    tool_results: tuple[str, ...]
    max_tokens: int | None


@dataclass(frozen=True, slots=True)
class Reply:
    """A turn as played: the text and calls after echo and truncation, and its stop."""

    text: str
    calls: tuple[CallTool, ...]
    stop: str  # "end_turn" | "tool_use" | "max_tokens"
    output_tokens: int
    delay: float


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
        stop = "tool_use" if turn.calls else "end_turn"
        return Reply(text, turn.calls, stop, tokens, turn.delay)
