"""The JSON Schema validators the validate stage runs, built once per process.

Two engines check the same schemas:

* jsonschema-rs (Rust), when installed, answers "is this valid?" for a whole
  4 MB document in tens of milliseconds. It is only ever used as a filter.
* jsonschema (pure Python) produces the messages, and runs only where the
  filter found a problem, or everywhere when jsonschema-rs is missing.

Python validators get a registry crawled once up front: without it jsonschema
re-crawls the OpenAPI 3.1 schemas on every ``$dynamicRef`` (seconds per spec).
Neither openapi-spec-validator nor openapi-schema-validator is imported for
the document schemas (they pull in pydantic-settings); their JSON files are read
directly.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
from pathlib import Path
from typing import Any

from seawall.resolve import Version

# Where openapi-spec-validator keeps the OpenAPI version's own JSON Schema.
_DOCUMENT_SCHEMA_DIRS = {"2.0": "v2.0", "3.0": "v3.0", "3.1": "v3.1"}


@functools.cache
def document_schema(version: Version) -> dict[str, Any]:
    """The JSON Schema of an OpenAPI document of ``version``."""
    relative = f"resources/schemas/{_DOCUMENT_SCHEMA_DIRS[version]}/schema.json"
    schema: dict[str, Any] = _package_json("openapi_spec_validator", relative)
    return schema


@functools.cache
def fast_document_check(version: Version) -> Any | None:
    """jsonschema-rs validator of whole documents, or None if jsonschema-rs is missing."""
    try:
        import jsonschema_rs
    except ImportError:
        return None
    # Same as the Python pass: formats are annotations only.
    return jsonschema_rs.validator_for(document_schema(version), validate_formats=False)


@functools.cache
def document_validator(version: Version) -> Any:
    """jsonschema validator of whole documents (gives the messages)."""
    from jsonschema.validators import validator_for

    schema = document_schema(version)
    validator_class: Any = validator_for(schema)
    return validator_class(schema, _resolver=_crawled_resolver(schema))


def _crawled_resolver(schema: dict[str, Any], extra: Any = None) -> Any:
    import referencing
    import referencing.jsonschema
    from jsonschema_specifications import REGISTRY  # type: ignore[import-untyped]

    resource = referencing.jsonschema.specification_with(schema.get("$schema", "")).create_resource(schema)
    uri = resource.id() or ""
    registries = [referencing.Registry().with_resource(uri, resource)] + ([extra] if extra is not None else [])
    return REGISTRY.combine(*registries).crawl().resolver(base_uri=uri)


# ------------------------------------------------------------ schema objects


def _python_regex(value: object) -> bool:
    """The "regex" format as jsonschema checks it: Python's ``re`` must accept it."""
    if not isinstance(value, str):
        return True
    try:
        re.compile(value)
    except re.error:
        return False
    return True


def _oas_class(version: Version) -> Any:
    from openapi_schema_validator import OAS30Validator, OAS31Validator

    return OAS31Validator if version == "3.1" else OAS30Validator


@functools.cache
def fast_meta_check(version: Version) -> Any | None:
    """jsonschema-rs validator of Schema Objects against the OpenAPI dialect, or None.

    Built from the same meta-schemas as :func:`meta_validator`, read from the
    packages' JSON files: importing openapi-schema-validator costs a third of
    a second, which a valid document should not pay.
    """
    try:
        import jsonschema_rs
    except ImportError:
        return None
    registry = None
    if version == "3.1":
        meta_schema = _package_json("openapi_schema_validator", "schemas/oas3.1/metaschema.json")
        vocabulary = _package_json("openapi_schema_validator", "schemas/oas3.1/vocabularies/base")
        registry = jsonschema_rs.Registry([(vocabulary["$id"], vocabulary)])
    else:  # OpenAPI 3.0 Schema Objects are checked against draft 4, as openapi-schema-validator does
        meta_schema = _package_json("jsonschema_specifications", "schemas/draft4/metaschema.json")
    # Formats on: the Python check asserts them; "regex" must mean Python's regexes, as there.
    return jsonschema_rs.validator_for(
        meta_schema, registry=registry, validate_formats=True, formats={"regex": _python_regex}
    )


def _package_json(package: str, relative: str) -> Any:
    found = importlib.util.find_spec(package)
    if found is None or not found.submodule_search_locations:
        raise RuntimeError(f"{package} is not installed")
    path = Path(next(iter(found.submodule_search_locations))) / relative
    return json.loads(path.read_text(encoding="utf-8"))


@functools.cache
def meta_validator(version: Version) -> Any:
    """jsonschema validator of Schema Objects, as ``OASValidator.check_schema`` builds it."""
    from jsonschema.validators import validator_for
    from openapi_schema_validator._specifications import REGISTRY as OPENAPI_SPECIFICATIONS

    oas_class = _oas_class(version)
    meta_schema = oas_class.META_SCHEMA
    resolver = _crawled_resolver(meta_schema, OPENAPI_SPECIFICATIONS)
    validator_class: Any = validator_for(meta_schema, default=oas_class)
    return validator_class(meta_schema, format_checker=oas_class.FORMAT_CHECKER, _resolver=resolver)


def value_validator(version: Version, document: dict[str, Any]) -> Any:
    """jsonschema validator of values (defaults) whose ``$ref``s resolve in ``document``.

    Swagger 2.0 defaults are checked with the OpenAPI 3.0 rules, as openapi-spec-validator does.
    """
    oas_class = _oas_class(version)
    return oas_class(document, format_checker=oas_class.FORMAT_CHECKER)
