"""``msgsess dump`` and ``msgsess check``: look into any .msg file (no session needed)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

_MSG_PATH = click.Path(dir_okay=False, path_type=str)


def _decode(path: str) -> Any:
    """The model of the file at ``path`` (``-``: stdin); damaged input is one error naming the file.

    The import path of ``edit`` and ``attach --msg``, with the limits for hostile input.
    """
    from msgsess.inputs import read_stdin
    from msgsess.session.inputs import read_msg

    if path == "-":
        return read_msg(read_stdin("dump"), "stdin")
    return read_msg(Path(path), path)  # only a regular file within the limit on inputs


def _bag_lines(bag: Any, msg: Any, pad: str) -> Iterator[str]:
    """One property a line, in columns as wide as the widest entry of this table."""
    from msgsess.dump import rows

    found = rows(bag, msg)
    if not found:
        return
    name_w = max(len(r.name) for r in found)
    tag_w = max(len(r.tag) for r in found)
    type_w = max(len(r.type) for r in found)
    for r in found:
        yield f"{pad}{r.name:<{name_w}}  {r.tag:<{tag_w}}  {r.type:<{type_w}}  flags={r.flags:<4}  {r.value}"


def _plain_lines(msg: Any, depth: int = 0) -> Iterator[str]:
    """The readable dump without rich: one property a line, levels indented."""
    from msgsess.dump import extra_names, label

    pad = "  " * depth
    yield from _bag_lines(msg.props, msg, pad)
    for index, rcpt in enumerate(msg.recipients):
        yield f"{pad}recipient {index}"
        yield from _bag_lines(rcpt.props, msg, pad + "  ")
    for index, att in enumerate(msg.attachments):
        yield f"{pad}attachment {index}: {label(att.name, msg) or '(no name)'}"
        yield from _bag_lines(att.props, msg, pad + "  ")
        if att.embedded is not None:
            yield f"{pad}  embedded message"
            yield from _plain_lines(att.embedded, depth + 2)
        if att.custom is not None:
            yield f"{pad}  custom storage ({att.custom.count()} entries)"
        if att.extra:
            yield f"{pad}  unparsed: {extra_names(att.extra)}"
    if msg.extra:
        yield f"{pad}unparsed: {extra_names(msg.extra)}"


def _item_lines(msg: Any) -> list[str]:
    """An item's fields in words (kind, when, recurs…), escaped: the first lines of a dump."""
    from msgsess import api
    from msgsess.props.printable import printable

    fields = api.item_fields(msg)
    if not fields:
        return []
    return [f"item: {fields[0][1]}", *(f"  {label}: {printable(text)}" for label, text in fields[1:])]


@click.command("dump")
@click.argument("file", type=_MSG_PATH, metavar="FILE.msg")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (every level, every property).")
@click.option("--full", is_flag=True, help="With --json: binary values in full, not as size and SHA-256.")
def dump_cmd(file: str, as_json: bool, full: bool) -> None:
    """Show every property of every level of FILE.msg (- reads it from stdin).

    Message, recipients, attachments and embedded messages to any depth:
    each property's name (from the tables), tag and type as the file stores
    them (PT_STRING8 in an ANSI file), flags and value; named properties by
    their property set and LID or name. On a terminal, a tree of tables as
    wide as the terminal; otherwise plain text; --json for scripts.

    Text from the file is shown with control characters and bytes that are no
    text escaped (\\x1b, \\n, \\xf8, \\ud800); in --json a string that is no text
    is {"invalid": HEX, "text": ...}: its bytes as stored, and its text with
    U+FFFD in their place.

    \b
    Example:
      msgsess dump mail.msg
      msgsess dump mail.msg --json | jq '.properties[] | select(.name == "PidTagSubject")'
      curl -s https://example.com/mail.msg | msgsess dump -
    """
    from msgsess import api
    from msgsess.dump import dump_message

    if full and not as_json:
        raise click.UsageError("--full goes with --json")
    msg = _decode(file)
    shown = "stdin" if file == "-" else file
    if as_json:
        data = {"file": shown, **dump_message(msg, full=full)}
        item = api.item_of(msg)
        if item is not None:
            data["item"] = item
        click.echo(json.dumps(data, ensure_ascii=False, indent=1))
        return
    from msgsess.props.printable import printable

    mode = "Unicode" if msg.source_unicode else f"ANSI, code page {msg.source_codepage}"
    title = f"{printable(shown)} ({mode})"
    if sys.stdout.isatty():
        from rich.console import Console

        from msgsess.dump import render_tree

        console = Console()
        from rich.markup import escape

        for line in _item_lines(msg):
            console.print(escape(line))
        console.print(render_tree(msg, title=title, columns=console.width))
        return
    click.echo(title)
    for line in _item_lines(msg):
        click.echo("  " + line)
    for line in _plain_lines(msg, 1):
        click.echo(line)


