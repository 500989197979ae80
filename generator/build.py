"""Build stage: a resolved OpenAPI 3.x ``Spec`` → :class:`seawall.ir.Api`.

Schemas are handled in :mod:`seawall.build_schemas`, operations in
:mod:`seawall.build_operations`; this module adds the package metadata,
servers and credentials, and decides what a construct the generator cannot
handle means: a ``SpecError`` (strict) or a skip with a warning (lenient).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Protocol

from seawall import ir
from seawall.build_operations import METHOD_ARGUMENTS, OperationBuilder
from seawall.build_schemas import SchemaBuilder, Unsupported, pointer_of_ref
from seawall.diagnostics import Diagnostic, Location, SpecError, join_pointer
from seawall.naming import Namer, variable_name
from seawall.resolve import follow_pointer


class SpecLike(Protocol):
    """What the build stage needs of ``seawall.resolve.Spec``."""

    @property
    def document(self) -> dict[str, Any]: ...

    def locate(self, pointer: str) -> Location: ...


@dataclass(frozen=True)
class BuildOptions:
    package_name: str | None = None  # distribution name; default from info.title
    package_version: str | None = None  # default: info.version mapped to PEP 440
    lenient: bool = False


# Names the generated client constructor already uses.
CONSTRUCTOR_ARGUMENTS = frozenset(
    {"self", "base_url", "http", "transport", "policy", "headers", "verify", "breaker", "budget", "hooks", "codegen"}
    | {"max_response_bytes", "clock", "random"}
)

_SEMVER = re.compile(
    r"^v?(?P<release>\d+(?:\.\d+){0,3})"
    r"(?:-(?P<pre>alpha|a|beta|b|rc|c|pre|preview)(?:[.-]?(?P<pre_n>\d+))?)?"
    r"(?:\+[0-9A-Za-z.-]+)?$",
    re.IGNORECASE,
)
_PEP440 = re.compile(
    r"^\d+(?:\.\d+)*(?:(?:a|b|rc)\d+)?(?:\.post\d+)?(?:\.dev\d+)?$"
)
_PRE_RELEASE = {"alpha": "a", "a": "a", "beta": "b", "b": "b", "rc": "rc", "c": "rc", "pre": "rc", "preview": "rc"}
_DISTRIBUTION = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")
_DATE_LIKE = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")


def pep440_version(version: str) -> str | None:
    """``1.2.0-rc.1`` → ``1.2.0rc1``; ``None`` when it has no PEP 440 form.

    SemVer build metadata (``+build.5``) is dropped: it does not order
    versions, and PyPI refuses local versions. Dates (``2024-06-01``) and
    Maven's ``-SNAPSHOT`` do not map.
    """
    text = version.strip()
    if _DATE_LIKE.match(text):
        return None
    if _PEP440.match(text):
        return text
    match = _SEMVER.match(text)
    if match is None:
        return None
    result = match["release"]
    if match["pre"]:
        result += _PRE_RELEASE[match["pre"].lower()] + (str(int(match["pre_n"])) if match["pre_n"] else "0")
    return result


def distribution_name(title: str) -> str:
    """``Swagger Petstore - OpenAPI 3.0`` → ``swagger-petstore-openapi-3-0``."""
    ascii_title = unicodedata.normalize("NFKD", title.replace("'", "")).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-") or "api-client"


def import_name(distribution: str) -> str:
    """The import package for a distribution name: ``my-api`` → ``my_api``."""
    return variable_name(distribution.replace(".", "_").replace("-", "_"), fallback="client")


def build_api(spec: SpecLike, options: BuildOptions) -> tuple[ir.Api, list[Diagnostic]]:
    """Build the IR. Raises ``SpecError`` for input it cannot use."""
    return _Builder(spec, options).run()


class _Builder:
    def __init__(self, spec: SpecLike, options: BuildOptions) -> None:
        self.spec = spec
        self.options = options
        self.document = spec.document
        self.warnings: list[Diagnostic] = []
        self.errors: list[Diagnostic] = []

    def resolve(self, pointer: str) -> Any:
        try:
            return follow_pointer(self.document, pointer)
        except (KeyError, ValueError):
            raise Unsupported(f"$ref target #{pointer} does not exist", pointer) from None

    def deref(self, node: Any, pointer: str) -> tuple[Any, str]:
        """Follow ``$ref`` chains (responses, parameters…) to the object they name."""
        seen = set()
        while isinstance(node, dict) and "$ref" in node:
            pointer = pointer_of_ref(node["$ref"], join_pointer(pointer, "$ref"))
            if pointer in seen:
                raise Unsupported("$ref cycle", pointer)
            seen.add(pointer)
            node = self.resolve(pointer)
        return node, pointer

    def problem(self, message: str, pointer: str) -> None:
        """A construct that cannot be generated: error, or warning when lenient."""
        diagnostic = Diagnostic(
            message, self.spec.locate(pointer), "warning" if self.options.lenient else "error"
        )
        (self.warnings if self.options.lenient else self.errors).append(diagnostic)

    def run(self) -> tuple[ir.Api, list[Diagnostic]]:
        package = self.package_info()
        schemas = SchemaBuilder(self.resolve)
        components = (self.document.get("components") or {}).get("schemas") or {}
        schemas.declare_components(components)

        def skipped(name: str, pointer: str, problem: Unsupported) -> None:
            self.problem(f"schema {name!r} ({pointer}) replaced by Any: {problem.message}", problem.pointer)

        schemas.build_pending(skipped)
        security = self.security_schemes()
        known = {scheme.name for scheme in security}
        operations = []
        builder = OperationBuilder(self.document, schemas, self.deref)
        for path, method, item, op in builder.operations_in_order():
            try:
                operations.append(builder.build(path, method, item, op, known))
            except Unsupported as problem:
                self.problem(
                    f"operation {method.upper()} {path} skipped: {problem.message}", problem.pointer
                )
        schemas.build_pending(skipped)  # inline schemas of the operations
        if self.errors:
            raise SpecError(self.errors)
        api = ir.Api(
            package=package,
            servers=self.servers(),
            definitions=tuple(schemas.definitions[name] for name in sorted(schemas.definitions)),
            operations=tuple(sorted(operations, key=lambda op: op.name)),
            security_schemes=security,
        )
        return api, self.warnings

    def package_info(self) -> ir.PackageInfo:
        info = self.document.get("info") or {}
        title = str(info.get("title") or "API")
        api_version = str(info.get("version") or "")
        if self.options.package_name is not None:
            if not _DISTRIBUTION.match(self.options.package_name):
                raise SpecError([_option_error("--package-name", f"{self.options.package_name!r} is not a valid distribution name")])
            dist = re.sub(r"[-_.]+", "-", self.options.package_name).lower()
        else:
            dist = distribution_name(title)
        if self.options.package_version is not None:
            version = self.options.package_version
            if pep440_version(version) != version:
                raise SpecError([_option_error("--package-version", f"{version!r} is not a PEP 440 version (e.g. 1.2.0, 1.2.0rc1)")])
        else:
            mapped = pep440_version(api_version)
            if mapped is None:
                raise SpecError([
                    Diagnostic(
                        f"info.version {api_version!r} has no PEP 440 form for the package version; "
                        "pass --package-version",
                        self.spec.locate("/info/version"),
                    )
                ])
            version = mapped
        return ir.PackageInfo(
            distribution_name=dist,
            import_name=import_name(dist),
            version=version,
            title=title,
            api_version=api_version,
            description=info.get("description") if isinstance(info.get("description"), str) else None,
        )

    def servers(self) -> tuple[ir.Server, ...]:
        servers = []
        for server in self.document.get("servers") or ():
            if not isinstance(server, dict) or not isinstance(server.get("url"), str):
                continue
            url = server["url"]
            for name, variable in (server.get("variables") or {}).items():
                if isinstance(variable, dict) and "default" in variable:
                    url = url.replace("{" + str(name) + "}", str(variable["default"]))
            description = server.get("description")
            servers.append(ir.Server(url, description if isinstance(description, str) else None))
        return tuple(servers)

    def security_schemes(self) -> tuple[ir.SecurityScheme, ...]:
        raw = (self.document.get("components") or {}).get("securitySchemes") or {}
        arguments = Namer(set(CONSTRUCTOR_ARGUMENTS | METHOD_ARGUMENTS))
        schemes = []
        for key in sorted(raw):
            scheme, pointer = self.deref(raw[key], join_pointer("/components/securitySchemes", key))
            if not isinstance(scheme, dict):
                continue
            kind: ir.SecurityKind
            location = "header"
            parameter = "Authorization"
            scheme_type = scheme.get("type")
            if scheme_type == "apiKey" and scheme.get("in") in ("header", "query", "cookie"):
                kind, location, parameter = "api_key", scheme["in"], str(scheme.get("name") or key)
            elif scheme_type == "http" and str(scheme.get("scheme", "")).lower() == "basic":
                kind = "basic"
            elif scheme_type in ("http", "oauth2", "openIdConnect"):
                kind = "bearer"  # a token obtained elsewhere, sent as `Bearer …`
            else:
                self.warnings.append(
                    Diagnostic(f"security scheme {key!r} is not supported; ignored", self.spec.locate(pointer), "warning")
                )
                continue
            description = scheme.get("description")
            schemes.append(
                ir.SecurityScheme(
                    name=str(key),
                    argument=arguments.claim(variable_name(str(key), fallback="credential")),
                    kind=kind,
                    location=location,  # type: ignore[arg-type]
                    parameter_name=parameter,
                    description=description if isinstance(description, str) else None,
                )
            )
        return tuple(schemes)


def _option_error(option: str, message: str) -> Diagnostic:
    return Diagnostic(message, Location(file=option))
