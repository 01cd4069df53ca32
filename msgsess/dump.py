"""What is in a message, as JSON-ready data (``dump --json``) or a rich tree (``dump``).

Every property of every level -- message, recipients, attachments, embedded
messages to any depth -- with its name from the tables, tag, type, value and
property-stream flags. Attachment bytes are shown as size and SHA-256 unless
``full=True``. Key order is stable: properties sorted by tag, tagged ones
before named ones.
"""

from __future__ import annotations

import hashlib
from typing import Any

from msgsess.model import Message, Property, PropertyBag
from msgsess.props import ids, registry, values
from msgsess.props import types as t
from msgsess.props.keys import NamedId, PropId

__all__ = ["dump_message", "render_tree"]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _sort_key(pid: PropId) -> tuple[int, int, str]:
    if isinstance(pid, NamedId):
        return (1, pid.lid if pid.lid is not None else -1, f"{pid.guid}:{pid.name or ''}")
    return (0, pid, "")


def _named_json(pid: NamedId) -> dict[str, Any]:
    out: dict[str, Any] = {"set": pid.set_name()}
    if pid.lid is not None:
        out["lid"] = f"0x{pid.lid:04X}"
    else:
        out["name"] = pid.name
    return out


def _value(prop: Property, full: bool) -> Any:
    value = prop.value
    if not full:
        data: bytes | None = None
        if isinstance(value, t.RawValue) and not value.inline:
            data = value.data
        elif prop.type == t.PT_BINARY and isinstance(value, bytes):
            data = value
        if data is not None:
            return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    if prop.type == t.PT_OBJECT:
        return None
    return values.to_json(prop.type, value)


def _stored_type(ptype: int, ansi: bool) -> int:
    """The type as the file stores it: the model keeps every string as PT_UNICODE."""
    if ansi and t.is_string(ptype):
        return t.PT_MV_STRING8 if t.is_mv(ptype) else t.PT_STRING8
    return ptype


def _prop_json(pid: PropId, prop: Property, full: bool, ansi: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"name": registry.describe(pid, prop.type)}
    stored = _stored_type(prop.type, ansi)
    if isinstance(pid, NamedId):
        out["named"] = _named_json(pid)
    else:
        out["tag"] = f"0x{(pid << 16) | stored:08X}"
    out["type"] = t.type_name(stored)
    out["flags"] = prop.flags
    out["value"] = _value(prop, full)
    return out


def _props_json(bag: PropertyBag, full: bool, ansi: bool) -> list[dict[str, Any]]:
    return [_prop_json(pid, bag[pid], full, ansi) for pid in sorted(bag, key=_sort_key)]


def _extra_json(extra: dict[str, Any]) -> list[str]:
    return sorted(extra)


def dump_message(msg: Message, *, full: bool = False) -> dict[str, Any]:
    """Every property of a message and everything below it, as JSON-ready data.

    Types and tags are shown as the file stores them (PT_STRING8 in an ANSI file).
    """
    ansi = msg.source_unicode is False
    out: dict[str, Any] = {
        "unicode": msg.source_unicode,
        "codepage": msg.source_codepage,
        "properties": _props_json(msg.props, full, ansi),
        "recipients": [],
        "attachments": [],
    }
    for index, rcpt in enumerate(msg.recipients):
        entry: dict[str, Any] = {"index": index, "properties": _props_json(rcpt.props, full, ansi)}
        if rcpt.extra:
            entry["unparsed"] = _extra_json(rcpt.extra)
        out["recipients"].append(entry)
    for index, att in enumerate(msg.attachments):
        # A damaged file may store the method as another type: then it is no method (the property
        # itself is listed with its raw value).
        method = att.props.value(ids.ATTACH_METHOD)
        aentry: dict[str, Any] = {
            "index": index,
            "method": method if _is_int(method) else None,
            "properties": _props_json(att.props, full, ansi),
        }
        if att.embedded is not None:
            aentry["embedded"] = dump_message(att.embedded, full=full)
        if att.custom is not None:
            aentry["custom_storage"] = sorted(path for path, _ in att.custom.walk())
        if att.extra:
            aentry["unparsed"] = _extra_json(att.extra)
        out["attachments"].append(aentry)
    if msg.extra:
        out["unparsed"] = _extra_json(msg.extra)
    return out


# --------------------------------------------------------------------------- readable form


def _table(title: str, bag: PropertyBag, width: int, ansi: bool) -> Any:
    from rich.table import Table

    table = Table(title=title, title_justify="left", show_lines=False, expand=False)
    table.add_column("property", overflow="fold")
    table.add_column("tag", no_wrap=True)
    table.add_column("type", no_wrap=True)
    table.add_column("flags", justify="right")
    table.add_column("value", overflow="fold")
    for pid in sorted(bag, key=_sort_key):
        prop = bag[pid]
        name = registry.describe(pid, prop.type)
        stored = _stored_type(prop.type, ansi)
        tag = str(pid) if isinstance(pid, NamedId) else f"0x{(pid << 16) | stored:08X}"
        if prop.type == t.PT_OBJECT:
            text = "(storage)"
        else:
            try:
                text = values.to_text(prop.type, prop.value, width=width)
            except Exception:  # a value that cannot be shown must not hide the rest
                text = repr(prop.value)[:width]
        table.add_row(name, tag, t.type_name(stored), f"0x{prop.flags:X}", text)
    return table


def _fill(node: Any, msg: Message, width: int) -> None:
    ansi = msg.source_unicode is False
    node.add(_table("properties", msg.props, width, ansi))
    for index, rcpt in enumerate(msg.recipients):
        node.add(f"recipient {index}").add(_table("properties", rcpt.props, width, ansi))
    for index, att in enumerate(msg.attachments):
        branch = node.add(f"attachment {index}: {att.name or '(no name)'}")
        branch.add(_table("properties", att.props, width, ansi))
        if att.embedded is not None:
            _fill(branch.add("embedded message"), att.embedded, width)
        if att.custom is not None:
            branch.add(f"custom storage ({att.custom.count()} entries)")
    if msg.extra:
        node.add("unparsed: " + ", ".join(sorted(msg.extra)))


def render_tree(msg: Message, *, title: str = "message", width: int = 60) -> Any:
    """A ``rich.tree.Tree`` with a table of properties per level (rich is imported here only)."""
    from rich.tree import Tree

    tree = Tree(title)
    _fill(tree, msg, width)
    return tree
