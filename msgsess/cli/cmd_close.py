"""``msgsess close``: write every message of a session, all or nothing."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

import click

from msgsess.cli.common import chatter, session_argument, stderr_is_tty


@contextmanager
def _terminate_as_exit() -> Iterator[None]:
    """Turn SIGTERM into SystemExit so that close removes its temporary files."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (embedded use): leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def _progress() -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on a terminal; nothing otherwise."""
    if not stderr_is_tty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("writing", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


@click.command("close")
@session_argument
@click.option("--unicode/--ansi", "unicode", default=None, help="String mode (default: the session's).")
@click.option("--codepage", type=int, metavar="CP", help="ANSI code page (with --ansi).")
@click.option("--keep", is_flag=True, help="Keep the session file after writing.")
def close_cmd(session: str, unicode: bool | None, codepage: int | None, keep: bool) -> None:
    """Write every message of SESSION to its output, then remove SESSION.

    All or nothing: if any message cannot be written, no output is created
    or changed and the session stays as it was. Missing folders of outputs
    are created. With SOURCE_DATE_EPOCH set, the same session always gives
    byte-identical files.

    \b
    Example:
      msgsess close s.session
      SOURCE_DATE_EPOCH=1700000000 msgsess close s.session --ansi --codepage 1252 --keep
    """
    from msgsess.session.close import close

    if codepage is not None and unicode is None:
        unicode = False
    with _terminate_as_exit(), _progress() as progress:
        result = close(session, unicode=unicode, codepage=codepage, keep=keep, progress=progress)
    count = len(result.written)
    chatter(f"msgsess: wrote {count} message{'s' if count != 1 else ''}")
