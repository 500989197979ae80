"""The asynchronous client: ``AsyncClient``."""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from random import Random
from typing import TYPE_CHECKING
import uuid

from seawall_runtime import codegen
import httpx
from seawall_runtime import (
    AsyncResilientClient,
    BreakerPolicy,
    BudgetPolicy,
    Clock,
    Hooks,
    Policy,
)
from seawall_runtime.codegen import (
    DEFAULT_MAX_RESPONSE_BYTES,
    ApiResponse,
    CallOptions,
    Credentials,
    SagaStep,
    Session,
    returning_value_async,
)

from . import _endpoints, models

if TYPE_CHECKING:
    from seawall_runtime.saga import Arguments, AsyncSaga, OperationRef, StepResult
    from typing_extensions import Unpack


class AsyncClient:
    """Client for Golden Features."""

    # The saga log's name for this client: stable across releases.
    service = "golden_features"

    def __init__(
        self,
        base_url: str = "https://features.example.com",
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
        max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES,
        clock: Clock | None = None,
        random: Random | None = None,
    ) -> None:
        credentials = Credentials(
            basic=basic,
            cookies=(("sid", cookie_key),),
            headers=(("Authorization", codegen.bearer(token)),),
            query=(("key", query_key),),
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
            max_response_bytes=max_response_bytes,
            clock=clock,
            random=random,
            sensitive_headers=credentials.header_names,
        )
        self._session = Session(
            self.runtime,
            policy or Policy(),
            credentials,
            _endpoints.BY_OPERATION_ID,
            self,
        )

    def operation(self, name: str) -> OperationRef:
        """How a saga may repeat and undo operation ``name`` (an operationId).

        Raises KeyError if the API has no such operation.
        """
        # The saga module is loaded only when sagas use this client.
        from . import _sagas

        return _sagas.BY_OPERATION_ID[name]

    async def invoke(
        self,
        operation: str,
        arguments: Arguments,
        *,
        idempotency_key: str,
        policy: Policy | None = None,
    ) -> StepResult:
        """Call ``operation`` for a saga with canonical arguments.

        Returns any HTTP answer (see docs/sagas.md in seawall).
        """
        endpoint = _endpoints.BY_OPERATION_ID[operation]
        return await endpoint.ainvoke(
            self._session, arguments, idempotency_key=idempotency_key, policy=policy
        )

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
        saga: AsyncSaga | SagaStep[AsyncSaga] | None = None,
        **options: Unpack[CallOptions],
    ) -> ApiResponse[models.Shape]:
        """GET /shapes/{id}

        ``get_shape`` returns the value; ``get_shape_detailed`` an ApiResponse.
        """
        return await _endpoints.GET_SHAPE.acall(
            self._session,
            {"id": id, "x_request_id": x_request_id},
            None,
            saga,
            **options,
        )

    get_shape = returning_value_async(get_shape_detailed)

    async def put_everything_detailed(
        self,
        *,
        body: models.Everything | None = None,
        saga: AsyncSaga | SagaStep[AsyncSaga] | None = None,
        **options: Unpack[CallOptions],
    ) -> ApiResponse[models.Everything | None]:
        """Deprecated.

        PUT /everything

        ``put_everything`` returns the value; ``put_everything_detailed`` an ApiResponse.
        """
        return await _endpoints.PUT_EVERYTHING.acall(
            self._session, {}, body, saga, **options
        )

    put_everything = returning_value_async(put_everything_detailed)

    async def put_file_detailed(
        self,
        name: str,
        body: bytes,
        *,
        filter: dict[str, str] | None = None,
        saga: AsyncSaga | SagaStep[AsyncSaga] | None = None,
        **options: Unpack[CallOptions],
    ) -> ApiResponse[bytes]:
        """PUT /files/{name}

        ``put_file`` returns the value; ``put_file_detailed`` an ApiResponse.
        """
        return await _endpoints.PUT_FILE.acall(
            self._session, {"name": name, "filter": filter}, body, saga, **options
        )

    put_file = returning_value_async(put_file_detailed)

    async def submit_form_detailed(
        self,
        body: models.SubmitFormRequest,
        *,
        saga: AsyncSaga | SagaStep[AsyncSaga] | None = None,
        **options: Unpack[CallOptions],
    ) -> ApiResponse[str]:
        """POST /form

        ``submit_form`` returns the value; ``submit_form_detailed`` an ApiResponse.
        """
        return await _endpoints.SUBMIT_FORM.acall(
            self._session, {}, body, saga, **options
        )

    submit_form = returning_value_async(submit_form_detailed)
