"""``@endpoint``: one decorator for routing, validation, auth and OpenAPI registration.

Example
-------
>>> @endpoint(bp, "GET", "/families/<fid>", response=FamilyOut, summary="Get a family")
... def get_family(*, fid: UUID) -> FamilyOut: ...

Rules (the contract blueprints rely on):

* Path parameters ``<name>`` are converted from the handler's annotation (``UUID``, ``int``,
  ``str``). A value that does not parse answers **404** problem: a malformed id identifies
  no resource, exactly like an id outside the caller's scope.
* ``body=Model``: the request must be JSON (else 415), at most ``MAX_CONTENT_LENGTH`` bytes
  (else 413), well-formed (else 400) and valid for the model (else 422 with ``errors``).
* ``query=Model``: ``request.args`` validated with the model (query strings are coerced in
  lax mode: ``"50"`` -> ``int``); unknown parameters answer 422. Routes without a query
  model reject any query parameter the same way.
* Every route authenticates the bearer token before anything else unless ``public=True``.
* The handler receives only keyword arguments; its result is validated against ``response``
  and serialised with ``mode="json"``; ``status=204`` answers an empty body. A handler may
  also return a ready :class:`flask.Response`.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar, get_args, get_origin
from uuid import UUID

from flask import Blueprint, Flask, Response, json, request
from werkzeug.exceptions import BadRequest, NotFound, UnsupportedMediaType

from service.errors import ErrorItem, RequestValidationError
from service.http.context import authenticate_request

if TYPE_CHECKING:
    from pydantic import BaseModel, TypeAdapter, ValidationError

# pydantic loads when a request is first validated or rendered, not at import: a cold start
# that answers /health builds no model. (Modules that define models import it themselves.)
# ruff: noqa: PLC0415

F = TypeVar("F", bound=Callable[..., Any])

SPEC_ATTRIBUTE = "__endpoint_spec__"
# Every view @endpoint made, by Flask endpoint name ("<blueprint>.<handler>"), so a lazily
# imported module's views can be found without registering its blueprint.
_VIEWS: dict[str, Callable[..., Response]] = {}
_SEQUENCE_ORIGINS = (list, tuple, set, frozenset, Sequence)


@dataclass(frozen=True)
class EndpointSpec:
    """Everything known about one endpoint; the OpenAPI generator reads these."""

    method: str
    path: str
    handler: Callable[..., Any]
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: Any
    status: int
    summary: str
    description: str | None
    tags: tuple[str, ...]
    public: bool
    operation_id: str
    deprecated: bool = False
    extra_responses: dict[int, str] = field(default_factory=dict)
    response_schema: dict[str, Any] | None = None

    @cached_property
    def path_types(self) -> dict[str, Any]:
        """Annotation of each handler parameter (resolved lazily: models may be defined later)."""
        hints = typing.get_type_hints(self.handler)
        hints.pop("return", None)
        return hints

    @cached_property
    def response_adapter(self) -> TypeAdapter[Any] | None:
        """Validator/serialiser of the response body, or ``None`` for bodiless answers."""
        if self.response is None:
            return None
        from pydantic import TypeAdapter

        return TypeAdapter(self.response)


def endpoint(
    bp: Blueprint | Flask,
    method: str,
    path: str,
    *,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: Any = None,
    status: int = 200,
    summary: str,
    description: str | None = None,
    tags: Sequence[str] = (),
    public: bool = False,
    deprecated: bool = False,
    responses: dict[int, str] | None = None,
    response_schema: dict[str, Any] | None = None,
) -> Callable[[F], F]:
    """Register ``handler`` on ``bp`` for ``method path`` with validation and auth.

    Parameters
    ----------
    bp
        Blueprint (or app) to register the route on.
    method
        One HTTP method (``GET``, ``POST``, ``PUT``, ``PATCH``, ``DELETE``).
    path
        Flask rule relative to the blueprint prefix, e.g. ``"/families/<fid>"``.
    body, query
        Pydantic models validating the JSON body and the query string.
    response
        Type of the response body (a model, ``list[Model]`` ...); ``None`` for no body.
    status
        Success status; ``204`` answers an empty body.
    summary, description, tags, deprecated
        Documentation for the OpenAPI operation.
    public
        Skip authentication (health, webhooks verified by their own signature).
    responses
        Extra documented error statuses with a description, e.g. ``{409: "Already a member"}``.
    response_schema
        Instead of ``response``: a literal JSON Schema documenting a plain-JSON answer, for
        routes that must not load pydantic (``/health`` on a cold start).

    Returns
    -------
    Callable
        A decorator returning the handler unchanged (so it stays directly callable in tests).
    """
    method = method.upper()

    def decorate(handler: F) -> F:
        spec = EndpointSpec(
            method=method,
            path=path,
            handler=handler,
            body=body,
            query=query,
            response=response,
            status=status,
            summary=summary,
            description=description or (handler.__doc__ or "").strip() or None,
            tags=tuple(tags),
            public=public,
            operation_id=handler.__name__,
            deprecated=deprecated,
            extra_responses=dict(responses or {}),
            response_schema=response_schema,
        )

        def view(**view_args: Any) -> Response:
            return _dispatch(spec, view_args)

        view.__name__ = handler.__name__
        view.__doc__ = handler.__doc__
        setattr(view, SPEC_ATTRIBUTE, spec)
        bp.add_url_rule(path, endpoint=handler.__name__, view_func=view, methods=[method])
        qualified = handler.__name__ if isinstance(bp, Flask) else f"{bp.name}.{handler.__name__}"
        _VIEWS[qualified] = view
        return handler

    return decorate


def registered_view(endpoint_name: str) -> Callable[..., Response]:
    """The view ``@endpoint`` made for ``endpoint_name`` (``"<blueprint>.<handler>"``).

    Raises
    ------
    LookupError
        If no imported module declared it.
    """
    try:
        return _VIEWS[endpoint_name]
    except KeyError:
        raise LookupError(f"no @endpoint view named {endpoint_name!r}") from None


def _dispatch(spec: EndpointSpec, view_args: dict[str, Any]) -> Response:
    if not spec.public:
        authenticate_request()
    kwargs = {name: _convert_path(spec, name, value) for name, value in view_args.items()}
    if spec.query is not None:
        kwargs["query"] = _parse_query(spec.query)
    elif request.args:
        _parse_query(None)  # rejects every parameter: this route declares none
    if spec.body is not None:
        kwargs["body"] = _parse_body(spec.body)
    result = spec.handler(**kwargs)
    return _render(spec, result)


def _convert_path(spec: EndpointSpec, name: str, value: Any) -> Any:
    target = spec.path_types.get(name, str)
    if isinstance(target, type) and isinstance(value, target):
        return value  # already converted by a Flask converter such as <uuid:...>
    try:
        if target is UUID:
            return UUID(str(value))
        if target is int:
            return int(str(value))
    except ValueError:
        raise NotFound(f"No resource matches '{name}'.") from None
    return value


def _is_sequence(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin in _SEQUENCE_ORIGINS:
        return True
    return any(_is_sequence(arg) for arg in get_args(annotation) if arg is not type(None))


def _parse_query(model: type[BaseModel] | None) -> BaseModel | None:
    fields = {} if model is None else model.model_fields
    by_key = {(info.alias or name): info for name, info in fields.items()}
    data: dict[str, Any] = {}
    problems: list[ErrorItem] = []
    for key, values in request.args.lists():
        info = by_key.get(key)
        if info is None:
            problems.append({"loc": ["query", key], "msg": "Unknown query parameter"})
        elif _is_sequence(info.annotation):
            data[key] = values
        elif len(values) > 1:
            problems.append({"loc": ["query", key], "msg": "Given more than once"})
        else:
            data[key] = values[0]
    if problems:
        raise RequestValidationError("The query string is not valid.", problems)
    if model is None:
        return None
    from pydantic import ValidationError

    try:
        return model.model_validate(data, strict=False)
    except ValidationError as error:
        raise RequestValidationError(
            "The query string is not valid.", _error_items("query", error)
        ) from None


def _parse_body(model: type[BaseModel]) -> BaseModel:
    if not request.is_json:
        raise UnsupportedMediaType("The request body must be 'application/json'.")
    raw = request.get_data(cache=False)  # raises 413 beyond MAX_CONTENT_LENGTH
    from pydantic import ValidationError

    try:
        return model.model_validate_json(raw)
    except ValidationError as error:
        invalid_json = [e for e in error.errors(include_url=False) if e["type"] == "json_invalid"]
        if invalid_json:
            message = invalid_json[0]["msg"]
            raise BadRequest(f"The request body is not valid JSON: {message}.") from None
        raise RequestValidationError(
            "The request body is not valid.", _error_items("body", error)
        ) from None


def _error_items(source: str, error: ValidationError) -> list[ErrorItem]:
    # include_input=False: never echo what the client sent (it may hold secrets).
    return [
        {"loc": [source, *item["loc"]], "msg": item["msg"]}
        for item in error.errors(include_url=False, include_input=False, include_context=False)
    ]


def _render(spec: EndpointSpec, result: Any) -> Response:
    if isinstance(result, Response):
        return result
    if spec.status == 204 or (spec.response_adapter is None and result is None):
        return Response(status=spec.status)
    if spec.response_adapter is None:  # undeclared body: plain JSON, not in the OpenAPI schema
        return Response(json.dumps(result), status=spec.status, mimetype="application/json")
    adapter = spec.response_adapter
    value = adapter.validate_python(result, from_attributes=True)
    return Response(adapter.dump_json(value), status=spec.status, mimetype="application/json")
