"""The generator's pipeline: each stage is one module, run here in order."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from seawall.diagnostics import Diagnostic

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
    from seawall import build, format, load, render, resolve, upgrade, validate

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
    report("render")
    files = render.render_package(api)
    report("format")
    files = format.format_files(files)
    return GenerateResult(files=files, warnings=warnings)
