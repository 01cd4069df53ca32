"""``msgsess dump`` and ``msgsess check``: look into any .msg file (no session needed)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from msgsess.cli.common import chatter

_MSG_PATH = click.Path(dir_okay=False, path_type=str)


def _decode(path: str) -> Any:
    """The model of the file at ``path``; damaged input is one error naming the file.

    The import path of ``edit`` and ``attach --msg``, with the limits for hostile input.
    """
    from msgsess.session.inputs import read_msg

    return read_msg(Path(path), path)  # only a regular file within the limit on inputs


def _bag_lines(bag: Any, pad: str) -> Iterator[str]:
    from msgsess.dump import _sort_key
    from msgsess.props import registry, values
    from msgsess.props import types as t
    from msgsess.props.keys import NamedId

    for pid in sorted(bag, key=_sort_key):
        prop = bag[pid]
        tag = str(pid) if isinstance(pid, NamedId) else f"0x{(pid << 16) | prop.type:08X}"
        if prop.type == t.PT_OBJECT:
            text = "(storage)"
        else:
            try:
                text = values.to_text(prop.type, prop.value, width=100)
            except Exception:  # a value that cannot be shown must not hide the rest
                text = repr(prop.value)[:100]
        name = registry.describe(pid, prop.type)
        yield f"{pad}{name}  {tag}  {t.type_name(prop.type)}  flags=0x{prop.flags:X}  {text}"


def _plain_lines(msg: Any, depth: int = 0) -> Iterator[str]:
    """The readable dump without rich: one property a line, levels indented."""
    pad = "  " * depth
    yield from _bag_lines(msg.props, pad)
    for index, rcpt in enumerate(msg.recipients):
        yield f"{pad}recipient {index}"
        yield from _bag_lines(rcpt.props, pad + "  ")
    for index, att in enumerate(msg.attachments):
        yield f"{pad}attachment {index}: {att.name or '(no name)'}"
        yield from _bag_lines(att.props, pad + "  ")
        if att.embedded is not None:
            yield f"{pad}  embedded message"
            yield from _plain_lines(att.embedded, depth + 2)
        if att.custom is not None:
            yield f"{pad}  custom storage ({att.custom.count()} entries)"
        if att.extra:
            yield f"{pad}  unparsed: {', '.join(sorted(att.extra))}"
    if msg.extra:
        yield f"{pad}unparsed: {', '.join(sorted(msg.extra))}"


@click.command("dump")
@click.argument("file", type=_MSG_PATH, metavar="FILE.msg")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (every level, every property).")
@click.option("--full", is_flag=True, help="With --json: binary values in full, not as size and SHA-256.")
def dump_cmd(file: str, as_json: bool, full: bool) -> None:
    """Show every property of every level of FILE.msg.

    Message, recipients, attachments and embedded messages to any depth:
    each property's name (from the tables), tag, type, flags and value,
    named properties by their property set and LID or name. On a terminal,
    a tree of tables; otherwise plain text; --json for scripts.

    \b
    Example:
      msgsess dump mail.msg
      msgsess dump mail.msg --json | jq '.properties[] | select(.name == "PidTagSubject")'
    """
    from msgsess.dump import dump_message

    msg = _decode(file)
    if as_json:
        data = {"file": file, **dump_message(msg, full=full)}
        click.echo(json.dumps(data, ensure_ascii=False, indent=1))
        return
    if full:
        raise click.UsageError("--full goes with --json")
    mode = "Unicode" if msg.source_unicode else f"ANSI, code page {msg.source_codepage}"
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.markup import escape

        from msgsess.dump import render_tree

        Console().print(render_tree(msg, title=escape(f"{file} ({mode})")))
        return
    click.echo(f"{file} ({mode})")
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


@click.command("check")
@click.argument("files", nargs=-1, required=True, type=_MSG_PATH, metavar="FILE.msg...")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="Print errors only, not warnings.")
@click.option(
    "--all", "show_all", is_flag=True, help=f"Print every finding (default: {PER_RULE} per file and rule)."
)
def check_cmd(files: tuple[str, ...], as_json: bool, quiet: bool, show_all: bool) -> None:
    """Check each FILE.msg against the structure rules of MS-OXMSG.

    Prints one line per finding: file, where in the file (storage or
    stream), severity, what is wrong, and the spec section. Warnings are
    departures Outlook itself makes; errors break the format. Exit 0 when no
    file has errors, 1 when some have, 8 when a file cannot be read at all.

    \b
    Example:
      msgsess check out/*.msg
      msgsess check --json mail.msg
    """
    from msgsess.errors import CheckFailed

    results = [_check_one(path) for path in files]
    for result in results:
        if not result["readable"]:
            click.echo(f"msgsess: error: {result['error']}", err=True)
    if as_json:
        click.echo(json.dumps(results, ensure_ascii=False, indent=1))
    else:
        for result in results:
            shown: dict[tuple[str, str], int] = {}
            for f in result.get("findings", ()):
                if quiet and f["severity"] != "error":
                    continue
                key = (f["severity"], f["rule"])
                shown[key] = shown.get(key, 0) + 1
                if show_all or shown[key] <= PER_RULE:
                    where = f["path"] or "(root)"
                    click.echo(f"{result['file']}: {f['severity']}: {where}: {f['message']} ({f['rule']})")
            for (severity, rule), count in shown.items():
                if not show_all and count > PER_RULE:
                    note = f"… and {count - PER_RULE} more like these ({rule}; --all shows them)"
                    click.echo(f"{result['file']}: {severity}: {note}")
    unreadable = [r for r in results if not r["readable"]]
    failed = [r for r in results if any(f["severity"] == "error" for f in r.get("findings", ()))]
    warnings = sum(1 for r in results for f in r.get("findings", ()) if f["severity"] == "warning")
    chatter(
        f"msgsess: {len(files)} file{'s' if len(files) != 1 else ''} checked: {len(failed)} with errors, "
        f"{len(unreadable)} unreadable, {warnings} warning{'s' if warnings != 1 else ''}"
    )
    if unreadable:
        # Each has had its line; exit with the code of what kept the first from being read (8: damaged).
        click.get_current_context().exit(int(unreadable[0]["exit_code"]))
    if failed:
        names = ", ".join(r["file"] for r in failed[:3])
        more = f" and {len(failed) - 3} more" if len(failed) > 3 else ""
        raise CheckFailed(f"{names}{more}: structure errors found", hint="see the findings above")
