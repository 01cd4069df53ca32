"""Reading specs from JSON: syntax errors with line and column, schema errors with their path."""

from __future__ import annotations

import json
from typing import Any

import pytest

from msgsess.errors import CorruptFile, InvalidParameter
from msgsess.session import jsonspec


def specs(text: str) -> list[tuple[str, dict[str, Any]]]:
    return list(jsonspec.iter_specs(text, "in.json"))


def test_one_object_an_array_and_json_lines() -> None:
    one = '{"subject": "a"}'
    assert specs(one) == [("in.json line 1", {"subject": "a"})]
    assert [s for _, s in specs('[{"subject": "a"}, {"subject": "b"}]')] == [
        {"subject": "a"},
        {"subject": "b"},
    ]
    lines = specs('\ufeff{"subject": "a"}\n\n{"subject": "b"}\n{"subject": "c"}\n')
    assert [w for w, _ in lines] == ["in.json line 1", "in.json line 3", "in.json line 4"]


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ('{"subject": "a",}', 1, 17),
        ('{"subject": "a"}\n{"to": ["x",]}\n', 2, 13),
        ('[{"a": 1}] x', 1, 12),
        ("{'subject': 1}", 1, 2),
    ],
)
def test_syntax_errors_name_line_and_column(text: str, line: int, column: int) -> None:
    with pytest.raises(CorruptFile, match=f"line {line}, column {column}"):
        specs(text)


def test_empty_input() -> None:
    with pytest.raises(CorruptFile, match="no JSON input"):
        specs("  \n")


@pytest.mark.parametrize(
    ("spec", "where", "path", "problem"),
    [
        ({"subject": 1}, "line 1", "$.subject", "expected a string, got a number"),
        ({"to": "bob@example.com"}, "line 1", "$.to", "expected an array"),
        ({"to": ["a@example.com", 3]}, "line 1", "$.to[1]", "expected an address string"),
        ({"to": [{"adress": "a@example.com"}]}, "line 1", "$.to[0]", "missing key 'address'"),
        ({"importance": "urgent"}, "line 1", "$.importance", '"urgent" is not one of'),
        ({"attachments": [{"name": "x"}]}, "line 1", "$.attachments[0]", "exactly one source"),
        ({"attachments": [{"file": "a", "data": ""}]}, "line 1", "$.attachments[0]", "exactly one source"),
        ({"colour": "red"}, "line 1", "$.colour", "unknown key 'colour'"),
        ({"headers": ["no colon"]}, "line 1", "$.headers[0]", "expected form"),
        ({"properties": {"": 1}}, "line 1", '$.properties[""]', "key must not be empty"),
        ({"id": "has space"}, "line 1", "$.id", "expected form"),
    ],
)
def test_schema_errors_name_the_json_path(spec: dict[str, Any], where: str, path: str, problem: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        specs(json.dumps(spec))
    assert info.value.where == (f"in.json {where}", path)
    assert str(info.value).startswith(f"in.json {where}: {path}: ")
    assert problem in info.value.message


def test_array_items_are_named_by_index() -> None:
    with pytest.raises(InvalidParameter, match=r"in\.json: \$\[1\]\.draft: expected a boolean"):
        specs('[{"draft": true}, {"draft": "yes"}]')


def test_the_schema_example_is_valid() -> None:
    for example in jsonspec.schema()["examples"]:
        assert jsonspec.validate(example) == example


def test_schema_keys_match_what_compose_reads() -> None:
    from msgsess.spec import ADD_ONLY_KEYS, KEYS

    # "replace" tells `add --json` what to do with the message; it is never part of one.
    assert set(jsonspec.schema()["properties"]) - ADD_ONLY_KEYS <= KEYS


# --- issue 9, item 9: deep nesting and huge integers were internal errors ------------------


@pytest.mark.parametrize(
    "text",
    [
        "[" * 3000 + "]" * 3000,  # RecursionError in the decoder
        '{"output": "a.msg", "properties": {"0x66001003": ' + "[" * 3000 + "]" * 3000 + "}}",
        '{"output": "a.msg", "properties": {"0x66001003": ' + "[" * 100 + "]" * 100 + "}}",  # decodes
        '{"subject": "a"}\n' + '{"to": ' + "[" * 900 + "]" * 900 + "}",
    ],
)
def test_json_nested_too_deep_is_damaged_input(text: str) -> None:
    with pytest.raises(CorruptFile, match=f"deeper than {jsonspec.MAX_DEPTH} levels") as caught:
        specs(text)
    assert "\n" not in caught.value.one_line()


def test_json_nested_as_deep_as_allowed_is_read() -> None:
    depth = jsonspec.MAX_DEPTH - 2  # the object and its properties are two levels
    value = json.loads("[" * depth + "1" + "]" * depth)
    spec = {"properties": {"0x66001003": value}}
    assert specs(json.dumps(spec))[0][1] == spec


def test_the_line_of_a_deep_value_is_named() -> None:
    text = '{"subject": "a"}\n\n' + "[" * 70 + "]" * 70
    with pytest.raises(CorruptFile) as caught:
        specs(text)
    assert caught.value.where == ("in.json",)
    assert caught.value.message.startswith("JSON value at line 3, column 1 nests")


@pytest.mark.parametrize("digits", ["9" * 5000, "-" + "9" * 5000, "1" * 101])
def test_an_integer_with_thousands_of_digits_is_an_invalid_value(digits: str) -> None:
    text = '{"subject": "a"}\n{"properties": {"0x66000003": ' + digits + "}}"
    with pytest.raises(InvalidParameter) as caught:
        specs(text)
    length = len(digits.lstrip("-"))
    assert caught.value.where == ("in.json",)
    assert str(caught.value) == f"in.json: number at line 2, column 31 has {length} digits"


def test_integers_of_a_hundred_digits_still_reach_the_value_checks() -> None:
    text = '{"properties": {"0x66000003": ' + "1" * 100 + "}}"
    assert specs(text)[0][1]["properties"]["0x66000003"] == int("1" * 100)
