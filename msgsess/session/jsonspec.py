"""Reading message specs from JSON text and checking them against ``message.schema.json``.

Input is one object, an array of objects, or JSON Lines (objects one after another). Syntax
errors name the line and column; schema violations name the JSON path (``$.to[0]``) of the
value at fault. The validator is a small interpreter of the keywords our schema uses, driven
by the schema file itself (no third-party dependency, nothing to import at startup).
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Mapping

from msgsess.errors import CorruptFile, InvalidParameter
from msgsess.records import Frozen

TYPE_CHECKING = False  # no typing or dataclasses at run time: add imports this module
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any

    #: Whether a value fits a schema node: the verdict of :meth:`_Validator.check` without its problem.
    Fits = Callable[[Any], bool]

_SCHEMA_FILE = "message.schema.json"
_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "boolean": (bool,),
    "number": (int, float),
    "integer": (int,),
    "null": (type(None),),
}


@functools.cache
def schema() -> dict[str, Any]:
    """The message schema shipped with the package."""
    # Beside the package's modules (package data); read directly: importlib.resources costs start-up.
    with open(os.path.join(os.path.dirname(os.path.dirname(__file__)), _SCHEMA_FILE), encoding="utf-8") as f:
        text = f.read()
    value: dict[str, Any] = json.loads(text)
    return value


class Problem(Frozen):
    """Where a spec does not fit the schema (a JSON path) and how."""

    __slots__ = _fields = ("path", "message")
    path: str
    message: str

    def __init__(self, path: str, message: str) -> None:
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "message", message)


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _is_type(value: Any, name: str) -> bool:
    if isinstance(value, bool) and name in ("number", "integer"):
        return False
    return isinstance(value, _JSON_TYPES[name])


class _Validator:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root

    def resolve(self, ref: str) -> Mapping[str, Any]:
        if not ref.startswith("#/"):
            raise ValueError(f"unsupported $ref {ref}")
        node: Any = self.root
        for part in ref[2:].split("/"):
            node = node[part]
        return node  # type: ignore[no-any-return]

    def check(self, value: Any, sch: Mapping[str, Any], path: str) -> Problem | None:
        """The first problem found, depth first; None when the value fits."""
        if "$ref" in sch:
            problem = self.check(value, self.resolve(sch["$ref"]), path)
            if problem:
                return problem
        expected = sch.get("type")
        if expected is not None:
            names = [expected] if isinstance(expected, str) else list(expected)
            if not any(_is_type(value, n) for n in names):
                want = " or ".join(("an " if n[0] in "aeiou" else "a ") + n for n in names)
                return Problem(path, f"expected {want}, got {_type_name(value)}")
        if "enum" in sch and value not in sch["enum"]:
            choices = ", ".join(json.dumps(c) for c in sch["enum"])
            return Problem(path, f"{json.dumps(value)} is not one of {choices}")
        if isinstance(value, str):
            if len(value) < sch.get("minLength", 0):
                return Problem(path, "must not be empty" if sch["minLength"] == 1 else "is too short")
            pattern = sch.get("pattern")
            if pattern and not re.search(pattern, value):
                shown = json.dumps(value)
                shown = shown if len(shown) <= 60 else shown[:56] + '…"'
                return Problem(path, f"{shown} does not have the expected form ({pattern})")
        if isinstance(value, list) and "items" in sch:
            for i, item in enumerate(value):
                problem = self.check(item, sch["items"], f"{path}[{i}]")
                if problem:
                    return problem
        if isinstance(value, dict):
            problem = self.check_object(value, sch, path)
            if problem:
                return problem
        if "oneOf" in sch:
            return self.check_one_of(value, sch, path)
        return None

    def declares_type_of(self, value: Any, sch: Mapping[str, Any]) -> bool:
        if "$ref" in sch:
            sch = self.resolve(sch["$ref"])
        expected = sch.get("type")
        if expected is None:
            return False
        names = [expected] if isinstance(expected, str) else list(expected)
        return any(_is_type(value, n) for n in names)

    def check_object(self, value: dict[str, Any], sch: Mapping[str, Any], path: str) -> Problem | None:
        props: Mapping[str, Any] = sch.get("properties", {})
        for key in sch.get("required", ()):
            if key not in value:
                return Problem(path, f"missing key {key!r}")
        names = sch.get("propertyNames")
        for key, item in value.items():
            sub = (
                f"{path}.{key}"
                if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key)
                else f"{path}[{json.dumps(key)}]"
            )
            if names is not None:
                problem = self.check(key, names, sub)
                if problem:
                    return Problem(sub, f"key {problem.message}")
            if key in props:
                problem = self.check(item, props[key], sub)
                if problem:
                    return problem
            elif sch.get("additionalProperties", True) is False:
                known = ", ".join(props)
                return Problem(sub, f"unknown key {key!r} (known keys: {known})")
        return None

    def check_one_of(self, value: Any, sch: Mapping[str, Any], path: str) -> Problem | None:
        results = [self.check(value, branch, path) for branch in sch["oneOf"]]
        fits = results.count(None)
        if fits == 1:
            return None
        what = sch.get("description", "a value of one of the allowed forms")
        if fits > 1:
            return Problem(path, f"ambiguous: expected {what}")
        # When exactly one branch is of the value's JSON type, its problem is the precise one.
        typed = [
            r
            for r, branch in zip(results, sch["oneOf"], strict=True)
            if r is not None and self.declares_type_of(value, branch)
        ]
        if len(typed) == 1:
            return typed[0]
        return Problem(path, f"expected {what}")


class _Compiler:
    """Schema nodes -> :data:`Fits` predicates made once, for the many specs of one input.

    Each predicate answers what ``_Validator.check(value, node) is None`` answers, keyword by
    keyword (the same keywords, the same tests), without building paths or messages: a spec that
    fits is let through at a fraction of the cost, and one that does not is checked again by
    :class:`_Validator`, which names the problem. tests/session/test_jsonspec_fits.py holds the
    two to the same verdicts.
    """

    def __init__(self, root: Mapping[str, Any]) -> None:
        self.validator = _Validator(root)
        self.made: dict[int, Fits] = {}

    def fits(self, sch: Mapping[str, Any]) -> Fits:
        known = self.made.get(id(sch))
        if known is not None:
            return known
        later: list[Fits] = []  # a node that refers to itself, through $ref, gets its own predicate
        self.made[id(sch)] = lambda value: later[0](value)
        made = self._node(sch)
        later.append(made)
        self.made[id(sch)] = made
        return made

    def _node(self, sch: Mapping[str, Any]) -> Fits:
        checks: list[Fits] = []
        if "$ref" in sch:
            checks.append(self.fits(self.validator.resolve(sch["$ref"])))
        expected = sch.get("type")
        if expected is not None:
            names = [expected] if isinstance(expected, str) else list(expected)
            checks.append(_type_fits(names))
        if "enum" in sch:
            choices = sch["enum"]
            checks.append(lambda value: value in choices)
        if "minLength" in sch or sch.get("pattern"):
            checks.append(_string_fits(sch.get("minLength", 0), sch.get("pattern")))
        if "items" in sch:
            item = self.fits(sch["items"])
            checks.append(lambda value: not isinstance(value, list) or all(item(v) for v in value))
        checks.append(self._object(sch))
        if "oneOf" in sch:
            branches = [self.fits(branch) for branch in sch["oneOf"]]
            checks.append(lambda value: [branch(value) for branch in branches].count(True) == 1)
        if len(checks) == 1:
            return checks[0]

        def every(value: Any) -> bool:
            # A loop, not all() over a generator: this runs for every node of every spec.
            for check in checks:  # noqa: SIM110
                if not check(value):
                    return False
            return True

        return every

    def _object(self, sch: Mapping[str, Any]) -> Fits:
        nodes: Mapping[str, Any] = sch.get("properties", {})
        # Each key's predicate is made when a spec first has the key: a command checks a few
        # keys of the message schema, and making all of them cost more than its whole check.
        props: dict[str, Fits] = {}
        required = tuple(sch.get("required", ()))
        names = self.fits(sch["propertyNames"]) if "propertyNames" in sch else None
        closed = sch.get("additionalProperties", True) is False

        def fits_object(value: Any) -> bool:
            if not isinstance(value, dict):
                return True
            for key in required:
                if key not in value:
                    return False
            for key, item in value.items():
                if names is not None and not names(key):
                    return False
                check = props.get(key)
                if check is None and key in nodes:
                    check = props[key] = self.fits(nodes[key])
                if check is not None:
                    if not check(item):
                        return False
                elif closed:
                    return False
            return True

        return fits_object


def _type_fits(names: list[str]) -> Fits:
    allowed = tuple(kind for name in names for kind in _JSON_TYPES[name])
    boolean = "boolean" in names  # a bool is an int to Python, never a number to JSON

    def fits_type(value: Any) -> bool:
        if value is True or value is False:
            return boolean
        return isinstance(value, allowed)

    return fits_type


def _string_fits(shortest: int, pattern: str | None) -> Fits:
    search = re.compile(pattern).search if pattern else None

    def fits_string(value: Any) -> bool:
        if not isinstance(value, str):
            return True
        if len(value) < shortest:
            return False
        return search is None or search(value) is not None

    return fits_string


@functools.cache
def _fits_message() -> Fits:
    return _Compiler(schema()).fits(schema())


def validate(spec: Any, where: str = "", root: str = "$") -> dict[str, Any]:
    """Check one spec against the schema; raise InvalidParameter naming the JSON path."""
    if not _fits_message()(spec):
        problem = _Validator(schema()).check(spec, schema(), root)
        if problem is not None:
            error = InvalidParameter(problem.message, hint="see the message schema in docs/CLI.md")
            raise error.at(problem.path).at(where)
    assert isinstance(spec, dict)
    return spec


def _line_col(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return line, col


def _syntax_error(source: str, exc: json.JSONDecodeError) -> CorruptFile:
    return CorruptFile(
        f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
        hint="fix the JSON; input is one object, an array of objects, or one object per line",
    ).at(source)


#: Deepest nesting of arrays and objects in JSON input: a message spec needs about 8 levels
#: (array of messages › message › properties › property › value list › item…); anything far
#: deeper is refused before code that walks a spec recursively sees it.
MAX_DEPTH = 64
#: Most digits of an integer in JSON input: no MAPI property holds more than 20 (64 bits).
MAX_DIGITS = 100


class _HugeNumber(Exception):
    def __init__(self, digits: str) -> None:
        self.digits = digits


def _parse_int(text: str) -> int:
    if len(text) > MAX_DIGITS and len(text.lstrip("-")) > MAX_DIGITS:
        raise _HugeNumber(text)
    return int(text)


_DECODER = json.JSONDecoder(parse_int=_parse_int)


def _too_deep(value: Any) -> bool:
    """Whether arrays and objects nest deeper than MAX_DEPTH (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > MAX_DEPTH:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _decode(text: str, pos: int, source: str) -> tuple[Any, int]:
    """One JSON value of ``text`` from ``pos``; every way it cannot be read is one CorruptFile or
    InvalidParameter naming where (the decoder's recursion on deep nesting, integers with
    thousands of digits, which Python will not convert, included)."""
    try:
        value, end = _DECODER.raw_decode(text, pos)
    except json.JSONDecodeError as exc:
        raise _syntax_error(source, exc) from None
    except RecursionError:
        value, end = None, -1
    except _HugeNumber as exc:
        line, col = _line_col(text, max(text.find(exc.digits, pos), pos))
        raise InvalidParameter(
            f"number at line {line}, column {col} has {len(exc.digits.lstrip('-'))} digits",
            hint="no MAPI property holds an integer that long (64 bits: at most 20 digits)",
        ).at(source) from None
    # No deeper than its count of brackets: most values need no walk.
    if end < 0 or (text.count("[", pos, end) + text.count("{", pos, end) > MAX_DEPTH and _too_deep(value)):
        line, col = _line_col(text, pos)
        raise CorruptFile(
            f"JSON value at line {line}, column {col} nests arrays and objects "
            f"deeper than {MAX_DEPTH} levels",
            hint="a message spec needs far fewer; check how the JSON was made",
        ).at(source)
    return value, end


def iter_specs(text: str, source: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each message spec in ``text`` with where it came from ("<source> line 3", "<source> $[2]").

    The text, and each spec once given out, is let go as soon as it is no longer needed (a spec
    may hold an attachment of hundreds of MB in base64): a caller that keeps neither holds the
    input only once.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    ws = re.compile(r"\s*")
    pos = ws.match(text, 0).end()  # type: ignore[union-attr]
    if pos == len(text):
        raise CorruptFile("no JSON input", hint="give one message object, an array, or JSON Lines").at(source)
    if text[pos] == "[":
        value, end = _decode(text, pos, source)
        rest = ws.match(text, end).end()  # type: ignore[union-attr]
        if rest != len(text):
            line, col = _line_col(text, rest)
            raise CorruptFile(
                f"invalid JSON at line {line}, column {col}: extra data after the array",
                hint="give one array, or one object per line",
            ).at(source)
        del text
        value.reverse()
        for i in range(len(value)):
            # Not bound to a name: a spec given out is not held here while the caller stores it.
            yield f"{source} $[{i}]", validate(value.pop(), source, f"$[{i}]")
        return
    line, counted = 1, 0
    while pos < len(text):
        line += text.count("\n", counted, pos)
        counted = pos
        decoded = list(_decode(text, pos, source))  # [spec, end]
        where = f"{source} line {line}"
        pos = ws.match(text, decoded.pop()).end()  # type: ignore[union-attr]
        if pos == len(text):
            text = ""  # the last spec: the text is not needed any more
        # Popped, not bound to a name: a spec given out is not held here while the caller stores it.
        yield where, validate(decoded.pop(), where)


def validate_part(value: Any, ref: str, where: str, root: str = "$") -> None:
    """Check a value against one definition of the schema (``#/$defs/attachment``…)."""
    validator = _Validator(schema())
    problem = validator.check(value, validator.resolve(ref), root)
    if problem is not None:
        error = InvalidParameter(problem.message, hint="see the message schema in docs/CLI.md")
        raise error.at("" if problem.path == "$" else problem.path).at(where)
