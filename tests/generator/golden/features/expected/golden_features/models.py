"""Models for the schemas of Golden Features."""

from __future__ import annotations

import datetime
import enum
import uuid
from typing import Annotated, Any, Literal, TypeAlias, Union

from pydantic import Base64Bytes, ConfigDict, Discriminator, Field, Tag
from seawall_runtime import codegen
from seawall_runtime.codegen import Model


class Priority(enum.IntEnum):
    VALUE_1 = 1
    VALUE_2 = 2
    VALUE_3 = 3


class Circle(Model):
    kind: Literal["circle"]
    radius: float


class Everything(Model):
    shape: Shape
    tree: TreeNode | None = None
    priority: Priority | None = None
    mixed: Mixed | None = None
    point: Point | None = None
    labels: Labels | None = None
    owner: EverythingOwner | None = None
    count: int | None = 3
    ratio: float | None = 0.5
    tags: list[str] | None = Field(default_factory=lambda: ["a", "b"])
    secret: str | None = None


class EverythingOwner(Model):
    first_name: str | None = Field(
        default=None, validation_alias="first-name", serialization_alias="first-name"
    )
    self: str | None = None


Labels: TypeAlias = dict[str, str]


Mixed: TypeAlias = Literal["auto", 0, True]


Point: TypeAlias = tuple[float, float]


class Square(Model):
    kind: Literal["square"]
    side: float


Shape: TypeAlias = Annotated[
    Union[Annotated[Circle, Tag("Circle")], Annotated[Square, Tag("Square")]],
    Discriminator(
        codegen.discriminator("kind", {"circle": "Circle", "square": "Square"})
    ),
]


class Strict(Model):
    model_config = ConfigDict(extra="forbid")
    at: datetime.datetime | None = None
    day: datetime.date | None = None
    uid: uuid.UUID | None = None
    raw: Base64Bytes | None = None
    anything: Any = None


class SubmitFormRequest(Model):
    name: str
    scores: list[int] | None = None


class TreeNode(Model):
    value: str | None = None
    children: list[TreeNode] | None = None
