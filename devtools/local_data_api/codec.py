"""Wire encoding of the RDS Data API: request parameters in, typed fields out.

Parameters follow the Data API's typing: a ``stringValue`` without a type hint
is ``text`` (Aurora types it as ``varchar``, so ``text`` into a ``uuid`` column
fails as it does in AWS), a hinted one is sent as an untyped literal cast to the
hinted type, ``longValue`` is ``bigint``, ``doubleValue`` is ``double
precision`` and ``blobValue`` is ``bytea``.

Results mirror what Aurora PostgreSQL returns: ``numeric``, dates, times,
``uuid`` and ``json``/``jsonb`` as ``stringValue`` (timestamps in UTC without
an offset), integers as ``longValue``, floats as ``doubleValue``, ``bytea`` as
``blobValue`` (base64 on the wire), arrays as ``arrayValue``.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from psycopg.adapt import AdaptersMap
from psycopg.types.string import TextLoader

from service.db.sql import rewrite_placeholders

TYPE_HINT_CASTS = {
    "DECIMAL": "numeric",
    "TIMESTAMP": "timestamp",
    "DATE": "date",
    "TIME": "time",
    "UUID": "uuid",
    "JSON": "json",
}

# Types returned as their PostgreSQL text form (the Data API returns them as strings).
TEXT_RESULT_TYPES = (
    "numeric",
    "date",
    "time",
    "timetz",
    "timestamp",
    "timestamptz",
    "interval",
    "uuid",
    "json",
    "jsonb",
    "inet",
    "cidr",
    "money",
)

# JDBC type codes the Data API reports in ``columnMetadata.type``.
_JDBC_TYPES = {
    "bool": -7,
    "int2": 5,
    "int4": 4,
    "int8": -5,
    "float4": 7,
    "float8": 8,
    "numeric": 2,
    "text": 12,
    "varchar": 12,
    "bpchar": 1,
    "date": 91,
    "time": 92,
    "timestamp": 93,
    "timestamptz": 93,
    "bytea": -2,
}
_OFFSET_SUFFIX = re.compile(r"[+-]\d{2}(?::?\d{2})?$")


class RequestError(Exception):
    """A request the Data API would reject before running it."""


def register_text_loaders(adapters: AdaptersMap) -> None:
    """Make a connection return the :data:`TEXT_RESULT_TYPES` as PostgreSQL text."""
    for name in TEXT_RESULT_TYPES:
        adapters.register_loader(name, TextLoader)


def _field_value(field: Mapping[str, Any]) -> object:
    if field.get("isNull"):
        return None
    for key in ("booleanValue", "longValue", "doubleValue", "stringValue"):
        if key in field:
            return field[key]
    if "blobValue" in field:
        return base64.b64decode(field["blobValue"])
    if "arrayValue" in field:
        raise RequestError("array parameters are not supported")
    raise RequestError("parameter value has no supported field")


def bind_parameters(
    sql: str, parameters: Sequence[Mapping[str, Any]]
) -> tuple[str, dict[str, object] | None]:
    """Turn Data API SQL and ``parameters`` into psycopg SQL and values.

    Raises
    ------
    RequestError
        If a placeholder has no parameter or a parameter is malformed.
    """
    values: dict[str, object] = {}
    casts: dict[str, str] = {}
    for param in parameters:
        name = param.get("name")
        if not isinstance(name, str) or not name:
            raise RequestError("every parameter needs a name")
        value = _field_value(param.get("value", {}))
        hint = param.get("typeHint")
        if hint is not None:
            if hint not in TYPE_HINT_CASTS:
                raise RequestError(f"unknown typeHint {hint!r}")
            if not isinstance(value, str) and value is not None:
                raise RequestError(f"typeHint {hint} needs a stringValue (parameter {name})")
            casts[name] = TYPE_HINT_CASTS[hint]
        values[name] = value

    def render(name: str) -> str:
        if name not in values:
            raise RequestError(f"No value specified for parameter: {name}")
        if name in casts:
            return f"(%({name})s::{casts[name]})"
        return f"%({name})s"

    query, names = rewrite_placeholders(sql, render)
    return query, (values if names else None)


def _scalar_field(type_name: str, value: object) -> dict[str, Any]:
    if value is None:
        return {"isNull": True}
    if isinstance(value, bool):
        return {"booleanValue": value}
    if isinstance(value, int):
        return {"longValue": value}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"blobValue": base64.b64encode(bytes(value)).decode("ascii")}
    text = str(value)
    if type_name == "timestamptz":
        text = _OFFSET_SUFFIX.sub("", text)  # the session runs in UTC
    return {"stringValue": text}


def _array_value(values: list[Any]) -> dict[str, Any]:
    if any(isinstance(v, list) for v in values):
        return {"arrayValues": [_array_value(v) for v in values]}
    if all(isinstance(v, bool) for v in values) and values:
        return {"booleanValues": values}
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values) and values:
        return {"longValues": values}
    if all(isinstance(v, float) for v in values) and values:
        return {"doubleValues": values}
    return {"stringValues": [None if v is None else str(v) for v in values]}


def encode_field(type_name: str, value: object) -> dict[str, Any]:
    """Encode one result value as a Data API ``Field``."""
    if isinstance(value, list):
        return {"arrayValue": _array_value(value)}
    return _scalar_field(type_name, value)


def column_metadata(name: str, type_name: str) -> dict[str, Any]:
    """The ``ColumnMetadata`` of one result column."""
    jdbc = 2003 if type_name.startswith("_") else _JDBC_TYPES.get(type_name, 1111)
    return {"name": name, "label": name, "typeName": type_name, "type": jdbc}


def json_record_value(type_name: str, value: object) -> object:
    """The value of one column in a ``formatRecordsAs=JSON`` record."""
    if value is None or isinstance(value, bool | int | float | list):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if type_name in ("json", "jsonb"):
        return json.loads(str(value))
    return _scalar_field(type_name, value)["stringValue"]
