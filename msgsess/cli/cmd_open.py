"""``msgsess open`` and ``msgsess discard``: create and throw away a session."""

from __future__ import annotations

import click

from msgsess import api
from msgsess.cli import actions
from msgsess.cli.common import ANSI_CODEPAGE, session_argument


@click.command("open")
@session_argument
@click.option("--ansi", is_flag=True, help="Write ANSI (8-bit) strings instead of Unicode.")
@click.option(
    "--codepage",
    type=ANSI_CODEPAGE,
    metavar="CP",
    help="ANSI code page, number or name: 1251, windows-1251, koi8-r (with --ansi; default 1252).",
)
@click.option("--force", is_flag=True, help="Replace an existing session file.")
def open_cmd(session: str, ansi: bool, codepage: int | None, force: bool) -> None:
    """Create the session file SESSION.

    Messages are written as Unicode unless --ansi. An existing session is
    kept unless --force, which waits (up to MSGSESS_LOCK_TIMEOUT seconds)
    for the commands using it before it replaces it, as discard does.

    \b
    Example:
      msgsess open build/mail.session
      msgsess open legacy.session --ansi --codepage 1251
    """
    try:
        actions.open_session(session, ansi, codepage, force)
    except actions.Usage as exc:
        raise click.UsageError(exc.message) from None


@click.command("discard")
@session_argument
def discard_cmd(session: str) -> None:
    """Remove SESSION without writing any message.

    \b
    Example:
      msgsess discard build/mail.session
    """
    api.Session(session).discard()
