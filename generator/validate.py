"""Stage 3: check the document against the OpenAPI specification and list every problem.

openapi-spec-validator does the checking in two parts: the JSON Schema of the
OpenAPI version (its errors carry a path into the document) and keyword
checks (schemas, parameters, defaults), which do not say where they are.
The keyword checks are therefore run here one path item and one component
schema at a time, so each problem can be placed. Duplicate operationIds are
checked here so that the message can name both places.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from typing import Any

from seawall.diagnostics import Diagnostic, SpecError, join_pointer
from seawall.resolve import Spec

_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_MESSAGE_LIMIT = 300


def validate(spec: Spec, *, lenient: bool) -> list[Diagnostic]:
    """Every problem of ``spec``: raises :class:`SpecError` with all of them, or under
    ``lenient`` returns them as warnings (an empty list when there are none)."""
    problems = _unique([*spec.deferred, *_schema_problems(spec), *_keyword_problems(spec), *_duplicate_ids(spec)])
    if problems and not lenient:
        raise SpecError(problems)
    return [dataclasses.replace(problem, severity="warning") for problem in problems]


def _validator_class(spec: Spec) -> Any:
    from openapi_spec_validator import (
        OpenAPIV2SpecValidator,
        OpenAPIV30SpecValidator,
        OpenAPIV31SpecValidator,
    )

    return {"2.0": OpenAPIV2SpecValidator, "3.0": OpenAPIV30SpecValidator, "3.1": OpenAPIV31SpecValidator}[
        spec.version
    ]


def _schema_problems(spec: Spec) -> Iterator[Diagnostic]:
    """Errors against the OpenAPI version's own JSON Schema, each at its place."""
    for error in _validator_class(spec).schema_validator.iter_errors(spec.document):
        message = _short(error.message)
        if error.context:
            # "not valid under any of the given schemas" says little; the deepest
            # sub-error is where the value went furthest before failing: the likeliest cause.
            error = max(_leaves(error.context), key=lambda leaf: len(leaf.absolute_path))
            message = f"{_short(error.message)} (the value matches none of the forms allowed here)"
        pointer = join_pointer("", *error.absolute_path)
        yield Diagnostic(message, spec.locate(pointer))


def _leaves(errors: Iterable[Any]) -> Iterator[Any]:
    for error in errors:
        if error.context:
            yield from _leaves(error.context)
        else:
            yield error


def _keyword_problems(spec: Spec) -> Iterator[Diagnostic]:
    """The validator's keyword checks, run one part of the document at a time to place them."""
    from openapi_spec_validator.validation.exceptions import DuplicateOperationIDError

    validator = _validator_class(spec)(spec.document)
    registry = validator.keyword_validators_registry
    root = validator.schema_path
    parts: list[tuple[str, Any]] = []
    if isinstance(spec.document.get("tags"), list):
        parts.append(("/tags", lambda: registry["tags"](root / "tags")))
    for url in _mapping(spec.document, "paths"):
        parts.append((join_pointer("/paths", url), lambda url=url: registry["path"](url, root / "paths" / url)))
    for name in _mapping(_mapping(spec.document, "components"), "schemas"):
        pointer = join_pointer("/components/schemas", name)
        parts.append((pointer, lambda name=name: registry["schema"](root / "components" / "schemas" / name)))
    for pointer, check in parts:
        try:
            errors = list(check())
        except Exception:  # noqa: BLE001 - the checks assume a well-formed part; its shape errors are reported already
            continue
        for error in errors:
            if not isinstance(error, DuplicateOperationIDError):
                yield Diagnostic(_short(error.message), spec.locate(pointer))


def _duplicate_ids(spec: Spec) -> Iterator[Diagnostic]:
    first_place: dict[str, str] = {}
    for url, path_item in _mapping(spec.document, "paths").items():
        if not isinstance(path_item, dict):
            continue
        for method in _HTTP_METHODS:
            operation = path_item.get(method)
            if not isinstance(operation, dict) or not isinstance(operation.get("operationId"), str):
                continue
            operation_id = operation["operationId"]
            pointer = join_pointer("/paths", url, method, "operationId")
            if operation_id not in first_place:
                first_place[operation_id] = pointer
                continue
            first = spec.locate(first_place[operation_id])
            message = (
                f"operationId {operation_id!r} of {method.upper()} {url} is already used "
                f"by the operation at {first}; operationIds must be unique"
            )
            yield Diagnostic(message, spec.locate(pointer))


def _mapping(data: Any, key: str) -> dict[str, Any]:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def _short(message: str) -> str:
    # Validator messages quote whole values; keep them readable.
    return message if len(message) <= _MESSAGE_LIMIT else message[: _MESSAGE_LIMIT - 3] + "..."


def _unique(problems: Iterable[Diagnostic]) -> list[Diagnostic]:
    return list(dict.fromkeys(problems))
