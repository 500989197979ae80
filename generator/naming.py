"""Python identifiers from arbitrary spec names: valid, readable and distinct.

Rules (documented for users in the generated README):

* Non-ASCII letters are transliterated where Unicode allows (``é`` → ``e``),
  other punctuation separates words; a leading digit gets a prefix.
* Keywords and names that would shadow something the generated code relies on
  (builtin types used in annotations, pydantic's ``BaseModel`` attributes, the
  package's own ``Client``/``ApiError``…) get a trailing ``_`` or a suffix.
* Names that collide after conversion are made distinct with ``_2``, ``_3``…
  in the order they are first seen (callers feed names in a sorted order so
  the result is deterministic).
"""

from __future__ import annotations

import functools
import keyword
import re
import unicodedata

_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NON_WORD = re.compile(r"[^0-9A-Za-z]+")

# Builtins the generated code names in annotations and bodies: a field or
# argument with one of these names would shadow it.
SHADOWING_BUILTINS = frozenset(
    {"str", "int", "float", "bool", "bytes", "list", "dict", "tuple", "object", "set"}
)

# BaseModel's public attributes and methods (pydantic v2 plus the deprecated
# v1 names it still defines): a field with one of these names breaks the model.
PYDANTIC_RESERVED = frozenset(
    {
        "construct", "copy", "dict", "fields", "from_orm", "json", "parse_file", "parse_obj",
        "parse_raw", "schema", "schema_json", "update_forward_refs", "validate",
        "model_computed_fields", "model_config", "model_construct", "model_copy", "model_dump",
        "model_dump_json", "model_extra", "model_fields", "model_fields_set",
        "model_json_schema", "model_parametrized_name", "model_post_init", "model_rebuild",
        "model_validate", "model_validate_json", "model_validate_strings",
    }
)  # fmt: skip

# Module names the generated models import; a field named like one would hide it.
MODULE_NAMES = frozenset({"datetime", "uuid", "enum", "typing", "pydantic", "annotations"})

# Class names the generated package or its imports already use.
RESERVED_CLASS_NAMES = frozenset(
    {
        "Client", "AsyncClient", "Response", "Error", "ApiError", "ApiResponse", "BaseModel",
        "RootModel", "ConfigDict", "Field", "Any", "Literal", "Annotated", "Union", "Optional",
        "Enum", "IntEnum", "Tag", "Discriminator", "UUID", "TypeAdapter", "Model", "Base64Bytes",
        "TypeAlias",
    }
)  # fmt: skip


def split_words(name: str) -> list[str]:
    """Words of a name in any convention: camelCase, snake_case, kebab, spaces."""
    return list(_words(name))


@functools.lru_cache(maxsize=8192)
def _words(name: str) -> tuple[str, ...]:
    # Cached: big specs name the same properties and parameters thousands of times.
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    spaced = _WORD_BOUNDARY.sub(" ", ascii_name)
    return tuple(word for word in _NON_WORD.split(spaced) if word)


def snake_case(name: str) -> str:
    """``petId`` → ``pet_id``; ``HTTPStatus`` → ``http_status``. May be empty."""
    return "_".join(word.lower() for word in _words(name))


def pascal_case(name: str) -> str:
    """``pet owner`` → ``PetOwner``; existing inner capitals are kept."""
    return "".join(word[0].upper() + word[1:] for word in _words(name))


def variable_name(name: str, *, fallback: str = "value") -> str:
    """A snake_case identifier for a field, argument or method (not yet unique)."""
    result = snake_case(name) or fallback
    if result[0].isdigit():
        result = f"{fallback}_{result}"
    if (
        keyword.iskeyword(result)
        or keyword.issoftkeyword(result)
        or result in SHADOWING_BUILTINS
        or result in PYDANTIC_RESERVED
        or result in MODULE_NAMES
        or result.startswith("model_")
    ):
        result += "_"
    return result


def class_name(name: str, *, fallback: str = "Schema") -> str:
    """A PascalCase identifier for a model or enum (not yet unique)."""
    result = pascal_case(name) or fallback
    if result[0].isdigit():
        result = f"{fallback}{result}"
    if result in RESERVED_CLASS_NAMES or keyword.iskeyword(result):
        result += "Model"
    return result


def constant_name(value: object, *, fallback: str = "VALUE") -> str:
    """An UPPER_SNAKE enum member name for a value (not yet unique)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return fallback
    if isinstance(value, int):
        return f"{fallback}_MINUS_{-value}" if value < 0 else f"{fallback}_{value}"
    result = snake_case(value).upper() or fallback
    if result[0].isdigit():
        result = f"{fallback}_{result}"
    return result


class Namer:
    """Hands out distinct names in one scope: ``pet``, ``pet_2``, …

    ``taken`` are names the scope already uses (never handed out).
    """

    def __init__(self, taken: frozenset[str] | set[str] = frozenset()) -> None:
        self._used = set(taken)
        self._used_folded = {name.casefold() for name in taken}

    def is_free(self, name: str) -> bool:
        """Whether ``name`` could be claimed unchanged."""
        return name not in self._used and name.casefold() not in self._used_folded

    def claim(self, candidate: str, *, separator: str = "_") -> str:
        """Return ``candidate``, or ``candidate_N`` if it is taken.

        Names are compared case-insensitively as well, so ``Pet`` and ``PET``
        cannot both become modules or classes on a case-insensitive disk.
        """
        name = candidate
        counter = 2
        while not self.is_free(name):
            name = f"{candidate}{separator}{counter}"
            counter += 1
        self._used.add(name)
        self._used_folded.add(name.casefold())
        return name
