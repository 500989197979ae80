"""Request validation shared by the example services (pydantic models → 422 details)."""

from __future__ import annotations

import re
from typing import Annotated, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from seawall.diagnostics import join_pointer
from seawall.examples.asgi import HttpError, Request

ModelT = TypeVar("ModelT", bound=BaseModel)

Sku = Annotated[str, Field(pattern=r"^[A-Z0-9-]{1,32}$")]
Quantity = Annotated[int, Field(ge=1, le=1000)]
UUID_PATTERN = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
Uuid = Annotated[str, Field(pattern=UUID_PATTERN.pattern)]


class Input(BaseModel):
    """Base of request bodies: unknown properties are an error, as the specs say."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Money(Input):
    """An amount in the currency's minor unit."""

    amount: Annotated[int, Field(ge=0)]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]


def parse_body(request: Request, model: type[ModelT]) -> ModelT:
    """The request's JSON body as ``model``; 422 naming each bad field by JSON pointer."""
    try:
        return model.model_validate_json(request.body or b"null", strict=False)
    except ValidationError as error:
        details = [
            {"pointer": join_pointer("", *problem["loc"]), "message": problem["msg"]}
            for problem in error.errors(include_url=False)
        ]
        raise HttpError(422, "invalid-request", "the request body is not valid", details) from None


def query_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter within ``[low, high]``, or 422."""
    raw = request.query.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise HttpError(422, "invalid-query", f"query parameter {name} must be {low}..{high}")
    return int(raw)


def query_choice(request: Request, name: str, choices: tuple[str, ...]) -> str | None:
    """A query parameter restricted to ``choices`` (None when absent), or 422."""
    raw = request.query.get(name)
    if raw is not None and raw not in choices:
        raise HttpError(
            422, "invalid-query", f"query parameter {name} must be one of {', '.join(choices)}"
        )
    return raw


def query_uuid(request: Request, name: str) -> str | None:
    """A UUID query parameter (None when absent), or 422."""
    raw = request.query.get(name)
    if raw is not None and not UUID_PATTERN.fullmatch(raw):
        raise HttpError(422, "invalid-query", f"query parameter {name} must be a UUID")
    return raw