def _check_one(path: str) -> dict[str, Any]:
    """One file's result: its findings, or the error that kept it from being read."""
    from msgsess import cfb
    from msgsess.errors import MsgsessError
    from msgsess.oxmsg.check import check

    try:
        tree = cfb.read_file(Path(path))
    except MsgsessError as exc:
        return {"file": path, "readable": False, "error": exc.one_line(), "exit_code": exc.exit_code}
    findings = [
        {"severity": f.severity, "path": f.path, "rule": f.rule, "message": f.message} for f in check(tree)
    ]
    return {"file": path, "readable": True, "findings": findings}


#: Readable output shows this many findings per file, severity and spec rule; --all shows all.
PER_RULE = 20


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary(results: list[dict[str, Any]]) -> str:
    """The one line a run ends with: ``40 files: 0 errors, 3 warnings, 320 notes``."""
    from msgsess.oxmsg.check import SEVERITIES

    counts = dict.fromkeys(SEVERITIES, 0)
    for result in results:
        for f in result.get("findings", ()):
            counts[f["severity"]] += 1
    parts = [_plural(count, severity) for severity, count in counts.items()]
    unreadable = sum(1 for r in results if not r["readable"])
    if unreadable:
        parts.insert(0, f"{unreadable} unreadable")
    return f"{_plural(len(results), 'file')}: {', '.join(parts)}"


@click.command("check")
@click.argument("files", nargs=-1, required=True, type=_MSG_PATH, metavar="FILE.msg...")
@click.option("--json", "as_json", is_flag=True, help="Print every finding as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="Print errors only.")
@click.option(
    "--all",
    "show_all",
    is_flag=True,
    help=f"Print notes too, and every finding (default: errors and warnings, {PER_RULE} per file and rule).",
)
def check_cmd(files: tuple[str, ...], as_json: bool, quiet: bool, show_all: bool) -> None:
    """Check each FILE.msg against the structure rules of MS-OXMSG and MS-CFB.

    Prints one line per finding: file, severity, where in the file (storage
    or stream), what is wrong, and the rule; then one line for the run,
    "40 files: 0 errors, 3 warnings, 320 notes". Errors are what readers or
    Outlook mishandle; warnings what some reader may trip over; notes are
    harmless quirks Outlook's own files have, shown with --all. Exit 0 when
    no file has errors, 1 when some have, 8 when a file cannot be read at all.

    \b
    Example:
      msgsess check out/*.msg
      msgsess check --all mail.msg
      msgsess check --json mail.msg
    """
    from msgsess.errors import CheckFailed
    from msgsess.props.printable import printable

    results = [_check_one(path) for path in files]
    for result in results:
        if not result["readable"]:
            click.echo(printable(f"msgsess: error: {result['error']}"), err=True)
    if as_json:
        click.echo(json.dumps(results, ensure_ascii=False, indent=1))
    else:
        shown_severities = (
            {"error"} if quiet else {"error", "warning", "note"} if show_all else {"error", "warning"}
        )
        for result in results:
            shown: dict[tuple[str, str], int] = {}
            for f in result.get("findings", ()):
                if f["severity"] not in shown_severities:
                    continue
                key = (f["severity"], f["rule"])
                shown[key] = shown.get(key, 0) + 1
                if show_all or shown[key] <= PER_RULE:
                    where = f["path"] or "(root)"
                    line = f"{result['file']}: {f['severity']}: {where}: {f['message']} ({f['rule']})"
                    click.echo(printable(line))
            for (severity, rule), count in shown.items():
                if not show_all and count > PER_RULE:
                    more = f"… and {count - PER_RULE} more like these ({rule}; --all shows them)"
                    click.echo(printable(f"{result['file']}: {severity}: {more}"))
        click.echo(summary(results))
    unreadable = [r for r in results if not r["readable"]]
    failed = [r for r in results if any(f["severity"] == "error" for f in r.get("findings", ()))]
    if unreadable:
        # Each has had its line; exit with the code of what kept the first from being read (8: damaged).
        click.get_current_context().exit(int(unreadable[0]["exit_code"]))
    if failed:
        names = ", ".join(r["file"] for r in failed[:3])
        more = f" and {len(failed) - 3} more" if len(failed) > 3 else ""
        raise CheckFailed(f"{names}{more}: structure errors found", hint="see the findings above")
