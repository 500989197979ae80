"""The intermediate model between an OpenAPI document and the generated code.

Plain frozen dataclasses: :mod:`seawall.build` fills them from a spec and
:mod:`seawall.render` turns them into files. The IR knows Python identifiers
(already made valid and distinct) but no Python syntax: annotations, literals
and imports are computed by the renderer.

Types are a small tree (:data:`TypeRef`); named schemas are :data:`Definition`
values referenced by name through :class:`NamedType`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Union

if TYPE_CHECKING:
    from seawall.policies import BreakerSpec, BudgetSpec, OperationPolicy

JsonValue = Union[None, bool, int, float, str, list["JsonValue"], dict[str, "JsonValue"]]

PrimitiveKind = Literal[
    "str", "int", "float", "bool", "datetime", "date", "time", "uuid", "bytes", "base64", "any", "none"
]


class Missing(enum.Enum):
    """Marks "no default" (``None`` is a real JSON default)."""

    MISSING = "MISSING"


MISSING = Missing.MISSING


# --- types -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Primitive:
    """A scalar (or untyped JSON: ``any``; the null type: ``none``)."""

    kind: PrimitiveKind


@dataclass(frozen=True, slots=True)
class NamedType:
    """A reference to a :data:`Definition` by its Python name."""

    name: str


@dataclass(frozen=True, slots=True)
class ListOf:
    item: TypeRef


@dataclass(frozen=True, slots=True)
class TupleOf:
    """``prefixItems``: a fixed-length, per-position typed array."""

    items: tuple[TypeRef, ...]


@dataclass(frozen=True, slots=True)
class MapOf:
    """An object used as a map: ``additionalProperties`` without properties."""

    value: TypeRef


@dataclass(frozen=True, slots=True)
class LiteralOf:
    """``const`` or an enum that cannot be an Enum class (mixed kinds)."""

    values: tuple[str | int | bool, ...]


@dataclass(frozen=True, slots=True)
class Nullable:
    """``inner`` or null."""

    inner: TypeRef


@dataclass(frozen=True, slots=True)
class Discriminator:
    """Which property tells the variants of a union apart.

    ``mapping`` sends a wire value to a variant's definition name; every
    variant is a :class:`NamedType` object model.
    """

    property_name: str
    mapping: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class UnionOf:
    """``oneOf``/``anyOf``: one of the options (discriminated when known)."""

    options: tuple[TypeRef, ...]
    discriminator: Discriminator | None = None


TypeRef = Union[Primitive, NamedType, ListOf, TupleOf, MapOf, LiteralOf, Nullable, UnionOf]


# --- named schemas -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Field:
    """One property of an object model."""

    name: str  # Python attribute name
    wire_name: str  # JSON property name (the alias when it differs)
    type: TypeRef
    required: bool
    default: JsonValue | Missing = MISSING
    description: str | None = None
    read_only: bool = False
    write_only: bool = False
    deprecated: bool = False


@dataclass(frozen=True, slots=True)
class ModelDef:
    """An object schema → a pydantic model class."""

    name: str
    pointer: str  # where the schema is in the document
    fields: tuple[Field, ...]
    description: str | None = None
    base: str | None = None  # a parent model (``allOf`` with one $ref + extras)
    extra: Literal["allow", "forbid", "ignore"] = "allow"
    extra_type: TypeRef | None = None  # typed ``additionalProperties`` beside properties


@dataclass(frozen=True, slots=True)
class EnumMember:
    name: str
    value: str | int


@dataclass(frozen=True, slots=True)
class EnumDef:
    """A string or integer enum → an ``enum.Enum`` class."""

    name: str
    pointer: str
    kind: Literal["str", "int"]
    members: tuple[EnumMember, ...]
    description: str | None = None


@dataclass(frozen=True, slots=True)
class AliasDef:
    """Any other named schema (array, union, primitive…) → a type alias."""

    name: str
    pointer: str
    type: TypeRef
    description: str | None = None


Definition = Union[ModelDef, EnumDef, AliasDef]


# --- operations --------------------------------------------------------------

ParameterLocation = Literal["path", "query", "header", "cookie"]
BodyKind = Literal["json", "form", "multipart", "binary", "text"]
ResponseKind = Literal["json", "binary", "text", "empty"]


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str  # Python keyword argument
    wire_name: str
    location: ParameterLocation
    type: TypeRef
    required: bool
    style: str  # form, simple, label, matrix, spaceDelimited, pipeDelimited, deepObject
    explode: bool
    allow_reserved: bool = False
    description: str | None = None
    deprecated: bool = False


@dataclass(frozen=True, slots=True)
class RequestBody:
    kind: BodyKind
    media_type: str
    type: TypeRef
    required: bool
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Response:
    """One documented response: ``status`` is "200", "2XX" or "default"."""

    status: str
    kind: ResponseKind
    media_type: str | None
    type: TypeRef | None  # None for an empty body
    description: str | None = None

    @property
    def is_success(self) -> bool:
        return self.status.startswith("2")


@dataclass(frozen=True, slots=True)
class Operation:
    name: str  # Python method name
    operation_id: str  # operationId, or "GET /path" when missing
    method: str  # upper case
    path: str
    pointer: str
    parameters: tuple[Parameter, ...]
    body: RequestBody | None
    responses: tuple[Response, ...]
    summary: str | None = None
    description: str | None = None
    deprecated: bool = False
    tags: tuple[str, ...] = ()
    security: tuple[str, ...] = ()  # names of SecurityScheme that may authorize it
    policy: OperationPolicy | None = None  # the effective resilience policy, plugged in by the pipeline


# --- the API -----------------------------------------------------------------

SecurityKind = Literal["api_key", "bearer", "basic"]


@dataclass(frozen=True, slots=True)
class SecurityScheme:
    """A credential the client constructor accepts."""

    name: str  # the key in components/securitySchemes
    argument: str  # the constructor's keyword argument
    kind: SecurityKind
    location: Literal["header", "query", "cookie"] = "header"
    parameter_name: str = "Authorization"  # header/query/cookie name for api keys
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Server:
    url: str  # variables' defaults already substituted
    description: str | None = None


@dataclass(frozen=True, slots=True)
class PackageInfo:
    distribution_name: str  # normalized, e.g. "swagger-petstore"
    import_name: str  # e.g. "swagger_petstore"
    version: str  # PEP 440
    title: str
    api_version: str  # info.version as written
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Api:
    package: PackageInfo
    servers: tuple[Server, ...]
    definitions: tuple[Definition, ...]  # sorted by name
    operations: tuple[Operation, ...]  # sorted by name
    security_schemes: tuple[SecurityScheme, ...] = ()
    # The client-wide breaker and retry budget (``seawall.policies`` specs),
    # plugged in by the pipeline like ``Operation.policy``.
    breaker: BreakerSpec | None = None
    budget: BudgetSpec | None = None
