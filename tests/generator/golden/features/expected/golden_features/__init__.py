"""Client for Golden Features (API version 2.1)."""

from golden_features.async_client import AsyncClient
from golden_features.client import Client
from golden_features.errors import (
    ApiError,
    ClientError,
    ServerError,
)
from seawall_runtime.codegen import ApiResponse

__version__ = "2.1"

__all__ = [
    "ApiError",
    "ApiResponse",
    "AsyncClient",
    "Client",
    "ClientError",
    "ServerError",
]
