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
from seawall_runtime.codegen import (
    ApiResponse,
    CallOptions,
    Credentials,
    Session,
    returning_value_async,
)

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

    async def get_shape_detailed(
        self,
        id: list[int],
        *,
        x_request_id: uuid.UUID | None = None,
        **options: Unpack[CallOptions],
    ) -> ApiResponse[models.Shape]:
        """GET /shapes/{id}

        ``get_shape`` returns the value; ``get_shape_detailed`` an ApiResponse.
        """
        return await _endpoints.GET_SHAPE.acall(self._session, {'id': id, 'x_request_id': x_request_id}, None, **options)

    get_shape = returning_value_async(get_shape_detailed)

    async def put_everything_detailed(
        self,
        *,
        body: models.Everything | None = None,
        **options: Unpack[CallOptions],
    ) -> ApiResponse[models.Everything | None]:
        """Deprecated.

        PUT /everything

        ``put_everything`` returns the value; ``put_everything_detailed`` an ApiResponse.
        """
        return await _endpoints.PUT_EVERYTHING.acall(self._session, {}, body, **options)

    put_everything = returning_value_async(put_everything_detailed)

    async def put_file_detailed(
        self,
        name: str,
        body: bytes,
        *,
        filter: dict[str, str] | None = None,
        **options: Unpack[CallOptions],
    ) -> ApiResponse[bytes]:
        """PUT /files/{name}

        ``put_file`` returns the value; ``put_file_detailed`` an ApiResponse.
        """
        return await _endpoints.PUT_FILE.acall(self._session, {'name': name, 'filter': filter}, body, **options)

    put_file = returning_value_async(put_file_detailed)

    async def submit_form_detailed(
        self,
        body: models.SubmitFormRequest,
        **options: Unpack[CallOptions],
    ) -> ApiResponse[str]:
        """POST /form

        ``submit_form`` returns the value; ``submit_form_detailed`` an ApiResponse.
        """
        return await _endpoints.SUBMIT_FORM.acall(self._session, {}, body, **options)

    submit_form = returning_value_async(submit_form_detailed)
