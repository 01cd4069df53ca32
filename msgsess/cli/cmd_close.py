"""``msgsess close``: write every message of a session, all or nothing."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import click

from msgsess import api
from msgsess.cli.common import ANSI_CODEPAGE, chatter, session_argument, stderr_is_tty, warning_line

#: Signals taken between two messages: SIGTERM (`make`, `kill`), SIGHUP (the terminal closed),
#: SIGINT (Ctrl-C).
_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


class _Termination:
    """SIGTERM, SIGHUP or SIGINT, taken between two messages: close then removes its temporary
    files and exits (128 + the signal's number; Ctrl-C as "interrupted", 130).

    Raising from the signal handler itself could land between the creation of a temporary
    file and the moment close records it; waiting for the next message boundary cannot.

    :meth:`last_chance` is the last check, right before the outputs are moved into place (for an
    empty session, the only one): a signal taken after it is too late to stop close, which
    finishes (outputs written, session removed) and exits 0 with a note.
    """

    def __init__(self) -> None:
        self.signum: int | None = None
        #: Set by :meth:`last_chance`: signals no longer stop close.
        self.late = False

    def handler(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is None:
            self.signum = signum

    def check(self) -> None:
        if self.late:
            return
        if self.signum == signal.SIGINT:
            raise KeyboardInterrupt  # cli.main: one line, "interrupted", status 130
        if self.signum is not None:
            raise SystemExit(128 + self.signum)

    def last_chance(self) -> None:
        """Stop now if a signal came; from now on, let close finish whatever comes."""
        self.check()
        self.late = True

    def came_late(self) -> str | None:
        """The name of a signal taken after :meth:`last_chance`, if one was."""
        if self.late and self.signum is not None:
            return signal.Signals(self.signum).name
        return None


@contextmanager
def _terminate_between_messages() -> Iterator[_Termination]:
    term = _Termination()
    previous: dict[signal.Signals, Any] = {}
    try:
        for signum in _SIGNALS:
            if signal.getsignal(signum) == signal.SIG_IGN:
                continue  # ignored by who started us (`nohup`, a background job): stays ignored
            previous[signum] = signal.signal(signum, term.handler)
    except ValueError:  # not the main thread (embedded use): leave signals alone
        yield term
        return
    try:
        yield term
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextmanager
def _progress(term: _Termination) -> Iterator[Callable[[int, int], None]]:
    """Called after each message: honours SIGTERM/SIGHUP/SIGINT, and draws a progress bar on a terminal."""
    if not stderr_is_tty():

        def quiet(done: int, total: int) -> None:
            term.check()

        yield quiet
        return
    import time

    from rich.console import Console
    from rich.progress import Progress

    # Refreshed by update(), not by a thread of rich's: close --jobs forks its workers, and a
    # process that forks should run no other thread.
    with Progress(console=Console(stderr=True), transient=True, auto_refresh=False) as bar:
        task = bar.add_task("writing", total=None)
        shown = 0.0

        def update(done: int, total: int) -> None:
            nonlocal shown
            term.check()
            bar.update(task, completed=done, total=total)
            now = time.monotonic()
            if now - shown >= 0.1 or done == total:
                shown = now
                bar.refresh()

        yield update


@click.command("close")
@session_argument
@click.option(
    "--unicode/--ansi",
    "unicode",
    default=None,
    help="String mode (default: the session's; an edited file keeps its own).",
)
@click.option(
    "--codepage",
    type=ANSI_CODEPAGE,
    metavar="CP",
    help="ANSI code page, number or name (needs --ansi; default: the session's).",
)
@click.option("--keep", is_flag=True, help="Keep the session file after writing.")
@click.option(
    "--fsync", is_flag=True, help="Flush every output to disk before returning (survives a power cut)."
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    metavar="N",
    help="Write in N processes (default: one per CPU, at most one per message).",
)
def close_cmd(
    session: str, unicode: bool | None, codepage: int | None, keep: bool, fsync: bool, jobs: int | None
) -> None:
    """Write every message of SESSION to its output, then remove SESSION.

    All or nothing: if any message cannot be written, no output is created
    or changed and the session stays as it was. Missing folders of outputs
    are created. Outputs ending in .oft are Outlook templates. With
    SOURCE_DATE_EPOCH set, the same session always gives byte-identical
    files. HTML that refers to a cid: no attachment has gets a warning.

    \b
    --ansi writes every message as ANSI (8-bit) strings, in --codepage CP
    if given; --codepage alone is a usage error, so that a Unicode session
    never turns ANSI by accident. SIGTERM, SIGHUP and Ctrl-C stop close
    between two messages and remove what it wrote; once every message is
    written and the outputs are being moved into place, close finishes
    (exit 0) and says the signal came too late.

    \b
    --jobs N writes the temporary files in N processes (default: one per
    CPU); they are committed all or nothing as with one. A failure in any
    of them stops the others and removes what they wrote.

    \b
    Example:
      msgsess close s.session
      SOURCE_DATE_EPOCH=1700000000 msgsess close s.session --ansi --codepage 1252 --keep
      msgsess close s.session --jobs 1   # one process
      msgsess close s.session --unicode    # also turns edited ANSI files into Unicode
    """
    if codepage is not None and unicode is not False:
        raise click.UsageError("--codepage needs --ansi")
    with _terminate_between_messages() as term, _progress(term) as progress:
        result = api.Session(session).close(
            unicode=unicode,
            codepage=codepage,
            keep=keep,
            progress=progress,
            warn=warning_line,
            fsync=fsync,
            checkpoint=term.last_chance,
            jobs=jobs,  # None: one per CPU
            list_written=False,
        )
        term.check()  # not after last_chance: close has finished, it is not reported as stopped
    late = term.came_late()
    if late is not None:
        with contextlib.suppress(OSError):
            click.echo(f"msgsess: {late} came too late to stop close: every output is written", err=True)
    for note in result.notes:
        click.echo(f"msgsess: {note}", err=True)  # how an edited message's strings were converted
    count = result.count
    chatter(f"msgsess: wrote {count} message{'s' if count != 1 else ''}")
    if result.leftovers:
        chatter(f"msgsess: removed {len(result.leftovers)} files a killed close had left beside them")
