"""The user's IP address, for providers that relax limits when the user is present.

Behind CloudFront it comes only from ``CloudFront-Viewer-Address`` (``ip:port`` as CloudFront
saw the client; ``EdgeDistribution`` forwards it and the origin-verify header proves the request
came through CloudFront). ``X-Forwarded-For`` is never read: its first entries are whatever the
client sent. Locally (no CloudFront) the socket's peer address is the user.
"""

from __future__ import annotations

import ipaddress

from flask import request

from service.http.context import current_services

VIEWER_ADDRESS_HEADER = "CloudFront-Viewer-Address"


def parse_viewer_address(value: str | None) -> str | None:
    """The IP of a ``CloudFront-Viewer-Address`` value (``192.0.2.1:4431``, ``2001:db8::1:4431``).

    Returns ``None`` for a missing or malformed value.
    """
    host, sep, port = (value or "").strip().rpartition(":")
    if not sep or not port.isdigit():
        return None
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


def user_ip() -> str | None:
    """The current request's user IP: CloudFront's header in Lambda, the peer address locally."""
    if current_services().settings.is_lambda:
        return parse_viewer_address(request.headers.get(VIEWER_ADDRESS_HEADER))
    return request.remote_addr or None
