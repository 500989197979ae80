"""Stage 3: check the document against the OpenAPI specification and list every problem.

Two kinds of checks, both placed at the node they concern:

* the OpenAPI version's own JSON Schema over the whole document (its errors
  carry a path into the document);
* the keyword checks a JSON Schema cannot express (:mod:`seawall.validate_keywords`).

Speed matters on Stripe-sized documents: a fast validator first answers
"is anything wrong?" and the detailed pass that writes messages only runs
where something is (see :mod:`seawall.validate_engines`). Duplicate
operationIds are checked here so that the message can name both places.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from typing import Any

from seawall import validate_engines
from seawall.diagnostics import Diagnostic, SpecError, join_pointer
from seawall.load import paused_gc
from seawall.resolve import Spec
from seawall.validate_keywords import keyword_problems

_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_MESSAGE_LIMIT = 300


def validate(spec: Spec, *, lenient: bool) -> list[Diagnostic]:
    """Every problem of ``spec``: raises :class:`SpecError` with all of them, or under
    ``lenient`` returns them as warnings (an empty list when there are none)."""
    with paused_gc():
        problems = _unique([*spec.deferred, *_schema_problems(spec), *_keyword_problems(spec), *_duplicate_ids(spec)])
    if problems and not lenient:
        raise SpecError(problems)
    return [dataclasses.replace(problem, severity="warning") for problem in problems]


def _schema_problems(spec: Spec) -> Iterator[Diagnostic]:
    """Errors against the OpenAPI version's own JSON Schema, each at its place."""
    fast = validate_engines.fast_document_check(spec.version)
    if fast is not None and fast.is_valid(spec.document):
        return
    for error in validate_engines.document_validator(spec.version).iter_errors(spec.document):
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
    for problem in keyword_problems(spec):
        yield dataclasses.replace(problem, message=_short(problem.message))


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
