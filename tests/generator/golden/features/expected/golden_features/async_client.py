"""The asynchronous client: ``AsyncClient``."""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import TYPE_CHECKING
import uuid

from seawall_runtime import codegen
import httpx
from seawall_runtime import (
    AsyncResilientClient,
    BreakerPolicy,
    BudgetPolicy,
    Hooks,
    Policy,
)
from seawall_runtime.codegen import ApiResponse, CallOptions, Credentials, Session

from . import _endpoints, models

if TYPE_CHECKING:
    from typing_extensions import Unpack


class AsyncClient:
    """Client for Golden Features."""

    def __init__(
        self,
        base_url: str = 'https://features.example.com',
        *,
        basic: tuple[str, str] | None = None,
        cookie_key: str | None = None,
        query_key: str | None = None,
        token: str | None = None,
        http: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        policy: Policy | None = None,
        breaker: BreakerPolicy | None = BreakerPolicy(),
        budget: BudgetPolicy | None = BudgetPolicy(),
        headers: Mapping[str, str] | None = None,
        verify: bool | ssl.SSLContext = True,
        hooks: Hooks | None = None,
    ) -> None:
        credentials = Credentials(
            basic=basic,
            cookies=(
                ('sid', cookie_key),
            ),
            headers=(
                ('Authorization', codegen.bearer(token)),
            ),
            query=(
                ('key', query_key),
            ),
        )
        self.runtime = AsyncResilientClient(
            "" if http is not None else base_url,
            http=http,
            transport=transport,
            policy=policy,
            breaker=breaker,
            budget=budget,
            headers=headers,
            verify=verify,
            hooks=hooks,
            sensitive_headers=credentials.header_names,
        )
        self._session = Session(self.runtime, policy or Policy(), credentials)

    async def aclose(self) -> None:
        """Close the HTTP client if this client opened it."""
        await self.runtime.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def get_shape(
        self,
        id: list[int],
        *,
        x_request_id: uuid.UUID | None = None,
        **options: Unpack[CallOptions],
    ) -> models.Shape:
        """GET /shapes/{id}"""
        response = await self.get_shape_detailed(id, x_request_id=x_request_id, **options)
        return response.value

    async def get_shape_detailed(
        self,
        id: list[int],
        *,
        x_request_id: uuid.UUID | None = None,
        **options: Unpack[CallOptions],
    ) -> ApiResponse[models.Shape]:
        """Like ``get_shape``, with the status, headers, idempotency key and attempts."""
        return await _endpoints.GET_SHAPE.acall(self._session, {'id': id, 'x_request_id': x_request_id}, None, **options)

    async def put_everything(
        self,
        *,
        body: models.Everything | None = None,
        **options: Unpack[CallOptions],
    ) -> models.Everything | None:
        """Deprecated.

        PUT /everything
        """
        response = await self.put_everything_detailed(body=body, **options)
        return response.value

    async def put_everything_detailed(
        self,
        *,
        body: models.Everything | None = None,
        **options: Unpack[CallOptions],
    ) -> ApiResponse[models.Everything | None]:
        """Like ``put_everything``, with the status, headers, idempotency key and attempts."""
        return await _endpoints.PUT_EVERYTHING.acall(self._session, {}, body, **options)

    async def put_file(
        self,
        name: str,
        body: bytes,
        *,
        filter: dict[str, str] | None = None,
        **options: Unpack[CallOptions],
    ) -> bytes:
        """PUT /files/{name}"""
        response = await self.put_file_detailed(name, body, filter=filter, **options)
        return response.value

    async def put_file_detailed(
        self,
        name: str,
        body: bytes,
        *,
        filter: dict[str, str] | None = None,
        **options: Unpack[CallOptions],
    ) -> ApiResponse[bytes]:
        """Like ``put_file``, with the status, headers, idempotency key and attempts."""
        return await _endpoints.PUT_FILE.acall(self._session, {'name': name, 'filter': filter}, body, **options)

    async def submit_form(
        self,
        body: models.SubmitFormRequest,
        **options: Unpack[CallOptions],
    ) -> str:
        """POST /form"""
        response = await self.submit_form_detailed(body, **options)
        return response.value

    async def submit_form_detailed(
        self,
        body: models.SubmitFormRequest,
        **options: Unpack[CallOptions],
    ) -> ApiResponse[str]:
        """Like ``submit_form``, with the status, headers, idempotency key and attempts."""
        return await _endpoints.SUBMIT_FORM.acall(self._session, {}, body, **options)
