"""Errors the sandbox bank answers, rendered as Data API v3 Problem Details.

Titles follow https://docs.truelayer.com/docs/data-v3-errors, so the adapter's mapping is
exercised by the same strings TrueLayer sends.
"""

from __future__ import annotations

import json
import uuid


class SandboxError(Exception):
    """An error answer: HTTP status, Problem Details title and detail, optional headers."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        problem: bool = True,
    ) -> None:
        super().__init__(f"{status} {title}: {detail}")
        self.status = status
        self.title = title
        self.detail = detail
        self.headers = headers or {}
        self.problem = problem

    def body(self) -> str:
        """The JSON body (Problem Details, or an OAuth error for the auth server)."""
        if not self.problem:
            return json.dumps({"error": self.title, "error_description": self.detail})
        anchor = self.title.lower().replace(" ", "-")
        return json.dumps(
            {
                "type": f"https://docs.truelayer.com/docs/data-v3-errors#{anchor}",
                "title": self.title,
                "status": self.status,
                "detail": self.detail,
                "trace_id": uuid.uuid4().hex,
            }
        )

    @property
    def content_type(self) -> str:
        """``application/problem+json`` for Problem Details."""
        return "application/problem+json" if self.problem else "application/json"


def invalid_parameters(detail: str) -> SandboxError:
    """400 Invalid Parameters."""
    return SandboxError(400, "Invalid Parameters", detail)


def invalid_state(detail: str) -> SandboxError:
    """400 Invalid State: the connection is no longer authorised."""
    return SandboxError(400, "Invalid State", detail)


def unauthenticated(detail: str) -> SandboxError:
    """401 Unauthenticated."""
    return SandboxError(401, "Unauthenticated", detail)


def forbidden(detail: str) -> SandboxError:
    """403 Forbidden."""
    return SandboxError(403, "Forbidden", detail)


def not_found(detail: str) -> SandboxError:
    """404 Not Found."""
    return SandboxError(404, "Not Found", detail)


def rate_limited(retry_after: int, detail: str) -> SandboxError:
    """429 Rate Limit Exceeded with ``Retry-After``."""
    return SandboxError(
        429, "Rate Limit Exceeded", detail, headers={"Retry-After": str(retry_after)}
    )


def provider_error(status: int, detail: str) -> SandboxError:
    """5xx: Provider Error (502) or Unknown Error (500/503)."""
    return SandboxError(status, "Provider Error" if status == 502 else "Unknown Error", detail)
