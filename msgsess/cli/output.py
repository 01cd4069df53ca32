"""Lines on stdout and stderr, and the exit code of a failure, without click.

Both ways into a command use these: click's group (``cli/main.py``) and the fast start
(``cli/fast.py``), which runs the common commands without importing click. So an error,
warning or id is printed the same, byte for byte, whichever way the command ran.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TextIO


def _plain(stream: TextIO) -> bool:
    """Whether ``click.echo`` would write to ``stream`` as it is: a UTF-8 text stream.

    click wraps a stream whose encoding is ASCII (or missing), and strips ANSI escapes on one
    that is no terminal; such lines go through click itself.
    """
    encoding = getattr(stream, "encoding", None)
    return isinstance(encoding, str) and encoding.lower().replace("_", "-") in ("utf-8", "utf8")


def echo(text: str, *, err: bool = False) -> None:
    """``text`` and a newline on stdout (stderr with ``err``), flushed: what ``click.echo`` does."""
    stream = sys.stderr if err else sys.stdout
    if stream is None:
        return
    if "\x1b" in text or not _plain(stream):
        import click

        click.echo(text, err=err)
        return
    stream.write(text + "\n")
    stream.flush()


def error_line(text: str) -> None:
    """One line on stderr, whatever the message holds (a name from a file, a newline)."""
    from msgsess.api import printable

    echo(f"msgsess: error: {printable(text)}", err=True)


def warning_line(text: str) -> None:
    """A warning about something done all the same: one line on stderr, exit status unchanged.

    It may quote a file (a ``cid:`` of its HTML): control characters are escaped.
    """
    from msgsess.api import printable

    echo(f"msgsess: warning: {printable(text)}", err=True)


def print_lines(values: list[Any]) -> None:
    """One value a line (ids, numbers) on stdout."""
    for value in values:
        echo(str(value))


def usage_text(message: str, names: list[str]) -> str:
    """A usage error as one line, pointing at the ``--help`` of the command ``names`` (outermost
    first, after ``msgsess``)."""
    text = " ".join(message.split()).rstrip(".")
    return f"{text} (see '{' '.join(['msgsess', *names])} --help')"


def failure(exc: BaseException, command: str | None) -> int:
    """Print the line for an exception that ended ``command`` and return the exit status.

    Everything but click's own exceptions: msgsess errors (their code), Ctrl-C (130), a reader
    of stdout gone away (141, quietly), stdout not writable (9), memory (its error), anything
    else an internal error (1). ``--debug`` (a traceback instead) is for the caller to handle.
    """
    from msgsess.errors import MsgsessError, WriteFailed, out_of_memory

    if isinstance(exc, MsgsessError):
        error_line(exc.one_line())
        return exc.exit_code
    if isinstance(exc, KeyboardInterrupt):
        # Every command is one transaction, so nothing half-done stays behind.
        error_line("interrupted")
        return 130
    if isinstance(exc, BrokenPipeError):
        # The reader of stdout went away (`msgsess show … | head`): stop quietly, with the
        # status a program killed by SIGPIPE has (`yes | head` gives the same).
        import os

        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - left for the interpreter to close
        return 141
    if isinstance(exc, OSError):
        # Writing stdout failed (a full disk, a closed descriptor); files have their own errors.
        error_line(f"cannot write the output: {exc.strerror or exc}")
        return WriteFailed.exit_code
    if isinstance(exc, MemoryError):
        error = out_of_memory(f"finish {command or 'the command'}")
        error_line(error.one_line())
        return error.exit_code
    error_line(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for a traceback)")
    return 1
