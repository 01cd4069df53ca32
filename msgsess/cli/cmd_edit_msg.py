"""``msgsess edit`` and ``msgsess detach``: change an existing .msg file in a session."""

from __future__ import annotations

import click

from msgsess import api
from msgsess.cli import actions
from msgsess.cli.common import ATTACHMENT_NUMBER, MESSAGE_ID, READ_CODEPAGE, session_argument


@click.command("edit")
@session_argument
@click.argument("file", type=click.Path(), metavar="FILE.msg")
@click.option(
    "--out", "output", type=click.Path(dir_okay=False), metavar="OUTPUT.msg", help="Write here, not to FILE."
)
@click.option("--id", "msg_id", metavar="ID", help="Message id (default: m1, m2…).")
@click.option(
    "--codepage",
    type=READ_CODEPAGE,
    metavar="CP",
    help="Code page (number or name) of an ANSI file's strings when the file names none (default 1252).",
)
def edit_cmd(session: str, file: str, output: str | None, msg_id: str | None, codepage: int | None) -> None:
    """Add the existing FILE.msg to SESSION as a message to change; print its id.

    The file is read and checked now (later changes to it do not count).
    Every other command then works on it as on a new message: set, unset,
    recipient, recipient --remove, attach, detach, show. `close` writes it
    back to FILE.msg (or to --out) with everything you did not change kept,
    in the file's own string mode unless `close --unicode` or `--ansi`.

    Recipients and attachments are numbered as the written file will hold
    them: the file's own first (in their order, without removed ones), then
    added ones.

    \b
    Example:
      msgsess edit s.session old.msg --out new.msg
      msgsess set s.session m1 PidTagSubject 'RE: new subject'
      msgsess recipient s.session m1 --remove 0
      msgsess close s.session --unicode
    """
    actions.edit(session, file, output, msg_id, codepage)


@click.command("detach")
@session_argument
@click.argument("msg_id", type=MESSAGE_ID, metavar="ID")
@click.argument("number", type=ATTACHMENT_NUMBER, metavar="N")
def detach_cmd(session: str, msg_id: str, number: int) -> None:
    """Remove attachment N from message ID.

    N is the number `show` gives (from 0); later attachments move up by one.
    Removing the last attachment of a message also clears its
    has-attachments flags.

    \b
    Example:
      msgsess detach s.session m1 0
    """
    api.Session(session).detach(msg_id, number)
