"""``msgsess dump`` and ``msgsess check``: look into any .msg file (no session needed)."""

from __future__ import annotations

import click

from msgsess.cli import actions

_MSG_PATH = click.Path(path_type=str)


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
    try:
        actions.dump(file, as_json, full)
    except actions.Usage as exc:
        raise click.UsageError(exc.message) from None


@click.command("check")
@click.argument("files", nargs=-1, required=True, type=_MSG_PATH, metavar="FILE.msg...")
@click.option("--json", "as_json", is_flag=True, help="Print every finding as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="Print errors only.")
@click.option(
    "--all",
    "show_all",
    is_flag=True,
    help="Print notes too, and every finding (default: errors and warnings, "
    f"{actions.PER_RULE} per file and rule).",
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
    code = actions.check(files, as_json, quiet, show_all)
    if code:
        click.get_current_context().exit(code)
