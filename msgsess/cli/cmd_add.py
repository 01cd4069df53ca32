"""``msgsess add``: add a message from flags, or messages from JSON; print their ids."""

from __future__ import annotations

from typing import Any

import click

from msgsess import api
from msgsess.cli import actions
from msgsess.cli.common import PROP_ASSIGNMENT, print_lines, session_argument, warning_line
from msgsess.cli.item_options import item_options
from msgsess.spec import FLAG_KEYS, option_name


@click.command("add")
@session_argument
@click.argument("output", required=False, type=click.Path(dir_okay=False), metavar="[OUTPUT.msg]")
@click.option(
    "--json", "json_input", metavar="FILE|-", help="Read message specs (object, array or JSON Lines)."
)
@click.option(
    "--eml",
    type=click.Path(),
    metavar="FILE|-",
    help="Start from a MIME message (.eml; '-': stdin); the other options change it.",
)
@click.option("--id", "msg_id", metavar="ID", help="Message id (default: m1, m2…).")
@click.option("--class", "msg_class", metavar="CLASS", help="Message class (default IPM.Note).")
@click.option("--subject", metavar="TEXT")
@click.option("--body", metavar="TEXT", help="Plain-text body.")
@click.option(
    "--body-file",
    type=click.Path(),
    metavar="FILE|-",
    help="Plain-text body from a UTF-8 file ('-': stdin).",
)
@click.option("--html", metavar="TEXT", help="HTML body.")
@click.option(
    "--html-file",
    type=click.Path(),
    metavar="FILE|-",
    help="HTML body from a UTF-8 file ('-': stdin).",
)
@click.option("--rtf-file", type=click.Path(), metavar="FILE", help="RTF body from a file, as is.")
@click.option("--from", "from_addr", metavar="ADDR", help="'Name <user@example.com>' or 'user@example.com'.")
@click.option("--sender", metavar="ADDR", help="Who sends on behalf of --from, when not --from itself.")
@click.option("--to", multiple=True, metavar="ADDR")
@click.option("--cc", multiple=True, metavar="ADDR")
@click.option("--bcc", multiple=True, metavar="ADDR")
@click.option("--reply-to", multiple=True, metavar="ADDR")
@click.option("--date", metavar="ISO8601", help="e.g. 2024-05-01T09:30:00+02:00.")
@click.option("--draft", is_flag=True, default=None, help="An unsent draft (the default).")
@click.option("--sent", is_flag=True, default=None, help="A sent message (not with --draft).")
@click.option("--importance", type=click.Choice(["low", "normal", "high"]))
@click.option("--sensitivity", type=click.Choice(["normal", "personal", "private", "confidential"]))
@click.option("--category", multiple=True, metavar="TEXT")
@click.option("--header", multiple=True, metavar="'Name: value'", help="Internet header.")
@click.option("--message-id", metavar="ID", help="Internet Message-ID.")
@click.option("--read-receipt", is_flag=True, default=None, help="Ask for a read receipt.")
@click.option("--delivery-receipt", is_flag=True, default=None, help="Ask for a delivery receipt.")
@click.option("--flag", metavar="TEXT", help="Follow-up flag, e.g. 'Follow up' ('' for the default).")
@click.option("--due", metavar="DATE", help="Due date of the --flag, ISO 8601 (e.g. 2024-05-03).")
@click.option(
    "--template", is_flag=True, default=None, help="Write an Outlook template (automatic for OUTPUT.oft)."
)
@click.option("--attach", multiple=True, type=click.Path(), metavar="FILE", help="Attach a file.")
@click.option(
    "--set",
    "set_props",
    multiple=True,
    type=PROP_ASSIGNMENT,
    help="Set a MAPI property; VALUE as in `msgsess set` (docs/VALUES.md).",
)
@click.option(
    "--replace",
    is_flag=True,
    help="Replace the message with this --id (or OUTPUT) whole if there is one; else add it.",
)
@item_options
@click.option("--quiet", "-q", is_flag=True, help="Print no warnings.")
def add_cmd(
    session: str,
    json_input: str | None,
    replace: bool,
    quiet: bool,
    ics: str | None,
    vcard: str | None,
    **params: Any,
) -> None:
    """Add a message to SESSION and print its id.

    OUTPUT.msg is where `close` writes it; leave it out for a message that
    will only be embedded in another (`attach --message`). An OUTPUT ending
    in .oft (or --template) is an Outlook template. Attachment files are
    read now. With --json, read one message object, an array, or JSON
    Lines (schema: message.schema.json) and print one id per line.

    With --eml, the message is read from MIME mail (RFC 5322, as Outlook
    stores received mail: docs/EML.md) and the other options change it:
    --subject replaces its subject, --to/--cc/--bcc and --attach add to its
    own recipients and attachments, --set sets properties. Input that is
    no mail at all is refused (exit 8); what was repaired in damaged mail
    is a warning.

    With --replace, a message that has the --id given (without --id: the
    same OUTPUT) is replaced whole, in one transaction: same id, only the
    new content. Without a match the message is added, so a build rule
    with --replace can run again and again. In JSON, "replace": true does
    the same for one message.

    --kind makes an Outlook item (appointment, meeting request, contact,
    task, sticky note, distribution list) from the item options below; an
    option of another kind is a usage error. --ics adds a message per
    VEVENT/VTODO of an iCalendar file, --vcard a contact per card; OUTPUT
    and --id may then hold {n}, the item's number in the file (docs/ITEMS.md).

    Warnings (stderr, exit 0; --quiet drops them): an OUTPUT that does not
    end in .msg or .oft, an OUTPUT whose folder is not writable now, a
    message with no OUTPUT that nothing embeds.

    \b
    Example:
      msgsess add s.session out/hi.msg --subject Hi --from 'Ann <ann@example.com>' \\
          --to 'Bob <bob@example.com>' --body 'Hello!' --attach report.pdf
      msgsess add --replace s.session out/hi.msg --subject 'Hi again' --to 'Bob <bob@example.com>'
      msgsess add s.session out/weekly.oft --subject 'Weekly status' --html-file weekly.html
      msgsess add s.session out/fyi.msg --from 'Boss <boss@example.com>' --sender 'Ann <ann@example.com>' \\
          --to bob@example.com --rtf-file note.rtf --read-receipt --flag 'Follow up' --due 2024-05-03
      msgsess add s.session out/fwd.msg --eml received.eml --subject 'FW: report' --cc ann@example.com
      echo '{"output": "a.msg", "subject": "Hi", "to": ["bob@example.com"]}' | msgsess add s.session --json -
      msgsess add s.session out/call.msg --kind appointment --subject Call \\
          --start 2024-05-01T09:30:00+02:00 --end 2024-05-01T10:00:00+02:00 --location 'Room 1'
      msgsess add s.session 'out/event-{n}.msg' --ics calendar.ics
    """
    if ics is not None or vcard is not None:
        warn = None if quiet else warning_line
        print_lines(
            _add_items(api.Session(session), params, json_input, ics, vcard, replace=replace, warn=warn)
        )
        return
    try:
        actions.add(session, json_input, replace, quiet, params)
    except actions.Usage as exc:
        raise click.UsageError(exc.message) from None


def _add_items(
    target: api.Session,
    params: dict[str, Any],
    json_input: str | None,
    ics: str | None,
    vcard: str | None,
    *,
    replace: bool,
    warn: Any,
) -> list[str]:
    """``add --ics`` / ``--vcard``: a message per event, task or card; OUTPUT and --id may hold {n}."""
    door = "--ics" if ics is not None else "--vcard"
    if (ics is not None and vcard is not None) or json_input is not None:
        raise click.UsageError("give one of --json, --ics and --vcard, not several")
    given = [k for k in FLAG_KEYS if k not in ("output", "msg_id") and params.get(k) not in (None, ())]
    if given:
        flag = option_name(given[0])
        raise click.UsageError(f"{door} takes every field from the file; {flag} cannot be added to it")
    path = str(ics if ics is not None else vcard)
    source = "stdin" if path == "-" else path
    data = api.read_bytes_input(path, door)
    add = target.add_ics if ics is not None else target.add_vcard
    return add(
        data, output=params.get("output"), id=params.get("msg_id"), source=source, replace=replace, warn=warn
    )
