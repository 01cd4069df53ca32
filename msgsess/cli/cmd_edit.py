"""``msgsess recipient``, ``attach``, ``set`` and ``unset``: change a message of a session."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from msgsess import api
from msgsess.cli.common import (
    ATTACHMENT_NUMBER,
    MESSAGE_ID,
    PROP_NAME,
    PROP_TYPE,
    RECIPIENT_NUMBER,
    NegativeValuesCommand,
    print_lines,
    session_argument,
)


@click.command("recipient")
@session_argument
@click.argument("msg_id", type=MESSAGE_ID, metavar="ID")
@click.option("--to", "kind", flag_value="to", help="Add To recipients.")
@click.option("--cc", "kind", flag_value="cc", help="Add Cc recipients.")
@click.option("--bcc", "kind", flag_value="bcc", help="Add Bcc recipients.")
@click.option("--remove", type=RECIPIENT_NUMBER, metavar="N", help="Remove recipient N instead (see `show`).")
@click.argument("addresses", nargs=-1, metavar="ADDR...")
def recipient_cmd(
    session: str, msg_id: str, kind: str | None, remove: int | None, addresses: tuple[str, ...]
) -> None:
    """Add recipients to message ID and print their numbers, or remove one.

    ADDR is 'Display Name <user@example.com>' or 'user@example.com'.
    Recipients are numbered from 0 across To, Cc and Bcc, in that order
    (the numbers `set --recipient N` takes); in a message from `edit`, the
    file's own recipients come first. --remove N removes recipient N
    (later ones move up by one).

    \b
    Example:
      msgsess recipient s.session m1 --cc 'Carol <carol@example.com>' dave@example.com
      msgsess recipient s.session m1 --remove 0
    """
    if remove is not None:
        if kind is not None or addresses:
            raise click.UsageError("--remove N takes no --to/--cc/--bcc and no ADDR")
        api.Session(session).remove_recipient(msg_id, remove)
        return
    if kind is None:
        raise click.UsageError("give --to, --cc or --bcc (or --remove N)")
    if not addresses:
        raise click.UsageError("give at least one ADDR")
    print_lines(api.Session(session).recipient(msg_id, *addresses, kind=kind))


@click.command("attach")
@session_argument
@click.argument("msg_id", type=MESSAGE_ID, metavar="ID")
@click.argument("files", nargs=-1, type=click.Path(), metavar="[FILE]...")
@click.option(
    "--message", "other", type=MESSAGE_ID, metavar="OTHER_ID", help="Embed another message of the session."
)
@click.option("--msg", "msg_file", type=click.Path(), metavar="FILE.msg", help="Embed a .msg file.")
@click.option("--name", metavar="NAME", help="File name shown for the attachment.")
@click.option("--mime", metavar="TYPE", help="MIME type, e.g. image/png.")
@click.option("--content-id", metavar="CID", help="Content-ID for inline images (cid: in HTML).")
@click.option("--hidden", is_flag=True, default=None, help="Hide the attachment from the attachment list.")
def attach_cmd(
    session: str,
    msg_id: str,
    files: tuple[str, ...],
    other: str | None,
    msg_file: str | None,
    **options: Any,
) -> None:
    """Attach files (read now), a session message, or a .msg file to ID.

    Prints the number of each new attachment (from 0; `set --attachment N`
    takes it). An embedded session message is written inside its parent
    at `close`; embedding cycles are refused.

    \b
    Example:
      msgsess attach s.session m1 report.pdf data.csv
      msgsess attach s.session m1 logo.png --content-id logo --hidden
      msgsess attach s.session m1 --message m2
      msgsess attach s.session m1 --msg old.msg
    """
    sources = sum((bool(files), other is not None, msg_file is not None))
    if sources != 1:
        raise click.UsageError("give FILE..., --message OTHER_ID or --msg FILE.msg (exactly one)")
    extra = {k: v for k, v in options.items() if v is not None}
    if options["name"] is not None and len(files) > 1:
        raise click.UsageError("--name names one attachment; give one FILE with it")
    print_lines(api.Session(session).attach(msg_id, *files, message=other, msg=msg_file, **extra))


_F = TypeVar("_F", bound=Callable[..., Any])
_RECIPIENT = click.option("--recipient", type=RECIPIENT_NUMBER, metavar="N", help="Recipient number N.")
_ATTACHMENT = click.option("--attachment", type=ATTACHMENT_NUMBER, metavar="N", help="Attachment number N.")


def _target_options(func: _F) -> _F:
    return _RECIPIENT(_ATTACHMENT(func))


@click.command("set", cls=NegativeValuesCommand)
@session_argument
@click.argument("msg_id", type=MESSAGE_ID, metavar="ID")
@click.argument("prop", type=PROP_NAME, metavar="PROP")
@click.argument("value", metavar="VALUE")
@click.option(
    "--type",
    "type_name",
    type=PROP_TYPE,
    metavar="TYPE",
    help="Property type, e.g. PT_LONG (for names without one).",
)
@_target_options
def set_cmd(
    session: str,
    msg_id: str,
    prop: str,
    value: str,
    type_name: str | None,
    recipient: int | None,
    attachment: int | None,
) -> None:
    """Set MAPI property PROP of message ID (or of a recipient or attachment).

    PROP is a name (PidTagImportance, PR_IMPORTANCE), a hex tag (0x00170003)
    or a named property (PS_PUBLIC_STRINGS:MyName). VALUE is read as
    add --set and JSON read it (docs/VALUES.md): in the syntax of the type
    the tables know (numbers, true/false, ISO 8601 times, hex:/base64: for
    binary, a JSON array for multi-valued; any text for a string), checked
    against it (PidTagImportance takes 0-2); for a name whose type nothing
    says, JSON gives the type (5, true, ["a","b"], "5" for text) and other
    text is a string. {"type": T, "value": V} gives the type; @FILE reads
    a text or binary value from a file, @@ is a leading @.
    A negative number needs no `--` (`set s m1 PidTagPriority -1`); other
    values starting with `-` do (`set s m1 PidTagSubject -- -draft-`).
    --type gives the type of a name that says none (a bare id, a named
    property by set); it cannot contradict the type the tables know.

    \b
    Example:
      msgsess set s.session m1 PidTagImportance 2
      msgsess set s.session m1 PS_PUBLIC_STRINGS:Project Apollo
      msgsess set s.session m1 PS_PUBLIC_STRINGS:Tags '["alpha", "beta"]'
      msgsess set s.session m1 PidTagBody @notes.txt
      msgsess set s.session m1 PidTagAttachContentId logo --attachment 0
      msgsess set s.session m1 PidTagPriority -1
      msgsess set s.session m1 0x6601 -5 --type PT_SHORT
    """
    if recipient is not None and attachment is not None:
        raise click.UsageError("give --recipient or --attachment, not both")
    api.Session(session).set(msg_id, prop, value, type=type_name, recipient=recipient, attachment=attachment)


@click.command("unset")
@session_argument
@click.argument("msg_id", type=MESSAGE_ID, metavar="ID")
@click.argument("prop", type=PROP_NAME, metavar="PROP")
@_target_options
def unset_cmd(session: str, msg_id: str, prop: str, recipient: int | None, attachment: int | None) -> None:
    """Remove property PROP from message ID (or a recipient or attachment).

    This also removes a value msgsess would set by default.

    \b
    Example:
      msgsess unset s.session m1 PidTagSensitivity
    """
    if recipient is not None and attachment is not None:
        raise click.UsageError("give --recipient or --attachment, not both")
    api.Session(session).unset(msg_id, prop, recipient=recipient, attachment=attachment)
