"""How each operation goes on the wire: one ``Endpoint`` per operation.

Shared by the sync and async clients.
"""

from __future__ import annotations

from typing import Any

from seawall_runtime import Operation
from seawall_runtime.codegen import Body, Endpoint, Param, Reply

from . import errors, models

ADD_PET: Endpoint[models.Pet] = Endpoint(
    Operation("addPet", "POST", "/pets"),
    body=Body("json", "application/json", models.NewPet),
    replies={
        "201": Reply("json", models.Pet),
        "422": Reply("json", models.ErrorModel, error=errors.UnprocessableEntityError),
    },
    unexpected=errors.ApiError,
    accept="application/json",
)

DELETE_PET: Endpoint[None] = Endpoint(
    Operation("deletePet", "DELETE", "/pets/{id}"),
    params=(Param("id", "id", "path", "simple", False),),
    replies={
        "204": Reply("empty"),
    },
    unexpected=errors.ApiError,
)

FIND_PET_BY_ID: Endpoint[models.Pet] = Endpoint(
    Operation("findPetById", "GET", "/pets/{id}"),
    params=(Param("id", "id", "path", "simple", False),),
    replies={
        "200": Reply("json", models.Pet),
        "404": Reply("json", models.ErrorModel, error=errors.NotFoundError),
    },
    unexpected=errors.ApiError,
    accept="application/json",
)

LIST_PETS: Endpoint[list[models.Pet]] = Endpoint(
    Operation("listPets", "GET", "/pets"),
    params=(
        Param("tags", "tags", "query", "form", True),
        Param("limit", "limit", "query", "form", True),
    ),
    replies={
        "200": Reply("json", list[models.Pet]),
        "default": Reply("json", models.ErrorModel, error=errors.DefaultResponseError),
    },
    unexpected=errors.ApiError,
    accept="application/json",
)

BY_OPERATION_ID: dict[str, Endpoint[Any]] = {
    "addPet": ADD_PET,
    "deletePet": DELETE_PET,
    "findPetById": FIND_PET_BY_ID,
    "listPets": LIST_PETS,
}
