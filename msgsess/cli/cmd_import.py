"""``msgsess import``: MIME mail (``.eml`` files, folders, mbox) into a session; print the ids."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click

from msgsess import api
from msgsess.cli.common import chatter, print_lines, session_argument, warning_line


@click.command("import")
@session_argument
@click.argument("inputs", nargs=-1, required=True, type=click.Path(), metavar="INPUT...")
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Folder of the outputs (default: each input's own folder).",
)
@click.option("--replace", is_flag=True, help="Import again inputs already in the session, replacing them.")
@click.option("--quiet", "-q", is_flag=True, help="Print no warnings.")
def import_cmd(
    session: str, inputs: tuple[str, ...], out_dir: str | None, replace: bool, quiet: bool
) -> None:
    """Add every message of MIME mail files to SESSION; print one id per message.

    INPUT is an .eml file, an mbox file, or a folder (searched recursively
    for .eml, .mbox and .mbx files). Each message's output is DIR/<name>.msg
    (files found in a folder keep their path below it); each message of an
    mbox becomes DIR/<mbox name>-<n>.msg. DIR is --out-dir, else the input's
    own folder. Messages are written by `close`, in the session's string
    mode; until then `set`, `recipient`, `attach`… change them.

    One transaction: if any input is refused (not mail, an output another
    message has: exit 10), nothing is added. Run again, an input already
    in the session with the same output is skipped and its id printed
    again; --replace imports it again instead. What the reader repaired or
    guessed in damaged mail is a warning on stderr. A progress bar shows
    on a terminal.

    \b
    Example:
      msgsess import s.session archive/ --out-dir msg/
      msgsess import s.session Inbox.mbox --out-dir inbox/ && msgsess close s.session
    """
    warn = None if quiet else warning_line
    with _progress() as progress:
        result = api.Session(session).import_mail(
            *inputs, out_dir=out_dir, replace=replace, warn=warn, progress=progress
        )
    print_lines(result.ids)
    chatter(
        f"msgsess: {result.added} added, {result.replaced} replaced, "
        f"{result.skipped} skipped (already in the session)"
    )


@contextmanager
def _progress() -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar over the input files on a terminal; None otherwise."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("importing", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance
