"""Errors for the responses the API documents as failures.

Every error the server answers with is an :class:`ApiError` (a subclass of
``seawall_runtime.ApiError``) carrying ``status``, ``headers``, ``body`` (parsed
into the documented model when there is one) and ``content`` (raw bytes).
"""

from __future__ import annotations

import seawall_runtime


class ApiError(seawall_runtime.ApiError):
    """The server answered with an error status (any status not documented too)."""


class ClientError(ApiError):
    """The server answered with a 4XX status."""


class ServerError(ApiError):
    """The server answered with a 5XX status."""
