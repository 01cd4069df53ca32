"""Property names and values in a spec's ``properties`` objects, checked when they are added.

The spec keeps the user's spelling of each name and the JSON form of each value; checking
resolves every name with the registry and parses every value, so that errors come when the
value is given rather than at ``close``. The property tables load on first use only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from msgsess.errors import InvalidParameter
from msgsess.props import types as t
from msgsess.props.keys import NamedId


def identity(name: str) -> Any:
    """What a spelling names (tagged id or NamedId), to find other spellings of one property."""
    from msgsess.props import registry

    return registry.resolve(name).pid


def parse_type(text: str) -> int:
    code = t.parse_type_name(text)
    if code is None:
        raise InvalidParameter(
            f"unknown property type {text!r}",
            hint="give a type such as PT_UNICODE, PT_LONG, PT_BOOLEAN, PT_SYSTIME or PT_MV_UNICODE",
        )
    return code


def text_entry(
    name: str, text: str, type_name: str | None, read_file: Callable[[str], bytes]
) -> tuple[str, Any]:
    """The (key, JSON value) a ``properties`` object holds for ``PROP VALUE [--type TYPE]``.

    The key is the user's spelling unless the spelling alone would not tell the type that was
    given: then a tagged property becomes its 8-digit hex tag. A property whose type nothing
    says is a string; a type that contradicts the tables' type for a name is refused.
    ``@path`` values of binary properties are read now.
    """
    from msgsess.props import registry, values

    given = parse_type(type_name) if type_name else None
    if given is not None:
        # A name the tables know has its type: --type may pick among its rows (PT_STRING8 is
        # PT_UNICODE), never contradict them. Hex tags and SET:LID spellings take any type.
        known = registry.table_types(name)
        if known is not None and registry.model_type(given) not in known:
            raise registry.type_mismatch(name, given, f"--type {t.type_name(given)}")
    prop = registry.resolve(name, given)
    ptype = prop.ptype if prop.ptype is not None else t.PT_UNICODE
    value = values.parse_text(ptype, text, prop=name, read_file=read_file)
    stored = values.to_json(ptype, value)
    implied = registry.resolve(name).ptype
    if implied is None:
        implied = values.infer_type(stored)
    if implied == ptype:
        return name, stored
    if isinstance(prop.pid, NamedId):
        # Neither the name nor the JSON value tells the type: keep it with the value.
        return name, {"type": t.type_name(ptype), "value": stored}
    return f"0x{prop.pid:04X}{ptype:04X}", stored
