"""``msgsess output``: print or change where a message of a session is written."""

from __future__ import annotations

import click

from msgsess import api
from msgsess.cli.common import MESSAGE_ID, session_argument, warning_line


@click.command("output")
@session_argument
@click.argument("msg_id", type=MESSAGE_ID, metavar="ID")
@click.argument("path", required=False, type=click.Path(dir_okay=False), metavar="[PATH]")
@click.option("--none", "no_output", is_flag=True, help="No output: the message is only embedded.")
@click.option("--quiet", "-q", is_flag=True, help="Print no warnings.")
def output_cmd(session: str, msg_id: str, path: str | None, no_output: bool, quiet: bool) -> None:
    """Print the output of message ID, or change it to PATH (or --none).

    Without PATH, prints the absolute path `close` writes the message to
    (nothing for a message without one). PATH is taken from the current
    folder; another message's output is refused (exit 10). --none makes
    the message embed-only: `close` writes it only inside a message that
    embeds it (`attach --message`). Warnings as for `add`.

    \b
    Example:
      msgsess output s.session m3
      msgsess output s.session m3 out/r03.msg
      msgsess output s.session m3 --none
    """
    if path is not None and no_output:
        raise click.UsageError("give PATH or --none, not both")
    if path is None and not no_output:
        current = api.Session(session).output(msg_id)
        if current is not None:
            click.echo(current)
        return
    api.Session(session).set_output(msg_id, path, warn=None if quiet else warning_line)
