"""``msgsess rm`` (alias ``remove``): remove messages from a session."""

from __future__ import annotations

import click

from msgsess import api
from msgsess.cli.common import MESSAGE_ID, session_argument, warning_line


@click.command("rm")
@session_argument
@click.argument("msg_ids", nargs=-1, required=True, type=MESSAGE_ID, metavar="ID...")
@click.option("--force", is_flag=True, help="Also remove the attachments that embed these messages.")
@click.option("--quiet", "-q", is_flag=True, help="Print no warnings.")
def rm_cmd(session: str, msg_ids: tuple[str, ...], force: bool, quiet: bool) -> None:
    """Remove messages ID... from SESSION (all of them, or none).

    A message that another message embeds (`attach --message`) is refused,
    naming the embedder, unless both are removed or --force is given:
    then the attachment that embeds it goes too (a warning names it). The
    ids of other messages never change, and removed ids are not given out
    again.

    \b
    Example:
      msgsess rm s.session m3
      msgsess remove s.session m3 m4
      msgsess rm --force s.session m2    # also its attachment in the message embedding it
    """
    warn = None if quiet else warning_line
    result = api.Session(session).rm(*msg_ids, force=force, warn=warn)
    if warn is not None:
        for parent, number, child in result.detached:
            warn(f"{parent}: attachment {number} (embedded message {child}) removed")
