"""Client for Golden Petstore (API version 1.0.0-rc.1)."""

from .async_client import AsyncClient
from .client import Client
from .errors import (
    ApiError,
    DefaultResponseError,
    NotFoundError,
    UnprocessableEntityError,
)
from seawall_runtime.codegen import ApiResponse

__version__ = "1.0.0rc1"

__all__ = [
    "ApiError",
    "ApiResponse",
    "AsyncClient",
    "Client",
    "DefaultResponseError",
    "NotFoundError",
    "UnprocessableEntityError",
]
