"""``msgsess show``: a session's messages as a tree (terminal), plain text, or JSON."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import click

from msgsess import api
from msgsess.api import printable
from msgsess.cli.common import MESSAGE_ID, session_argument
from msgsess.spec import ORIGINAL, RECIPIENT_KINDS, base_of, rows

if TYPE_CHECKING:
    from msgsess.spec import Table

#: A node of the outline: a label and its children.
Node = tuple[str, list[Any]]


def _address(entry: Any) -> str:
    return entry if isinstance(entry, str) else str(entry.get("address", ""))


def _properties(props: dict[str, Any]) -> Node:
    return ("properties", [(f"{k}: {json.dumps(v, ensure_ascii=False)}", []) for k, v in props.items()])


def _attachment(number: int, att: dict[str, Any]) -> Node:
    if "message" in att:
        label = f"{number}: embedded message {att['message']}"
    elif "msg_data" in att:
        label = f"{number}: embedded .msg {att.get('name', '')} ({att['size']} bytes)"
    else:
        label = f"{number}: {att.get('name', '(no name)')} ({att['size']} bytes)"
    extras = [f"{k}: {att[k]}" for k in ("mime", "content_id", "hidden") if k in att]
    children: list[Any] = [(e, []) for e in extras]
    if att.get("properties"):
        children.append(_properties(att["properties"]))
    return (label, children)


def _numbers(spec: dict[str, Any], table: Table) -> dict[tuple[str, int], int]:
    """The number users see of each row of a table (an edited file's own rows by their index)."""
    source = base_of(spec)
    originals = len((source.get("original") or {}).get(table, ())) if source is not None else 0
    return {where: number for number, where in enumerate(rows(spec, table, originals))}


def _source(spec: dict[str, Any], source: Mapping[str, Any], key: str = "source") -> Node:
    """An edited message's file (or the MIME message it starts from) as it was, with what is
    removed or changed in its tables."""
    original = source.get("original") or {}
    mode = f", {original['mode']}" if "mode" in original else ""
    label = f"{key}: {source.get('file', '(data)')} ({source.get('size', 0)} bytes{mode})"
    children: list[Any] = [(f"{k}: {original[k]}", []) for k in ("class", "subject", "from") if k in original]
    table: Table
    for table, key in (("recipients", "recipient"), ("attachments", "attachment")):
        numbers = _numbers(spec, table)
        changes = spec.get(f"{key}_properties", {})
        lines: list[Any] = []
        for index, text in enumerate(original.get(table, ())):
            number = numbers.get((ORIGINAL, index))
            if number is None:
                lines.append((f"removed: {text}", []))
                continue
            sub = [_properties(changes[str(index)])] if changes.get(str(index)) else []
            lines.append((f"#{number}: {text}", sub))
        if lines:
            children.append((table, lines))
    return (label, children)


def outline(spec: dict[str, Any]) -> Node:
    """One message as a tree of labels: fields, recipients, attachments, properties.

    An edited message shows its source file as it was (tables numbered as the user numbers them)
    and then its changes; added recipients and attachments are numbered after the file's own.
    """
    head = f"{spec['id']} → {spec['output']}" if "output" in spec else f"{spec['id']} (embedded only)"
    children: list[Any] = []
    source = base_of(spec)
    if source is not None:
        children.append(_source(spec, source, "eml" if "eml" in spec else "source"))
    for key in ("class", "subject", "from", "sender", "date", "importance", "sensitivity", "message_id"):
        if key in spec:
            children.append((f"{key}: {spec[key]}", []))
    if "draft" in spec:
        children.append(("draft" if spec["draft"] else "sent", []))
    fields = api.item_fields(spec)
    if fields:
        children.append(("item", [(f"{label}: {text}", []) for label, text in fields]))
    numbers = _numbers(spec, "recipients")
    for kind in RECIPIENT_KINDS:
        for index, entry in enumerate(spec.get(kind, ())):
            sub = (
                [_properties(entry["properties"])]
                if isinstance(entry, dict) and entry.get("properties")
                else []
            )
            children.append((f"{kind} #{numbers[(kind, index)]}: {_address(entry)}", sub))
    if spec.get("reply_to"):
        children.append(("reply_to: " + ", ".join(spec["reply_to"]), []))
    for key in ("body", "html", "rtf"):
        if key in spec:
            text = " ".join(spec[key].split())
            children.append((f"{key}: {text[:60]}{'…' if len(text) > 60 else ''}", []))
    for key in ("categories", "headers"):
        if spec.get(key):
            children.append((f"{key}: " + "; ".join(spec[key]), []))
    atts = spec.get("attachments", [])
    if atts:
        label = "attachments" if not isinstance(source, dict) else "added attachments"
        numbers = _numbers(spec, "attachments")
        children.append((label, [_attachment(numbers[("attachments", i)], a) for i, a in enumerate(atts)]))
    if spec.get("properties"):
        children.append(_properties(spec["properties"]))
    return (head, children)


def _plain(node: Node, depth: int = 0) -> Iterable[str]:
    label, children = node
    yield "  " * depth + printable(label)
    for child in children:
        yield from _plain(child, depth + 1)


def _rich_tree(node: Node, parent: Any) -> None:
    from rich.markup import escape

    label, children = node
    branch = parent.add(escape(printable(label)))
    for child in children:
        _rich_tree(child, branch)


@click.command("show")
@session_argument
@click.argument("msg_id", required=False, type=MESSAGE_ID, metavar="[ID]")
@click.option("--json", "as_json", is_flag=True, help="Print JSON Lines in the schema `add --json` reads.")
def show_cmd(session: str, msg_id: str | None, as_json: bool) -> None:
    """Show the messages of SESSION (or message ID).

    On a terminal, a tree; otherwise plain text, with control characters
    escaped (\\x1b, \\n). With --json, one message
    object per line, with attachment bytes in base64: `add --json` rebuilds
    the same session from it.

    \b
    Example:
      msgsess show s.session
      msgsess show s.session --json > backup.jsonl
      msgsess open copy.session && msgsess add copy.session --json backup.jsonl
    """
    if as_json:
        for spec in api.Session(session).show(msg_id):
            click.echo(json.dumps(spec, ensure_ascii=False, separators=(",", ":")))
        return
    info = api.Session(session).info()
    unicode, codepage, count = info.unicode, info.codepage, info.messages
    mode = "Unicode" if unicode else f"ANSI, code page {codepage}"
    header = f"{session}: {count} message{'s' if count != 1 else ''}, {mode}"
    nodes = [outline(dict(spec)) for spec in api.Session(session).show(msg_id, data=False)]
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.markup import escape
        from rich.tree import Tree

        tree = Tree(escape(printable(header)))
        for node in nodes:
            _rich_tree(node, tree)
        Console().print(tree)
        return
    click.echo(printable(header))
    for node in nodes:
        for line in _plain(node, 1):
            click.echo(line)
