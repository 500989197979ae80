"""The asynchronous client: ``AsyncClient``."""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from random import Random
from typing import TYPE_CHECKING

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
    """Client for Golden Petstore."""

    # The saga log's name for this client: stable across releases.
    service = "golden_petstore"

    def __init__(
        self,
        base_url: str = "https://api.pets.example.com/v1",
        *,
        api_key: str | None = None,
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
            headers=(("X-Api-Key", api_key),),
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

    async def add_pet_detailed(
        self,
        body: models.NewPet,
        *,
        saga: AsyncSaga | SagaStep[AsyncSaga] | None = None,
        **options: Unpack[CallOptions],
    ) -> ApiResponse[models.Pet]:
        """Add a pet

        ``add_pet`` returns the value; ``add_pet_detailed`` an ApiResponse.
        """
        return await _endpoints.ADD_PET.acall(self._session, {}, body, saga, **options)

    add_pet = returning_value_async(add_pet_detailed)

    async def delete_pet_detailed(
        self,
        id: int,
        *,
        saga: AsyncSaga | SagaStep[AsyncSaga] | None = None,
        **options: Unpack[CallOptions],
    ) -> ApiResponse[None]:
        """Deletes a pet. This cannot be undone.

        ``delete_pet`` returns the value; ``delete_pet_detailed`` an ApiResponse.
        """
        return await _endpoints.DELETE_PET.acall(
            self._session, {"id": id}, None, saga, **options
        )

    delete_pet = returning_value_async(delete_pet_detailed)

    async def find_pet_by_id_detailed(
        self,
        id: int,
        *,
        saga: AsyncSaga | SagaStep[AsyncSaga] | None = None,
        **options: Unpack[CallOptions],
    ) -> ApiResponse[models.Pet]:
        """GET /pets/{id}

        ``find_pet_by_id`` returns the value; ``find_pet_by_id_detailed`` an ApiResponse.
        """
        return await _endpoints.FIND_PET_BY_ID.acall(
            self._session, {"id": id}, None, saga, **options
        )

    find_pet_by_id = returning_value_async(find_pet_by_id_detailed)

    async def list_pets_detailed(
        self,
        *,
        tags: list[str] | None = None,
        limit: int | None = None,
        saga: AsyncSaga | SagaStep[AsyncSaga] | None = None,
        **options: Unpack[CallOptions],
    ) -> ApiResponse[list[models.Pet]]:
        """List pets

        ``list_pets`` returns the value; ``list_pets_detailed`` an ApiResponse.
        """
        return await _endpoints.LIST_PETS.acall(
            self._session, {"tags": tags, "limit": limit}, None, saga, **options
        )

    list_pets = returning_value_async(list_pets_detailed)
