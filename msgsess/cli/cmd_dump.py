"""``msgsess dump`` and ``msgsess check``: look into any .msg file (no session needed)."""

from __future__ import annotations

import base64
import json
import re
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from msgsess import api

if TYPE_CHECKING:
    from msgsess import Message

_MSG_PATH = click.Path(path_type=str)


def _item_lines(msg: Message) -> list[str]:
    """An item's fields in words (kind, when, recurs…), escaped: the first lines of a dump."""
    fields = api.item_fields(msg)
    if not fields:
        return []
    return [f"item: {fields[0][1]}", *(f"  {label}: {api.printable(text)}" for label, text in fields[1:])]


_SURROGATE = re.compile("[\ud800-\udfff]")


def _text_only(value: Any) -> Any:
    """An item's fields as JSON: U+FFFD for what is no text (a lone surrogate has no UTF-8 form),
    ``{"raw": "base64:…"}`` for a value of another type than the field's (a damaged file).

    The fields are a reading of the properties, which give such values exactly (``{"invalid":
    …}``, ``{"raw": …}``); here they only have to print, on any stream.
    """
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {k: _text_only(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_text_only(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    data = getattr(value, "data", None)
    if isinstance(data, bytes | bytearray):
        return {"raw": "base64:" + base64.b64encode(data).decode("ascii")}
    return _text_only(str(value))


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
    if full and not as_json:
        raise click.UsageError("--full goes with --json")
    shown = "stdin" if file == "-" else file
    # Damaged input is one error naming the file; only a regular file within the input limit.
    msg = api.read(api.stdin_bytes("dump") if file == "-" else file, name=shown)
    if as_json:
        data = {"file": shown, **api.dump(msg, full=full)}
        item = api.item_of(msg)
        if item is not None:
            data["item"] = _text_only(item)
        click.echo(json.dumps(data, ensure_ascii=False, indent=1))
        return
    mode = "Unicode" if msg.source_unicode else f"ANSI, code page {msg.source_codepage}"
    title = f"{api.printable(shown)} ({mode})"
    if sys.stdout.isatty():
        from rich.console import Console

        from msgsess.cli.dump_view import tree

        console = Console()
        from rich.markup import escape

        for line in _item_lines(msg):
            console.print(escape(line))
        width = max(console.width, 80)  # the most a line shows of a value
        console.print(tree(api.outline(msg, width=width), title=title, columns=console.width))
        return
    from msgsess.cli.dump_view import plain_lines

    click.echo(title)
    for line in _item_lines(msg):
        click.echo("  " + line)
    for line in plain_lines(api.outline(msg), 1):
        click.echo(line)


#: Readable output shows this many findings per file, severity and spec rule; --all shows all.
PER_RULE = 20


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary(results: Sequence[api.CheckResult]) -> str:
    """The one line a run ends with: ``40 files: 0 errors, 3 warnings, 320 notes``."""
    counts = dict.fromkeys(api.severities(), 0)
    for result in results:
        for f in result.findings:
            counts[f.severity] += 1
    parts = [_plural(count, severity) for severity, count in counts.items()]
    unreadable = sum(1 for r in results if not r.readable)
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
    from msgsess.cli.main import error_line
    from msgsess.errors import CheckFailed

    results = [api.check(path) for path in files]
    for result in results:
        if result.error is not None:
            error_line(result.error.one_line())
    if as_json:
        click.echo(json.dumps([r.to_json() for r in results], ensure_ascii=False, indent=1))
    else:
        shown_severities = (
            {"error"} if quiet else {"error", "warning", "note"} if show_all else {"error", "warning"}
        )
        for result in results:
            shown: dict[tuple[str, str], int] = {}
            for f in result.findings:
                if f.severity not in shown_severities:
                    continue
                key = (f.severity, f.rule)
                shown[key] = shown.get(key, 0) + 1
                if show_all or shown[key] <= PER_RULE:
                    line = f"{result.file}: {f.severity}: {f.path or '(root)'}: {f.message} ({f.rule})"
                    click.echo(api.printable(line))
            for (severity, rule), count in shown.items():
                if not show_all and count > PER_RULE:
                    more = f"… and {count - PER_RULE} more like these ({rule}; --all shows them)"
                    click.echo(api.printable(f"{result.file}: {severity}: {more}"))
        click.echo(summary(results))
    unreadable = [r for r in results if r.error is not None]
    failed = [r for r in results if any(f.severity == "error" for f in r.findings)]
    if unreadable and unreadable[0].error is not None:
        # Each has had its line; exit with the code of what kept the first from being read (8: damaged).
        click.get_current_context().exit(int(unreadable[0].error.exit_code))
    if failed:
        names = ", ".join(r.file for r in failed[:3])
        more = f" and {len(failed) - 3} more" if len(failed) > 3 else ""
        raise CheckFailed(f"{names}{more}: structure errors found", hint="see the findings above")
