"""Routes registered at app build, their modules imported on first request.

The URL map is complete from the start (so routing, 404 and 405 are exact) while each
resource module, with its pydantic models and use cases, is imported only when a request
first reaches it: a cold start answering ``/health`` loads none of them. The OpenAPI
generator asks a lazy view for its spec, which imports the module then.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from service.http.endpoint import SPEC_ATTRIBUTE, registered_view

if TYPE_CHECKING:
    from flask import Flask, Response

    from service.api.routes import LazyRoute
    from service.http.endpoint import EndpointSpec


class LazyView:
    """A view that imports its module on first call (thread-safe), then delegates."""

    def __init__(self, route: LazyRoute) -> None:
        self.route = route
        self.__name__ = route.endpoint.rpartition(".")[2]
        self._view: Callable[..., Response] | None = None
        self._lock = threading.Lock()

    def load(self) -> Callable[..., Response]:
        """Import the module and return the real view."""
        if self._view is None:
            with self._lock:
                if self._view is None:
                    importlib.import_module(self.route.module)
                    self._view = registered_view(self.route.endpoint)
        return self._view

    @property
    def __endpoint_spec__(self) -> EndpointSpec:  # read by the OpenAPI generator
        spec: EndpointSpec = getattr(self.load(), SPEC_ATTRIBUTE)
        return spec

    def __call__(self, **view_args: Any) -> Response:
        return self.load()(**view_args)


def register_lazy_routes(app: Flask, routes: Iterable[LazyRoute]) -> None:
    """Add every route to ``app`` with a :class:`LazyView`."""
    for route in routes:
        app.add_url_rule(route.rule, endpoint=route.endpoint, view_func=LazyView(route),
                         methods=[route.method])
