"""Client for Golden Features (API version 2.1)."""

from .async_client import AsyncClient
from .client import Client
from .errors import (
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
