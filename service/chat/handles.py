"""Per-conversation handles: how the model names things without seeing their ids.

A tool that lists accounts issues a handle (``acct-1``) for each account it returned;
a later tool call names the account by that handle and the tool resolves it in the
same conversation's table. The model never sees an id, so it cannot point a tool at an
id it learnt elsewhere; a handle resolves only in the conversation that issued it, and
the tool still reads through the caller's principal, so even a resolved id is checked
by the data layer's tenancy rules.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated

from pydantic import StringConstraints

HANDLE_PATTERN = r"^[a-z]{2,8}-[1-9][0-9]{0,5}$"
_HANDLE = re.compile(HANDLE_PATTERN)

AccountHandle = Annotated[str, StringConstraints(pattern=r"^acct-[1-9][0-9]{0,5}$", max_length=11)]
"""Type of a tool input field naming an account by its handle (``acct-3``)."""


class UnknownHandleError(LookupError):
    """The handle was not issued in this conversation (or names another kind of thing)."""

    def __init__(self, handle: str) -> None:
        super().__init__(f"Unknown handle {handle!r}: use a handle a tool returned in this chat.")
        self.handle = handle


class HandleTable:
    """Handles issued in one conversation, by kind (``acct``, ...).

    The same target always gets the same handle, so answers stay consistent across
    turns; :meth:`to_dict` / :meth:`from_dict` let the conversation store keep it with
    the conversation.
    """

    def __init__(self, entries: Mapping[str, str] | None = None) -> None:
        self._by_handle: dict[str, str] = {}
        self._by_target: dict[tuple[str, str], str] = {}
        for handle, target in (entries or {}).items():
            if not _HANDLE.match(handle):
                raise ValueError(f"not a handle: {handle!r}")
            self._by_handle[handle] = target
            self._by_target[(_kind(handle), target)] = handle

    def issue(self, kind: str, target: str) -> str:
        """The handle of ``target`` (an id as text), issuing a new one if needed."""
        if not re.fullmatch(r"[a-z]{2,8}", kind):
            raise ValueError(f"handle kind must be 2-8 lowercase letters, not {kind!r}")
        existing = self._by_target.get((kind, target))
        if existing is not None:
            return existing
        number = 1 + sum(1 for handle in self._by_handle if _kind(handle) == kind)
        handle = f"{kind}-{number}"
        self._by_handle[handle] = target
        self._by_target[(kind, target)] = handle
        return handle

    def resolve(self, kind: str, handle: str) -> str:
        """The target behind ``handle``, or :class:`UnknownHandleError`."""
        target = self._by_handle.get(handle)
        if target is None or _kind(handle) != kind:
            raise UnknownHandleError(handle)
        return target

    def to_dict(self) -> dict[str, str]:
        """Handle -> target, for storing with the conversation."""
        return dict(self._by_handle)

    @classmethod
    def from_dict(cls, entries: Mapping[str, str]) -> HandleTable:
        """Rebuild a table stored with :meth:`to_dict`."""
        return cls(entries)


def _kind(handle: str) -> str:
    return handle.split("-", 1)[0]
