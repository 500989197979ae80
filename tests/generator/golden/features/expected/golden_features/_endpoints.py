"""How each operation goes on the wire: one ``Endpoint`` per operation.

Shared by the sync and async clients.
"""

from __future__ import annotations

from typing import Any

from seawall_runtime import Operation
from seawall_runtime.codegen import Body, Endpoint, Param, Reply

from . import errors, models

GET_SHAPE: Endpoint[models.Shape] = Endpoint(
    Operation("getShape", "GET", "/shapes/{id}"),
    params=(
        Param("id", "id", "path", "label", False),
        Param("x_request_id", "X-Request-Id", "header", "simple", False),
    ),
    replies={
        "200": Reply("json", models.Shape),
        "4XX": Reply("empty", error=errors.ClientError),
        "5XX": Reply("empty", error=errors.ServerError),
    },
    unexpected=errors.ApiError,
    accept="application/json",
)

PUT_EVERYTHING: Endpoint[models.Everything | None] = Endpoint(
    Operation("PUT /everything", "PUT", "/everything"),
    body=Body("json", "application/json", models.Everything),
    replies={
        "200": Reply("json", models.Everything),
        "202": Reply("empty"),
    },
    unexpected=errors.ApiError,
    accept="application/json",
)

PUT_FILE: Endpoint[bytes] = Endpoint(
    Operation("putFile", "PUT", "/files/{name}"),
    params=(
        Param("name", "name", "path", "simple", False),
        Param("filter", "filter", "query", "deepObject", False),
    ),
    body=Body("binary", "application/octet-stream", bytes),
    replies={
        "200": Reply("binary", bytes),
    },
    unexpected=errors.ApiError,
    accept="image/png",
)

SUBMIT_FORM: Endpoint[str] = Endpoint(
    Operation("submitForm", "POST", "/form"),
    body=Body("form", "application/x-www-form-urlencoded", models.SubmitFormRequest),
    replies={
        "200": Reply("text", str),
    },
    unexpected=errors.ApiError,
    accept="text/plain",
)

BY_OPERATION_ID: dict[str, Endpoint[Any]] = {
    "getShape": GET_SHAPE,
    "PUT /everything": PUT_EVERYTHING,
    "putFile": PUT_FILE,
    "submitForm": SUBMIT_FORM,
}
