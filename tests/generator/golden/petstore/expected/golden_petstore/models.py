"""Models for the schemas of Golden Petstore."""

from __future__ import annotations

import enum

from seawall_runtime.codegen import Model


class PetStatus(str, enum.Enum):
    AVAILABLE = "available"
    PENDING = "pending"
    SOLD = "sold"


class ErrorModel(Model):
    code: int
    message: str


class NewPet(Model):
    name: str
    tag: str | None = None


class Pet(NewPet):
    """A pet with its id."""

    id: int | None = None
    status: PetStatus | None = PetStatus.AVAILABLE
