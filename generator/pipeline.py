"""The generator's pipeline: each stage is one module, run here in order."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from seawall.diagnostics import Diagnostic

if TYPE_CHECKING:
    from seawall.ir import Api
    from seawall.policies import PolicySet

Progress = Callable[[str], None]


@dataclass(frozen=True)
class GenerateOptions:
    """What the user asked for on the command line."""

    package_name: str | None = None
    package_version: str | None = None
    lenient: bool = False
    overlays: Sequence[Path] = field(default_factory=tuple)


@dataclass
class GenerateResult:
    """Files of the generated project (relative POSIX path → text) and warnings."""

    files: dict[str, str]
    warnings: list[Diagnostic]


def generate_files(
    spec_path: Path, options: GenerateOptions, progress: Progress | None = None
) -> GenerateResult:
    """Run every stage but the last: load → … → format. Raises ``SpecError``."""
    from seawall.load import paused_gc

    # Spec data, IR and views are many small acyclic objects: cyclic garbage
    # collections would walk them all again and again (quadratic on big specs).
    with paused_gc():
        return _generate_files(spec_path, options, progress)


def _generate_files(spec_path: Path, options: GenerateOptions, progress: Progress | None) -> GenerateResult:
    from seawall import build, format, load, policies, render, resolve, upgrade, validate

    report = progress or (lambda _stage: None)
    warnings: list[Diagnostic] = []

    report("load")
    source = load.load_document(spec_path)
    if options.overlays:
        from seawall.overlay import apply_overlays

        report("overlay")
        source, overlay_warnings = apply_overlays(source, options.overlays)
        warnings += overlay_warnings
    report("resolve")
    spec = resolve.resolve(source)
    report("validate")
    warnings += validate.validate(spec, lenient=options.lenient)
    spec = upgrade.upgrade(spec)
    report("policies")
    policy_set, policy_warnings = policies.extract_policies(spec)
    warnings += policy_warnings
    report("build")
    api, build_warnings = build.build_api(
        spec,
        build.BuildOptions(
            package_name=options.package_name,
            package_version=options.package_version,
            lenient=options.lenient,
        ),
    )
    warnings += build_warnings
    api = attach_policies(api, policy_set)
    report("render")
    files = render.render_package(api)
    report("format")
    files = format.format_files(files)
    return GenerateResult(files=files, warnings=warnings)


def attach_policies(api: Api, policy_set: PolicySet) -> Api:
    """Join the effective policies (by method and path) onto the IR's operations."""
    by_route = {(p.method.upper(), p.path): p for p in policy_set.operations}
    operations = tuple(
        replace(op, policy=by_route.get((op.method, op.path))) for op in api.operations
    )
    return replace(
        api, operations=operations, breaker=policy_set.breaker, budget=policy_set.budget
    )
