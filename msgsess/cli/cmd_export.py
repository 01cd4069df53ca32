"""``msgsess export``: .msg files as RFC 5322 / MIME mail (.eml), or items as iCalendar / vCard."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from msgsess import api
from msgsess.cli.common import chatter


@click.command("export")
@click.argument("files", nargs=-1, required=True, type=click.Path(), metavar="FILE.msg...")
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False),
    help="Write DIR/<name>.eml for each input (the folder is made if missing).",
)
@click.option(
    "-o",
    "--output",
    metavar="FILE|-",
    help="Write to FILE, or to stdout with -; one input only (with --ics/--vcard: all in one).",
)
@click.option("--crlf", is_flag=True, help="End lines with CRLF (as SMTP does) instead of LF.")
@click.option(
    "--ics", "fmt", flag_value="ics", help="Appointments, meeting requests, tasks as iCalendar (.ics)."
)
@click.option("--vcard", "fmt", flag_value="vcard", help="Contacts as vCard 3.0 (.vcf).")
@click.option("--force", is_flag=True, help="Replace output files that exist already.")
def export_cmd(
    files: tuple[str, ...], out_dir: str | None, output: str | None, crlf: bool, fmt: str | None, force: bool
) -> None:
    """Write each FILE.msg as a MIME message (.eml), or its item as iCalendar or vCard.

    Header fields come from the message's properties (an edited subject
    leaves as edited); the other fields a received message travelled with
    (Received, DKIM, List-*, X-…) are kept. HTML and text bodies become
    multipart/alternative, inline images multipart/related, attachments
    keep their names (RFC 2231), embedded messages become message/rfc822,
    and a signed S/MIME message gives back its signed part byte for byte.
    The output is 7-bit ASCII.

    Without --out-dir or -o, each output goes beside its input as
    <name>.eml. An existing output is refused (exit 10) unless --force.
    Prints the path of each file written; a file that fails gets one line
    on stderr, and the exit code is that of the first failure.

    With --ics, appointments, meeting requests and tasks become iCalendar
    (<name>.ics; with -o, one calendar of every input, all or nothing);
    with --vcard, contacts become vCard 3.0 (<name>.vcf; -o: one file of
    cards). A file of another kind is refused, naming it.

    \b
    Example:
      msgsess export mail.msg                   # writes mail.eml
      msgsess export out/*.msg --out-dir eml/
      msgsess export mail.msg -o - | less
      msgsess export --ics out/meeting-*.msg -o meetings.ics
      msgsess export --vcard out/contact.msg    # writes out/contact.vcf
    """
    from msgsess.cli.main import error_line
    from msgsess.errors import MsgsessError

    if out_dir is not None and output is not None:
        raise click.UsageError("give --out-dir or -o, not both")
    if fmt is not None and crlf:
        raise click.UsageError("--crlf is for .eml; iCalendar and vCard lines end in CRLF already")
    if fmt is not None and output is not None:
        data = api.export_items(files, fmt, None if output == "-" else Path(output), force=force)
        if output == "-":
            sys.stdout.flush()
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        else:
            click.echo(output)
        return
    if output is not None and len(files) > 1:
        raise click.UsageError("-o names one output; give --out-dir for several inputs")
    if out_dir is not None:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
    first_error: int | None = None
    written: set[Path] = set()
    for source in files:
        if output == "-":
            target: Path | None = None
        elif output is not None:
            target = Path(output)
        else:
            folder = Path(out_dir) if out_dir is not None else Path(source).parent
            target = folder / (Path(source).stem + {None: ".eml", "ics": ".ics", "vcard": ".vcf"}[fmt])
        try:
            if target is not None and target.resolve() in written:
                from msgsess.errors import Collision

                raise Collision(
                    f"{target} is the output of another input too", hint="export them into different folders"
                ).at(source)
            if fmt is None:
                data = api.export(source, target, crlf=crlf, force=force)
            else:
                data = api.export_items([source], fmt, target, force=force)
        except MsgsessError as exc:
            error_line(exc.one_line())
            first_error = first_error if first_error is not None else exc.exit_code
            continue
        if target is None:
            sys.stdout.flush()
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        else:
            written.add(target.resolve())
            click.echo(str(target))
    if len(files) > 1:
        failed = "no" if first_error is None else "some"
        chatter(f"msgsess: {len(written)} of {len(files)} exported ({failed} failures)")
    if first_error is not None:
        click.get_current_context().exit(first_error)
