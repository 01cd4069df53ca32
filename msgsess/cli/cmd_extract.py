"""``msgsess extract``: write the attachments of a .msg file into a folder."""

from __future__ import annotations

import json
import os
import re
from typing import TYPE_CHECKING

import click

from msgsess import api

if TYPE_CHECKING:
    from msgsess.api import Skipped

from msgsess.cli.common import chatter, warning_line

_SURROGATE = re.compile("[\ud800-\udfff]")


@click.command("extract")
@click.argument("file", metavar="FILE.msg")
@click.option(
    "-d",
    "--dir",
    "directory",
    default=".",
    metavar="DIR",
    help="Folder to write into (created when missing; default: the current folder).",
)
@click.option(
    "--embedded",
    type=click.Choice(["msg", "eml"]),
    default="msg",
    show_default=True,
    help="Write embedded messages as .msg or as .eml files.",
)
@click.option("--force", is_flag=True, help="Replace files that exist in DIR.")
@click.option("--json", "as_json", is_flag=True, help="Print name, path, size, sha256, content id, hidden.")
def extract_cmd(file: str, directory: str, embedded: str, force: bool, as_json: bool) -> None:
    """Write every attachment of FILE.msg into DIR; print one path per line.

    Attachments by value are written as they are, embedded messages as
    standalone .msg files (--embedded eml: MIME .eml files, as `msgsess
    export` writes them), OLE attachments as the file they hold (or their
    storage as a compound file). Names come from the attachments, made safe:
    nothing is written outside DIR, two attachments with one name (also
    differing only in case) get ' (2)', names over 255 bytes are cut. A file
    that exists in DIR is an error unless --force; files are written to a
    temporary name first, and all of them or none are put in place.
    Attachments by reference have nothing to extract (a warning says so).

    \b
    Example:
      msgsess extract inbox/report.msg -d attachments/
      msgsess extract mail.msg --embedded eml -d out/
      msgsess extract mail.msg --json | jq -r '.[] | select(.hidden | not) | .path'
    """

    def warn(skipped: Skipped) -> None:
        shown = f" ({skipped.name})" if skipped.name else ""
        what = f"attachment {skipped.number}{shown} {skipped.reason}"
        warning_line(f"{file}: {what}: nothing to extract")  # names from the file, escaped

    result, written = api.extract(file, directory, embedded=embedded, force=force, skipped=warn)
    paths = [os.path.join(directory, w.name) for w in written]
    if as_json:
        rows = [
            {
                "attachment": f.number,
                "name": f.name,
                "path": path,
                "kind": f.kind,
                "size": w.size,
                "sha256": w.sha256,
                "content_id": f.content_id,
                "hidden": f.hidden,
            }
            for f, w, path in zip(result.files, written, paths, strict=True)
        ]
        # A name that is no text (a lone surrogate) as a JSON escape: valid JSON, on any stream.
        text = json.dumps(rows, ensure_ascii=False, indent=2)
        click.echo(_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text))
    else:
        for path in paths:
            click.echo(path)
    chatter(f"msgsess: wrote {len(written)} file{'s' if len(written) != 1 else ''} into {directory}")
