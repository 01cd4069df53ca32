"""``msgsess convert``: many mail files at once, EML/mbox -> MSG and MSG -> EML, file by file."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

import click

from msgsess import api
from msgsess.cli.common import ANSI_CODEPAGE, chatter


def _default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on every OS
        return os.cpu_count() or 1


@click.command("convert")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(), metavar="INPUT...")
@click.option("--out-dir", required=True, type=click.Path(file_okay=False), help="Folder for the outputs.")
@click.option(
    "--jobs", "-j", type=click.IntRange(min=1), default=None, help="Worker processes (default: one per CPU)."
)
@click.option(
    "--unicode/--ansi", "unicode", default=True, help="String mode of the .msg outputs (default Unicode)."
)
@click.option(
    "--codepage", type=ANSI_CODEPAGE, metavar="CP", help="ANSI code page, number or name (needs --ansi)."
)
@click.option(
    "--report", type=click.Path(dir_okay=False), metavar="FILE.jsonl", help="Write one JSON line per input."
)
@click.option("--crlf", is_flag=True, help="End lines of .eml outputs with CRLF.")
@click.option("--force", is_flag=True, help="Convert again inputs whose output exists (default: skip them).")
def convert_cmd(
    inputs: tuple[str, ...],
    out_dir: str,
    jobs: int | None,
    unicode: bool,
    codepage: int | None,
    report: str | None,
    crlf: bool,
    force: bool,
) -> None:
    """Convert mail files, each on its own: .eml and mbox to .msg, .msg to .eml.

    INPUT is a file or a folder (searched recursively for .eml, .msg,
    .mbox and .mbx files, whose paths below it are kept). Each output is
    OUT_DIR/<name>.msg (.eml for a .msg input); each message of an mbox
    becomes OUT_DIR/<mbox name>-<n>.msg. Outputs are written atomically;
    an output that exists is skipped unless --force, so an interrupted run
    goes on where it stopped when run again.

    A file that fails does not stop the others: it gets one line on stderr
    (and a line in --report, with input, output, status and error), and
    the exit code is 1; 0 when every input converted (or was skipped).
    A progress bar shows on a terminal.

    \b
    Example:
      msgsess convert archive/ --out-dir msg/ --report report.jsonl
      msgsess convert Inbox.mbox --out-dir inbox/ --jobs 4
      msgsess convert out/*.msg --out-dir eml/ --crlf
    """
    if codepage is not None and unicode:
        raise click.UsageError("--codepage needs --ansi")
    from msgsess.cli.main import error_line

    conversion = api.convert(
        inputs,
        out_dir,
        jobs=jobs or _default_jobs(),
        unicode=unicode,
        codepage=codepage,
        force=force,
        crlf=crlf,
    )
    counts = {"converted": 0, "skipped": 0, "failed": 0}
    with _report(report) as out, _progress(conversion.total) as advance:
        for result in conversion:
            counts[result.status] += 1
            if result.status == "failed":
                error_line(str(result.error))
            if out is not None:
                out.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
            if result.message is None or result.message == 1:
                advance()
    chatter(
        f"msgsess: {counts['converted']} converted, {counts['skipped']} skipped (output exists), "
        f"{counts['failed']} failed"
    )
    if counts["failed"]:
        click.get_current_context().exit(1)


@contextmanager
def _report(path: str | None) -> Iterator[IO[str] | None]:
    if path is None:
        yield None
        return
    from msgsess.errors import WriteFailed

    try:
        handle = open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise WriteFailed(f"cannot write the report {path}: {exc.strerror}", hint="check the path") from None
    with handle:
        yield handle


@contextmanager
def _progress(total: int) -> Iterator[Any]:
    """A progress bar over the inputs on a terminal; nothing otherwise."""
    if not sys.stderr.isatty():
        yield lambda: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("converting"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("converting", total=total)
        yield lambda: bar.advance(task)
