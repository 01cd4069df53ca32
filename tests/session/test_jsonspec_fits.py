"""The schema's compiled predicates (jsonspec._Compiler) give the verdicts of its interpreter
(jsonspec._Validator), which names the problems: on every node of message.schema.json, for
values drawn from the schema's own keys, enums and patterns and for arbitrary JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from msgsess.session import jsonspec

SCHEMA = jsonspec.schema()
VALIDATOR = jsonspec._Validator(SCHEMA)
COMPILER = jsonspec._Compiler(SCHEMA)
NODES = {"$": SCHEMA, **{f"#/$defs/{name}": node for name, node in SCHEMA["$defs"].items()}}


def _schema_words() -> list[Any]:
    """Keys, enum values and examples found anywhere in the schema: values that nearly fit."""
    found: list[Any] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("properties", "required"):
                    found.extend(value)
                if key == "enum":
                    found.extend(value)
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(SCHEMA)
    return sorted({json.dumps(v) for v in found} - {"null"})


WORDS = [json.loads(w) for w in _schema_words()]
TEXT = st.one_of(
    st.sampled_from([w for w in WORDS if isinstance(w, str)]),
    st.sampled_from(
        ["", "a@example.com", "Bob <bob@example.com>", "{\\rtf1 x}", "X-A: b", "2024-05-01", "0x1F"]
    ),
    st.text(max_size=8),
)
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 200), st.floats(allow_nan=False, width=32), TEXT
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from([w for w in WORDS if isinstance(w, str)]), TEXT), inner, max_size=5
        ),
    ),
    max_leaves=25,
)


def _guided(node: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values shaped by a schema node (most fit it), each part sometimes any value instead."""
    if "$ref" in node:
        node = VALIDATOR.resolve(node["$ref"])
    if depth > 4:
        return SCALARS
    shaped: list[st.SearchStrategy[Any]] = []
    if "oneOf" in node:
        shaped.extend(_guided(branch, depth + 1) for branch in node["oneOf"])
    if "enum" in node:
        shaped.append(st.sampled_from(node["enum"]))
    kinds = node.get("type")
    for kind in [kinds] if isinstance(kinds, str) else kinds or ():
        if kind == "object":
            props = {key: _guided(sub, depth + 1) for key, sub in node.get("properties", {}).items()}
            required = {key: props.pop(key, SCALARS) for key in node.get("required", ())}
            shaped.append(st.fixed_dictionaries(required, optional=props))
        elif kind == "array":
            shaped.append(st.lists(_guided(node.get("items", {}), depth + 1), max_size=3))
        elif kind == "string" and node.get("pattern"):
            shaped.append(st.from_regex(node["pattern"]))
        elif kind == "string":
            shaped.append(
                st.text(min_size=node.get("minLength", 0), max_size=node.get("minLength", 0) + 6) | TEXT
            )
        elif kind in ("integer", "number"):
            shaped.append(st.integers(-2, 120))
        elif kind == "boolean":
            shaped.append(st.booleans())
    if not shaped:
        return VALUES
    return st.one_of(*shaped) | st.one_of(*shaped) | st.one_of(*shaped) | VALUES


def _agree(value: Any) -> None:
    for name, node in NODES.items():
        problem = VALIDATOR.check(value, node, "$")
        assert COMPILER.fits(node)(value) is (problem is None), (name, value, problem)


@settings(max_examples=700, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(VALUES)
def test_compiled_predicates_agree_with_the_interpreter(value: Any) -> None:
    _agree(value)


@settings(max_examples=700, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(sorted(NODES)).flatmap(lambda name: _guided(NODES[name])))
def test_compiled_predicates_agree_on_values_shaped_by_the_schema(value: Any) -> None:
    _agree(value)


@pytest.mark.parametrize("example", SCHEMA["examples"])
def test_the_schema_examples_fit_both_ways(example: Any) -> None:
    assert VALIDATOR.check(example, SCHEMA, "$") is None
    _agree(example)


def test_near_misses_agree() -> None:
    # Each value of the add matrix (good and bad ones) under each key, alone.
    from tests.session.test_add_fast_check import _specs

    for spec in _specs():
        _agree(spec)
        for key, value in spec.items():
            _agree({key: value})
    assert jsonspec.validate({"subject": "a"}) == {"subject": "a"}
    with pytest.raises(Exception, match=r"\$\.to\[1\]: expected an address string"):
        jsonspec.validate({"to": ["a@example.com", 3]})
