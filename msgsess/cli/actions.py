"""What ``open``, ``add``, ``edit``, ``dump`` and ``check`` do once their options are read.

Click-free, so that the fast start (``cli/fast.py``) and the click commands (``cmd_*.py``) run
the same code: each takes the parameters as click gives them (name -> value) and prints. A
usage error found here (options that exclude each other) is :class:`Usage`; the click commands
raise it as ``click.UsageError``, the fast start prints the same line.
"""

from __future__ import annotations

from msgsess import api
from msgsess.cli.output import echo, print_lines, warning_line

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from msgsess import Message


class Usage(Exception):
    """A usage error of the command being run (exit 2, pointing at its ``--help``)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- open ---------------------------------------------------------------------------------------


def open_session(session: str, ansi: bool, codepage: int | None, force: bool) -> None:
    if codepage is not None and not ansi:
        raise Usage("--codepage needs --ansi")
    api.Session.create(session, unicode=not ansi, codepage=codepage, force=force)


# --- add ------------------------------------------------------------------------------------------


def add(session: str, json_input: str | None, replace: bool, quiet: bool, params: dict[str, Any]) -> None:
    """``add`` from flags or ``--json`` (``--ics``/``--vcard`` are ``cmd_add``'s): print the ids."""
    from msgsess.spec import FLAG_KEYS, option_name

    warn = None if quiet else warning_line
    target = api.Session(session)
    if json_input is not None:
        given = [k for k in FLAG_KEYS if params.get(k) is not None and params.get(k) != ()]
        if given:
            flag = option_name(given[0])
            raise Usage(f"--json takes every message from the JSON; {flag} cannot be added to it")
        source = "stdin" if json_input == "-" else json_input
        # The text is not kept here: only the reader of specs holds it, and lets it go.
        ids = target.add_json(
            api.read_text_input(json_input, "--json"), source=source, warn=warn, replace=replace
        )
    else:
        try:
            # Errors name the flags typed (--all-day), not the spec keys (api.add_from_options).
            ids = [api.add_from_options(target, params, warn=warn, replace=replace)]
        except api.OptionConflict as exc:
            raise Usage(exc.message) from None
    print_lines(ids)


# --- edit -----------------------------------------------------------------------------------------


def edit(session: str, file: str, output: str | None, msg_id: str | None, codepage: int | None) -> None:
    echo(api.Session(session).edit(file, output=output, id=msg_id, codepage=codepage))


# --- dump -----------------------------------------------------------------------------------------


def _item_lines(msg: Message) -> list[str]:
    """An item's fields in words (kind, when, recurs…), escaped: the first lines of a dump."""
    fields = api.item_fields(msg)
    if not fields:
        return []
    return [f"item: {fields[0][1]}", *(f"  {label}: {api.printable(text)}" for label, text in fields[1:])]


def text_only(value: Any) -> Any:
    """An item's fields as JSON: U+FFFD for what is no text (a lone surrogate has no UTF-8 form),
    ``{"raw": "base64:…"}`` for a value of another type than the field's (a damaged file).

    The fields are a reading of the properties, which give such values exactly (``{"invalid":
    …}``, ``{"raw": …}``); here they only have to print, on any stream.
    """
    if isinstance(value, str):
        import re

        return re.sub("[\ud800-\udfff]", "\ufffd", value)
    if isinstance(value, dict):
        return {k: text_only(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [text_only(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    data = getattr(value, "data", None)
    if isinstance(data, bytes | bytearray):
        import base64

        return {"raw": "base64:" + base64.b64encode(data).decode("ascii")}
    return text_only(str(value))


def dump(file: str, as_json: bool, full: bool) -> None:
    import sys

    if full and not as_json:
        raise Usage("--full goes with --json")
    shown = "stdin" if file == "-" else file
    # Damaged input is one error naming the file; only a regular file within the input limit.
    msg = api.read(api.stdin_bytes("dump") if file == "-" else file, name=shown)
    if as_json:
        import json

        data = {"file": shown, **api.dump(msg, full=full)}
        item = api.item_of(msg)
        if item is not None:
            data["item"] = text_only(item)
        echo(json.dumps(data, ensure_ascii=False, indent=1))
        return
    mode = "Unicode" if msg.source_unicode else f"ANSI, code page {msg.source_codepage}"
    title = f"{api.printable(shown)} ({mode})"
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.markup import escape

        from msgsess.cli.dump_view import tree

        console = Console()
        for line in _item_lines(msg):
            console.print(escape(line))
        width = max(console.width, 80)  # the most a line shows of a value
        console.print(tree(api.outline(msg, width=width), title=title, columns=console.width))
        return
    from msgsess.cli.dump_view import plain_lines

    echo(title)
    for line in _item_lines(msg):
        echo("  " + line)
    for line in plain_lines(api.outline(msg), 1):
        echo(line)


# --- check ----------------------------------------------------------------------------------------

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


def check(files: Sequence[str], as_json: bool, quiet: bool, show_all: bool) -> int:
    """``check``: print the findings; the exit status when no :class:`CheckFailed` says it."""
    from msgsess.cli.output import error_line
    from msgsess.errors import CheckFailed

    results = [api.check(path) for path in files]
    for result in results:
        if result.error is not None:
            error_line(result.error.one_line())
    if as_json:
        import json

        echo(json.dumps([r.to_json() for r in results], ensure_ascii=False, indent=1))
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
                    echo(api.printable(line))
            for (severity, rule), count in shown.items():
                if not show_all and count > PER_RULE:
                    more = f"… and {count - PER_RULE} more like these ({rule}; --all shows them)"
                    echo(api.printable(f"{result.file}: {severity}: {more}"))
        echo(summary(results))
    unreadable = [r for r in results if r.error is not None]
    failed = [r for r in results if any(f.severity == "error" for f in r.findings)]
    if unreadable and unreadable[0].error is not None:
        # Each has had its line; exit with the code of what kept the first from being read (8: damaged).
        return int(unreadable[0].error.exit_code)
    if failed:
        names = ", ".join(r.file for r in failed[:3])
        more = f" and {len(failed) - 3} more" if len(failed) > 3 else ""
        raise CheckFailed(f"{names}{more}: structure errors found", hint="see the findings above")
    return 0
