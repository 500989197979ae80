"""Each operation as a saga step: may it be repeated, and how it is undone.

Loaded by the clients' ``operation()`` on first use, so that clients that
take no part in sagas never import the saga package.
"""

from __future__ import annotations

from seawall_runtime.saga import OperationRef

ADD_PET = OperationRef("addPet", False, None)

DELETE_PET = OperationRef("deletePet", True, None)

FIND_PET_BY_ID = OperationRef("findPetById", True, None)

LIST_PETS = OperationRef("listPets", True, None)

BY_OPERATION_ID: dict[str, OperationRef] = {
    "addPet": ADD_PET,
    "deletePet": DELETE_PET,
    "findPetById": FIND_PET_BY_ID,
    "listPets": LIST_PETS,
}
