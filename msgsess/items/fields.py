"""Reading item fields from a spec, and writing properties by their canonical names.

Every problem is one InvalidParameter line naming the message, the field and the
value at fault (``message m1: start: '2024-13-01' is not …``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from functools import cache
from typing import Any

from msgsess.errors import InvalidParameter
from msgsess.model import PropertyBag
from msgsess.props import registry
from msgsess.props import types as t
from msgsess.props.keys import PropId
from msgsess.spec import spelled

_ADDR = re.compile(r"^[^\s@<>(),;:\"\[\]]+@[^\s@<>(),;:\"\[\]]+$")


@cache
def prop(name: str) -> tuple[PropId, int]:
    """Identity and type of a property by its canonical name (the registry's tables)."""
    pdef = registry.resolve(name)
    assert pdef.ptype is not None, name
    return pdef.pid, pdef.ptype


def put(bag: PropertyBag, name: str, value: Any) -> None:
    """Set a property by canonical name; None or an empty string removes it."""
    pid, ptype = prop(name)
    if value is None or value == "" or value == []:
        bag.pop(pid, None)
    else:
        bag.set(pid, ptype, value)


def get(bag: PropertyBag, name: str, default: Any = None) -> Any:
    return bag.value(prop(name)[0], default)


def drop(bag: PropertyBag, *names: str) -> None:
    for name in names:
        bag.pop(prop(name)[0], None)


def filetime(moment: dt.datetime) -> t.FileTime:
    return t.FileTime.from_datetime(moment)


def moment_of(value: Any) -> dt.datetime | None:
    """A SYSTIME value as an aware UTC datetime, or None."""
    if isinstance(value, t.FileTime):
        return value.to_datetime()
    return None


class Fields:
    """The item fields of one spec, read with checks."""

    def __init__(self, spec: Mapping[str, Any], label: str) -> None:
        self.spec = spec
        self.label = label

    def fail(self, key: str, problem: str, hint: str | None = None) -> InvalidParameter:
        return InvalidParameter(problem, hint=hint).at(self.name(key)).at(self.label)

    @staticmethod
    def name(key: str) -> str:
        """A field as the user typed it: ``--all-day`` from ``add``'s options, ``all_day`` in JSON."""
        return spelled(key)

    def shown(self, value: Any) -> str:
        return json.dumps(value, default=str)[:60]

    def has(self, key: str) -> bool:
        return self.spec.get(key) is not None

    def text(self, key: str) -> str | None:
        value = self.spec.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail(key, f"expected text, got {self.shown(value)}")
        return value

    def integer(self, key: str, low: int, high: int) -> int | None:
        value = self.spec.get(key)
        if value is None:
            return None
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise self.fail(key, f"{self.shown(value)} is not a whole number from {low} to {high}")
        return value

    def choice(self, key: str, table: Mapping[str, int]) -> int | None:
        value = self.text(key)
        if value is None:
            return None
        try:
            return table[value.strip().lower()]
        except KeyError:
            raise self.fail(key, f"{value!r} is not one of {'|'.join(table)}") from None

    def text_list(self, key: str) -> list[str]:
        value = self.spec.get(key)
        if value is None:
            return []
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise self.fail(key, f"expected a list of text, got {self.shown(value)}")
        return list(items)

    def date(self, key: str, value: Any = None) -> dt.date | None:
        value = self.spec.get(key) if value is None else value
        if value is None:
            return None
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip()[:10].replace("/", "-"))
            except ValueError:
                pass
        raise self.fail(key, f"{self.shown(value)} is not a date (YYYY-MM-DD)")

    def moment(self, key: str, zone: dt.tzinfo | None, value: Any = None) -> dt.datetime | None:
        """An ISO 8601 date-time; without an offset it is read in ``zone`` (or it is an error)."""
        value = self.spec.get(key) if value is None else value
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail(key, f"{self.shown(value)} is not a date and time")
        text = value.strip()
        try:
            moment = dt.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
        except ValueError:
            raise self.fail(
                key, f"{value!r} is not an ISO 8601 date and time", hint="write 2024-03-05T09:00+01:00"
            ) from None
        if moment.tzinfo is None:
            if zone is None:
                raise self.fail(
                    key,
                    f"{value!r} has no UTC offset",
                    hint=f"add one (2024-03-05T09:00+01:00) or give {self.name('timezone')}",
                )
            moment = moment.replace(tzinfo=zone)
        return moment

    def address(self, key: str, text: str) -> tuple[str, str]:
        """``Name <addr>`` or ``addr`` -> (display name, address)."""
        import email.utils  # here: reading an item's fields (dump) needs no e-mail parser

        name, addr = email.utils.parseaddr(text.strip().removeprefix("mailto:").removeprefix("MAILTO:"))
        addr = addr.removeprefix("mailto:").removeprefix("MAILTO:")
        if not addr or not _ADDR.match(addr) or ("<" in text and text.count("<") > 1):
            raise self.fail(
                key,
                f"{text!r} is not an e-mail address",
                hint="write 'Name <user@example.com>' or 'user@example.com'",
            )
        return (name or addr), addr

    def addresses(self, key: str) -> list[tuple[str, str]]:
        return [self.address(key, item) for item in self.text_list(key)]


def format_address(name: str, addr: str) -> str:
    """``"Name" <addr>`` (quotes and backslashes escaped), or the bare address when there is no name."""
    if not name or name == addr:
        return addr
    quoted = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{quoted}" <{addr}>'
