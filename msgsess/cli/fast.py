"""The console script's entry: common invocations of hot commands start without click.

Importing click (and what it imports) costs a ``msgsess`` process about twice a bare Python's
start-up, more than ``add`` or ``dump`` of one message needs for all its work (issue 11). So
``open``, ``add``, ``edit``, ``dump`` and ``check`` are read here from :data:`TABLE`, a copy of
their click options that a test checks against the click commands (one source of truth: the
decorators in ``cmd_*.py``), and run through the same code (``cli/actions.py``,
``cli/output.py``). Anything this reader does not take exactly as click would goes to click
untouched: help, ``--version``, shell completion, unknown or repeated-in-doubt options,
``--``, values of types it does not check (``--codepage``, ``--sequence``…), a missing or
extra argument, ``--ics``/``--vcard``; ``MSGSESS_NO_FAST=1`` sends everything there. Usage
errors are thus click's own words; the few a command finds itself (``--full`` without
``--json``) are printed here as the click group prints them.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: Kinds of parameters. ``text``: a string; ``file``: a path, not a folder (``click.Path(dir_okay=
#: False)``); ``path``: a path (``click.Path()``); with ``*``: given any number of times (a tuple);
#: ``flag``: a flag (False when absent); ``flag?``: a flag that is None when absent; a tuple:
#: one of these words (``click.Choice``); ``click``: any other type, left to click.
#: Arguments are ``(name, kind, count)``: count 1, 0 (optional: None when absent) or -1 (one or
#: more, a tuple).
Arguments = tuple[tuple[str, str, int], ...]
Options = dict[str, tuple[str, str | tuple[str, ...]]]

_OPEN: Options = {
    "--ansi": ("ansi", "flag"),
    "--codepage": ("codepage", "click"),
    "--force": ("force", "flag"),
}
_ADD: Options = {
    "--json": ("json_input", "text"),
    "--eml": ("eml", "path"),
    "--id": ("msg_id", "text"),
    "--class": ("msg_class", "text"),
    "--subject": ("subject", "text"),
    "--body": ("body", "text"),
    "--body-file": ("body_file", "path"),
    "--html": ("html", "text"),
    "--html-file": ("html_file", "path"),
    "--rtf-file": ("rtf_file", "path"),
    "--from": ("from_addr", "text"),
    "--sender": ("sender", "text"),
    "--to": ("to", "text*"),
    "--cc": ("cc", "text*"),
    "--bcc": ("bcc", "text*"),
    "--reply-to": ("reply_to", "text*"),
    "--date": ("date", "text"),
    "--draft": ("draft", "flag?"),
    "--sent": ("sent", "flag?"),
    "--importance": ("importance", ("low", "normal", "high")),
    "--sensitivity": ("sensitivity", ("normal", "personal", "private", "confidential")),
    "--category": ("category", "text*"),
    "--header": ("header", "text*"),
    "--message-id": ("message_id", "text"),
    "--read-receipt": ("read_receipt", "flag?"),
    "--delivery-receipt": ("delivery_receipt", "flag?"),
    "--flag": ("flag", "text"),
    "--due": ("due", "text"),
    "--template": ("template", "flag?"),
    "--attach": ("attach", "path*"),
    "--set": ("set_props", "text*"),
    "--replace": ("replace", "flag"),
    "--kind": ("kind", ("mail", "appointment", "meeting", "contact", "task", "note", "distlist")),
    "--start": ("start", "text"),
    "--end": ("end", "text"),
    "--all-day": ("all_day", "text"),
    "--timezone": ("timezone", "text"),
    "--location": ("location", "text"),
    "--busy": ("busy", ("free", "tentative", "busy", "oof", "elsewhere")),
    "--reminder": ("reminder", "text"),
    "--recurrence": ("recurrence", "text"),
    "--exdate": ("exdate", "text*"),
    "--organizer": ("organizer", "text"),
    "--attendee": ("attendee", "text*"),
    "--optional": ("optional", "text*"),
    "--resource": ("resource", "text*"),
    "--uid": ("uid", "text"),
    "--sequence": ("sequence", "click"),
    "--name": ("name", "text"),
    "--email": ("email", "text*"),
    "--phone": ("phone", "text*"),
    "--address": ("address", "text*"),
    "--company": ("company", "text"),
    "--job-title": ("job_title", "text"),
    "--birthday": ("birthday", "text"),
    "--web": ("web", "text"),
    "--photo": ("photo", "path"),
    "--status": ("status", ("not-started", "in-progress", "complete", "waiting", "deferred")),
    "--percent": ("percent", "click"),
    "--priority": ("priority", ("low", "normal", "high")),
    "--owner": ("owner", "text"),
    "--color": ("color", ("blue", "green", "pink", "yellow", "white")),
    "--member": ("member", "text*"),
    "--ics": ("ics", "click"),  # add's items: cmd_add's own branch
    "--vcard": ("vcard", "click"),
    "--quiet": ("quiet", "flag"),
    "-q": ("quiet", "flag"),
}
_EDIT: Options = {
    "--out": ("output", "file"),
    "--id": ("msg_id", "text"),
    "--codepage": ("codepage", "click"),
}
_DUMP: Options = {"--json": ("as_json", "flag"), "--full": ("full", "flag")}
_CHECK: Options = {
    "--json": ("as_json", "flag"),
    "--quiet": ("quiet", "flag"),
    "-q": ("quiet", "flag"),
    "--all": ("show_all", "flag"),
}

#: Command -> (arguments, options), as the click commands declare them (tests/cli/test_fast.py).
TABLE: dict[str, tuple[Arguments, Options]] = {
    "open": ((("session", "file", 1),), _OPEN),
    "add": ((("session", "file", 1), ("output", "file", 0)), _ADD),
    "edit": ((("session", "file", 1), ("file", "path", 1)), _EDIT),
    "dump": ((("file", "path", 1),), _DUMP),
    "check": ((("files", "path", -1),), _CHECK),
}


def _path_ok(value: str, folder_ok: bool) -> bool:
    """What ``click.Path(dir_okay=folder_ok)`` accepts without a word: no file, or a readable one
    (a folder only if ``folder_ok``)."""
    try:
        st = os.stat(value)
    except (OSError, ValueError):
        return True
    if not folder_ok and (st.st_mode & 0o170000) == 0o040000:
        return False
    return os.access(value, os.R_OK)


def _value_ok(kind: str | tuple[str, ...], value: str) -> bool:
    if isinstance(kind, tuple):
        return value in kind
    if kind.startswith("file"):
        return _path_ok(value, False)
    if kind.startswith("path"):
        return _path_ok(value, True)
    return kind.startswith("text")


def parse(command: str, args: list[str]) -> dict[str, Any] | None:
    """The parameters click would give ``command`` for ``args`` (name -> value), or None when
    anything is not certain to read the same: then click reads them."""
    arguments, options = TABLE[command]
    params: dict[str, Any] = {}
    for name, kind in options.values():
        params[name] = () if kind in ("text*", "path*") else False if kind == "flag" else None
    given: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg[:1] != "-" or arg == "-":
            given.append(arg)
            continue
        name, eq, value = arg.partition("=") if arg[:2] == "--" else (arg, "", "")
        if name not in options:
            return None  # --help, --, an unknown option, -qq, -5: click's to read
        param, kind = options[name]
        if kind in ("flag", "flag?"):
            if eq:
                return None
            params[param] = True
            continue
        if not eq:
            if i >= len(args):
                return None
            value = args[i]  # whatever it looks like, as click takes it
            i += 1
        if kind == "click" or not _value_ok(kind, value):
            return None
        if isinstance(kind, str) and kind.endswith("*"):
            params[param] = (*params[param], value)
        else:
            params[param] = value
    for name, kind, count in arguments:
        if count == -1:
            taken: list[str] = given
            given = []
        else:
            taken, given = given[:1], given[1:]
        if (count != 0 and not taken) or not all(_value_ok(kind, v) for v in taken):
            return None
        params[name] = tuple(taken) if count == -1 else taken[0] if taken else None
    return None if given else params


def run(command: str, params: dict[str, Any]) -> int:
    """Run ``command``; its exit status (raises what the command raises)."""
    from msgsess.cli import actions

    p = params
    if command == "add":
        if p["ics"] is not None or p["vcard"] is not None:
            raise AssertionError("add --ics/--vcard is click's")  # never: parse leaves them to click
        own = ("session", "json_input", "replace", "quiet", "ics", "vcard")
        rest = {k: v for k, v in p.items() if k not in own}
        actions.add(p["session"], p["json_input"], p["replace"], p["quiet"], rest)
    elif command == "open":
        actions.open_session(p["session"], p["ansi"], p["codepage"], p["force"])
    elif command == "edit":
        actions.edit(p["session"], p["file"], p["output"], p["msg_id"], p["codepage"])
    elif command == "dump":
        actions.dump(p["file"], p["as_json"], p["full"])
    else:
        return actions.check(p["files"], p["as_json"], p["quiet"], p["show_all"])
    return 0


def attempt(argv: list[str]) -> int | None:
    """Run ``argv`` (after ``msgsess``) without click if it reads the same; the exit status, or
    None for click to run it (nothing has been done then)."""
    if not argv or argv[0] not in TABLE or os.environ.get("MSGSESS_NO_FAST"):
        return None
    if sys.stdout is None or "_MSGSESS_COMPLETE" in os.environ:
        return None
    command = argv[0]
    params = parse(command, argv[1:])
    if params is None:
        return None
    for stream in (sys.stdout, sys.stderr):
        # As cli.main.main: nothing printed may crash on text that is no Unicode.
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    from msgsess.cli import actions
    from msgsess.cli.output import error_line, failure, usage_text

    try:
        return run(command, params)
    except actions.Usage as exc:
        error_line(usage_text(exc.message, [command]))
        return 2
    except MemoryError:
        pass  # reported below, once the frames that held the memory are gone
    except BaseException as exc:
        if isinstance(exc, SystemExit | GeneratorExit):
            raise
        return failure(exc, command)
    return failure(MemoryError(), command)


def main() -> None:
    """Console script entry point (``msgsess``, ``python -m msgsess``)."""
    status = attempt(sys.argv[1:])
    if status is None:
        from msgsess.cli.main import main as click_main

        click_main()
        return
    sys.exit(status)
