"""Generate the example services' clients into a directory and import them.

    clients = generate_clients(Path(".demo/clients"))
    clients["orders"].AsyncClient(url)

Each spec in ``specs/`` becomes the package ``<service>_client`` (so the
names cannot clash with ``seawall.examples.orders`` and friends) under
``directory/<service>``; that folder is put on ``sys.path`` and the package
imported. The generator runs in process, exactly as ``seawall generate`` does.

:func:`invokers` builds the three generated clients from the environment, for
``seawall sagas recover --invokers seawall.examples.generated:invokers``.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from seawall.examples.apps import SERVICE_NAMES, ServiceName

SPECS_DIR = Path(__file__).resolve().parents[2] / "specs"
# Where :func:`invokers` finds the generated packages and the services.
CLIENTS_DIR_VARIABLE = "SEAWALL_CLIENTS_DIR"
URL_VARIABLES: dict[ServiceName, str] = {
    service: f"SEAWALL_{service.upper()}_URL" for service in SERVICE_NAMES
}


def package_name(service: ServiceName) -> str:
    """The generated package's import name for one service."""
    return f"{service}_client"


def spec_path(service: ServiceName) -> Path:
    """The annotated spec a service implements."""
    return SPECS_DIR / f"{service}.yaml"


def _forget(package: str) -> None:
    """Drop an earlier import of ``package`` so the new files are the ones used."""
    for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
        del sys.modules[name]


def _import_from(package: str, folder: Path) -> ModuleType:
    loaded = sys.modules.get(package)
    if loaded is not None and Path(loaded.__file__ or "").parent.parent == folder:
        return loaded
    _forget(package)
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    importlib.invalidate_caches()
    return importlib.import_module(package)


def generate_package(spec: Path, folder: Path, package: str) -> ModuleType:
    """Generate ``spec`` as ``package`` into ``folder`` and import it from there.

    Raises ``seawall.diagnostics.SpecError`` if the spec does not generate.
    """
    from seawall import pipeline, write

    folder = folder.resolve()
    result = pipeline.generate_files(spec, pipeline.GenerateOptions(package_name=package))
    write.write_project(result.files, folder)
    return _import_from(package, folder)


def generate_clients(
    directory: Path, services: tuple[ServiceName, ...] = SERVICE_NAMES
) -> dict[ServiceName, ModuleType]:
    """Generate and import the clients of ``services``; service name → package module."""
    return {
        service: generate_package(spec_path(service), directory / service, package_name(service))
        for service in services
    }


def import_clients(
    directory: Path, services: tuple[ServiceName, ...] = SERVICE_NAMES
) -> dict[ServiceName, ModuleType]:
    """Import clients :func:`generate_clients` generated into ``directory`` earlier."""
    return {
        service: _import_from(package_name(service), (directory / service).resolve())
        for service in services
    }


def _environment(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise LookupError(f"the environment variable {name} is not set")
    return value


def invokers() -> dict[str, Any]:
    """The example services' generated sync clients, keyed by their saga service names.

    Reads ``SEAWALL_CLIENTS_DIR`` (the directory given to :func:`generate_clients`)
    and ``SEAWALL_ORDERS_URL``, ``SEAWALL_INVENTORY_URL``, ``SEAWALL_PAYMENTS_URL``.
    The clients live as long as the process: recovery is a short command.
    """
    packages = import_clients(Path(_environment(CLIENTS_DIR_VARIABLE)))
    clients = [
        packages[service].Client(_environment(URL_VARIABLES[service])) for service in SERVICE_NAMES
    ]
    return {client.service: client for client in clients}
