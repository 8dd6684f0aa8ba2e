"""Build the OpenAPI 3.1 document from the app's URL map and endpoint specs.

Pydantic emits JSON Schema 2020-12, which is OpenAPI 3.1's schema dialect, so model
schemas are used as they are; every model lands once under ``components/schemas``.
"""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from flask import Flask
from pydantic import TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode
from pydantic_core import CoreSchema

from service.errors import PROBLEM_JSON
from service.http.endpoint import SPEC_ATTRIBUTE, EndpointSpec

REF_TEMPLATE = "#/components/schemas/{model}"
_RULE_PARAM = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["loc", "msg"],
                "properties": {
                    "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "msg": {"type": "string"},
                },
            },
        },
    },
}

_ERROR_DESCRIPTIONS = {
    400: "Malformed request (e.g. invalid JSON)",
    401: "Missing or invalid bearer token",
    403: "Not permitted for the caller's role, or not through CloudFront",
    404: "Not found or outside the caller's scope",
    413: "Request body too large",
    415: "Request body is not application/json",
    422: "Validation failed",
}


def _openapi_path(rule: str) -> str:
    return _RULE_PARAM.sub(lambda m: "{" + m.group(1) + "}", rule)


def _path_param_schema(annotation: Any) -> dict[str, Any]:
    if annotation is UUID:
        return {"type": "string", "format": "uuid"}
    if annotation is int:
        return {"type": "integer"}
    return {"type": "string"}


def _problem_response(status: int, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": REF_TEMPLATE.format(model="Problem")}}},
    }


class _Schemas:
    """Collects every model schema of every endpoint in one generation pass."""

    def __init__(self, specs: list[EndpointSpec]) -> None:
        inputs: list[tuple[tuple[int, str], JsonSchemaMode, CoreSchema]] = []
        for index, spec in enumerate(specs):
            parts: tuple[tuple[str, JsonSchemaMode, Any], ...] = (
                ("body", "validation", spec.body),
                ("query", "validation", spec.query),
                ("response", "serialization", spec.response),
            )
            for part, mode, model in parts:
                if model is not None:
                    inputs.append(((index, part), mode, TypeAdapter(model).core_schema))
        generator = GenerateJsonSchema(ref_template=REF_TEMPLATE)
        key_map, definitions = generator.generate_definitions(inputs)
        self.components: dict[str, Any] = {str(k): v for k, v in definitions.items()}
        self._by_key = {key: schema for (key, _mode), schema in key_map.items()}

    def get(self, index: int, part: str) -> dict[str, Any]:
        schema: dict[str, Any] = self._by_key[(index, part)]
        return schema

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        ref = schema.get("$ref")
        if isinstance(ref, str):
            resolved: dict[str, Any] = self.components[ref.rsplit("/", 1)[-1]]
            return resolved
        return schema


def _operation(
    spec: EndpointSpec, index: int, schemas: _Schemas, rule_params: list[str]
) -> dict[str, Any]:
    operation: dict[str, Any] = {"operationId": spec.operation_id, "summary": spec.summary}
    if spec.description:
        operation["description"] = spec.description
    if spec.tags:
        operation["tags"] = list(spec.tags)
    if spec.deprecated:
        operation["deprecated"] = True
    parameters: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": _path_param_schema(spec.path_types.get(name, str)),
        }
        for name in rule_params
    ]
    errors = {404: _ERROR_DESCRIPTIONS[404]} if rule_params else {}
    if spec.query is not None:
        query_schema = schemas.resolve(schemas.get(index, "query"))
        required = set(query_schema.get("required", []))
        for name, prop in query_schema.get("properties", {}).items():
            parameter: dict[str, Any] = {
                "name": name,
                "in": "query",
                "required": name in required,
                "schema": prop,
            }
            if "description" in prop:
                parameter["description"] = prop["description"]
            if prop.get("type") == "array":
                parameter.update(style="form", explode=True)
            parameters.append(parameter)
        errors[422] = _ERROR_DESCRIPTIONS[422]
    if parameters:
        operation["parameters"] = parameters
    if spec.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": schemas.get(index, "body")}},
        }
        for status in (400, 413, 415, 422):
            errors[status] = _ERROR_DESCRIPTIONS[status]
    if spec.public:
        operation["security"] = []
    else:
        errors[401] = _ERROR_DESCRIPTIONS[401]
    for status, description in spec.extra_responses.items():
        errors[status] = description
    success: dict[str, Any] = {"description": "Success"}
    if spec.response is not None and spec.status != 204:
        success["content"] = {"application/json": {"schema": schemas.get(index, "response")}}
    elif spec.response_schema is not None:
        success["content"] = {"application/json": {"schema": spec.response_schema}}
    responses: dict[str, Any] = {str(spec.status): success}
    for status in sorted(errors):
        responses[str(status)] = _problem_response(status, errors[status])
    # An explicit 500, not ``default``: a catch-all would document every status, so clients
    # (and the contract tests) could not tell a listed answer from a surprise.
    responses["500"] = _problem_response(500, "Unexpected error")
    operation["responses"] = responses
    return operation


def build_openapi(app: Flask, *, title: str = "Family finance platform API",
                  version: str = "1.0.0") -> dict[str, Any]:
    """The OpenAPI 3.1 document of every ``@endpoint`` route registered on ``app``.

    Parameters
    ----------
    app
        The application whose URL map is documented.
    title, version
        ``info`` of the document.
    """
    routes: list[tuple[str, EndpointSpec]] = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        spec = getattr(app.view_functions.get(rule.endpoint), SPEC_ATTRIBUTE, None)
        if isinstance(spec, EndpointSpec):
            routes.append((rule.rule, spec))
    schemas = _Schemas([spec for _rule, spec in routes])
    paths: dict[str, dict[str, Any]] = {}
    for index, (rule_text, spec) in enumerate(routes):
        rule_params = _RULE_PARAM.findall(rule_text)
        paths.setdefault(_openapi_path(rule_text), {})[spec.method.lower()] = _operation(
            spec, index, schemas, rule_params
        )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": "Errors are RFC 9457 problem details (application/problem+json).",
        },
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": {
            "schemas": {"Problem": PROBLEM_SCHEMA, **schemas.components},
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }
