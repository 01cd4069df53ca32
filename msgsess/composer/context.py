"""What every part of the composer reads: the spec, with checks per field, and the settings.

A :class:`Context` is made once per composed message. Its readers check a field's JSON type
and raise :class:`~msgsess.errors.InvalidParameter` located at the field (``to[2]``,
``attachments[0].name``); :func:`msgsess.composer.compose` locates it at the message.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping

from msgsess.errors import InvalidParameter
from msgsess.model import Message
from msgsess.props import types as t
from msgsess.storage import StreamSource

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


#: The spec as canonical JSON (sorted keys, ASCII, anything else as its str): what
#: ``json.dumps(spec, sort_keys=True, ensure_ascii=True, default=str)`` gives, with the encoder
#: made once rather than for every message.
_canonical = json.JSONEncoder(sort_keys=True, ensure_ascii=True, default=str).encode


class Context:
    """One message being composed: its spec, its time, its string mode, and its inputs.

    ``digest`` (SHA-256 of the spec and the label) seeds the ids derived from the content:
    the search key and the conversation index, so the same spec gives the same message.
    ``from_index`` composes only the entries of some lists from an index on (checks of
    entries just added).
    """

    def __init__(
        self,
        spec: Mapping[str, Any],
        now: t.FileTime,
        read_blob: Callable[[str], bytes | StreamSource] | None,
        embedded: Callable[[Mapping[str, Any]], Message] | None,
        label: str,
        unicode: bool,
        codepage: int,
        from_index: Mapping[str, int],
    ) -> None:
        self.spec = spec
        self.from_index = from_index
        self.now = now
        self.read_blob = read_blob
        self.embedded = embedded
        self.label = label
        self.unicode = unicode
        self.codepage = codepage
        canonical = _canonical(spec)
        self.digest = hashlib.sha256(canonical.encode() + label.encode()).digest()

    def fail(self, field: str, problem: str, hint: str | None = None) -> InvalidParameter:
        return InvalidParameter(problem, hint=hint).at(field)

    def skipped(self, key: str, index: int) -> bool:
        """Whether entry ``index`` of ``spec[key]`` was checked when it was added (``from_index``)."""
        return index < self.from_index.get(key, 0)

    # --- scalar fields ---------------------------------------------------------------------

    def text(self, key: str) -> str | None:
        value = self.spec.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail(key, f"expected text, got {json.dumps(value)[:40]}")
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.spec.get(key, default)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.fail(key, f"expected true or false, got {json.dumps(value)[:40]}")
        return value

    def time(self, key: str) -> t.FileTime | None:
        value = self.spec.get(key)
        if value is None:
            return None
        from msgsess.props import values

        parsed = values.parse_json(t.PT_SYSTIME, value, prop=key)
        assert isinstance(parsed, t.FileTime)
        return parsed

    def choice(self, key: str, table: dict[str, int]) -> int | None:
        value = self.text(key)
        if value is None:
            return None
        try:
            return table[value.lower()]
        except KeyError:
            raise self.fail(key, f"{value!r} is not one of {', '.join(table)}") from None

    def address_list(self, key: str) -> list[tuple[str, Mapping[str, Any]]]:
        value = self.spec.get(key)
        if value is None:
            return []
        items = [value] if isinstance(value, (str, dict)) else value
        if not isinstance(items, list):
            raise self.fail(key, "expected a list of addresses")
        out: list[tuple[str, Mapping[str, Any]]] = []
        for index, item in enumerate(items):
            if isinstance(item, str):
                out.append((item, {}))
            elif isinstance(item, dict) and isinstance(item.get("address"), str):
                props = item.get("properties") or {}
                if not isinstance(props, dict):
                    raise self.fail(f"{key}[{index}].properties", "expected an object")
                out.append((item["address"], props))
            else:
                raise self.fail(f"{key}[{index}]", "expected 'Name <addr>' or {\"address\": …}")
        return out

    def index(self, key: str, value: Any, size: int) -> int:
        """An index into a table of ``size`` rows given under ``key`` (an edited file's tables)."""
        try:
            row = int(value)
        except (TypeError, ValueError):
            raise self.fail(key, f"{value!r} is not an index") from None
        if not 0 <= row < size:
            raise self.fail(key, f"no entry {row} (the message has {size})")
        return row

    # --- properties ------------------------------------------------------------------------

    def overrides(self, bag: Any, props: Any, field: str) -> None:
        """Apply a ``properties`` object: PROP -> value, or null to remove."""
        if not props:
            return
        if not isinstance(props, dict):
            raise self.fail(field, "expected an object of PROP: value")
        from msgsess.props import registry, values

        for name, value in props.items():
            if value is None:
                bag.pop(registry.resolve(str(name)).pid, None)
                continue
            # The one value syntax (docs/VALUES.md), as for `add --set` and `set`.
            pdef, ptype, parsed = values.parse_property(str(name), value, text=False)
            bag.set(pdef.pid, ptype, parsed)

    def unsets(self, pid: int) -> bool:
        """Whether the spec's ``properties`` remove this tagged property."""
        props = self.spec.get("properties") or {}
        if not isinstance(props, dict):
            return False
        from msgsess.props import registry

        return any(value is None and registry.resolve(str(name)).pid == pid for name, value in props.items())
