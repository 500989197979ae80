"""Python identifiers from spec names."""

from __future__ import annotations

import keyword

import pytest

from seawall.naming import Namer, class_name, constant_name, pascal_case, snake_case, variable_name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("petId", "pet_id"),
        ("HTTPStatus", "http_status"),
        ("X-Rate-Limit", "x_rate_limit"),
        ("model.reference.with.Periods", "model_reference_with_periods"),
        ("Éléphant größe", "elephant_groe"),
        ("!!!", ""),
    ],
)
def test_snake_case(name: str, expected: str) -> None:
    assert snake_case(name) == expected


def test_pascal_case_keeps_inner_capitals() -> None:
    assert pascal_case("pet owner") == "PetOwner"
    assert pascal_case("getPetByID") == "GetPetByID"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("class", "class_"),
        ("None", "none"),
        ("match", "match_"),
        ("str", "str_"),
        ("json", "json_"),
        ("model_config", "model_config_"),
        ("modelName", "model_name_"),
        ("datetime", "datetime_"),
        ("1st", "value_1st"),
        ("_private", "private"),
        ("@@", "value"),
        ("id", "id"),
        ("type", "type"),
    ],
)
def test_variable_names_are_valid_and_do_not_shadow(name: str, expected: str) -> None:
    result = variable_name(name)
    assert result == expected
    assert result.isidentifier() and not keyword.iskeyword(result)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("200_response", "Schema200Response"), ("Client", "ClientModel"), ("Error", "ErrorModel"), ("pet-owner", "PetOwner"), ("", "Schema")],
)
def test_class_names(name: str, expected: str) -> None:
    assert class_name(name) == expected


def test_constant_names() -> None:
    assert constant_name("sold out") == "SOLD_OUT"
    assert constant_name(-3) == "VALUE_MINUS_3"
    assert constant_name("") == "VALUE"
    assert constant_name("2nd") == "VALUE_2ND"


def test_namer_makes_names_distinct_case_insensitively() -> None:
    namer = Namer({"self"})
    assert [namer.claim(n) for n in ["self", "pet", "pet", "PET"]] == ["self_2", "pet", "pet_2", "PET_3"]
    assert not namer.is_free("Pet") and namer.is_free("owner")
