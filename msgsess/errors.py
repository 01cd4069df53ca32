"""One exception hierarchy for msgsess.

Every error carries the exit code the command line returns for it, the MAPI
error name that fits, a one-line message naming the thing at fault, a hint
saying what to do, and where it happened: a location path (``where``), from
the outermost place in ("stdin line 3", "message m3", "attachment 2"). Code
that knows a place adds it as the error travels up, with :meth:`MsgsessError.at`;
no message text is ever spliced or searched. The CLI maps these to stderr and
exit codes in one place (``msgsess.cli.main``); library users catch
:class:`MsgsessError` and read ``message``, ``where`` and ``hint``, or
``str(error)`` for the located message.
"""

from __future__ import annotations

TYPE_CHECKING = False  # neither typing nor contextlib at run time: every command imports this
if TYPE_CHECKING:
    from types import TracebackType
    from typing import Any, Self


class MsgsessError(Exception):
    """Base class: a failure the user can act on."""

    exit_code: int = 1
    mapi_name: str = "MAPI_E_CALL_FAILED"

    def __init__(self, message: str, *, hint: str | None = None, where: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        #: Where the error happened, outermost first: ("stdin line 3", "message m3", "attachment 2").
        self.where: tuple[str, ...] = where

    def at(self, place: str) -> Self:
        """Add ``place`` as the new outermost location and return the error, to raise it on.

        Called as the error travels up, by the code that knows the place (``raise exc.at(label)``
        in an ``except`` block keeps the traceback and the cause). A place equal to the
        outermost one already there is not repeated.
        """
        if place and self.where[:1] != (place,):
            self.where = (place, *self.where)
        return self

    def located(self) -> str:
        """The message behind its location: ``message m3: attachment 2: file x.pdf does not exist``."""
        return ": ".join((*self.where, self.message))

    def __str__(self) -> str:
        return self.located()

    def __reduce__(self) -> tuple[Any, ...]:
        # Picklable with hint and location (worker processes send errors back).
        return (_rebuild, (type(self), self.message, self.hint, self.where))

    def one_line(self) -> str:
        """The line printed on stderr: the located message, then the hint if any."""
        text = self.located()
        if self.hint:
            text = f"{text} ({self.hint})"
        return " ".join(text.split("\n"))


class located:  # lower case: used as a function, ``with located(place):``
    """Locate every :class:`MsgsessError` raised in the block at ``place`` (see :meth:`MsgsessError.at`)."""

    __slots__ = ("place",)

    def __init__(self, place: str) -> None:
        self.place = place

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if isinstance(exc, MsgsessError):
            exc.at(self.place)  # and it goes on up, located


def _rebuild(cls: type[MsgsessError], message: str, hint: str | None, where: tuple[str, ...]) -> MsgsessError:
    return cls(message, hint=hint, where=where)


class InvalidParameter(MsgsessError):
    """A value, address, name or option the user gave does not fit."""

    exit_code = 3
    mapi_name = "MAPI_E_INVALID_PARAMETER"


class NotFound(MsgsessError):
    """A property name, message id, attachment, recipient or file does not exist."""

    exit_code = 4
    mapi_name = "MAPI_E_NOT_FOUND"


class SessionError(MsgsessError):
    """The session file is missing, not a session, or already exists."""

    exit_code = 5
    mapi_name = "MAPI_E_INVALID_OBJECT"


class SessionBusy(MsgsessError):
    """Another command held the session's lock for longer than the timeout."""

    exit_code = 6
    mapi_name = "MAPI_E_TIMEOUT"


class Unconvertible(MsgsessError):
    """Text that the chosen ANSI code page cannot hold."""

    exit_code = 7
    mapi_name = "MAPI_E_BAD_CHARWIDTH"


class CorruptFile(MsgsessError):
    """A .msg or compound file that is damaged or breaks MS-OXMSG/MS-CFB."""

    exit_code = 8
    mapi_name = "MAPI_E_CORRUPT_DATA"


class WriteFailed(MsgsessError):
    """An output could not be written (permissions, disk full, bad path)."""

    exit_code = 9
    mapi_name = "MAPI_E_DISK_ERROR"


class Collision(MsgsessError):
    """Something with that name or id already exists."""

    exit_code = 10
    mapi_name = "MAPI_E_COLLISION"


class TooBig(MsgsessError):
    """A limit of the format was exceeded (2048 attachments, 2 GB streams…)."""

    exit_code = 11
    mapi_name = "MAPI_E_TOO_BIG"


class NotEnoughMemory(MsgsessError):
    """The command ran out of memory (the machine's, or a limit such as ``ulimit -v``)."""

    exit_code = 12
    mapi_name = "MAPI_E_NOT_ENOUGH_MEMORY"


def out_of_memory(doing: str) -> NotEnoughMemory:
    """The error for running out of memory while doing something (``read big.msg``)."""
    return NotEnoughMemory(
        f"not enough memory to {doing}",
        hint="give msgsess more memory (ulimit -v, a container's limit) or smaller inputs",
    )


class CheckFailed(MsgsessError):
    """``msgsess check`` found structural errors."""

    exit_code = 1
    mapi_name = "MAPI_E_CORRUPT_DATA"


#: Exit codes documented in the README, in one table.
EXIT_CODES: dict[int, str] = {
    0: "success",
    1: "check found errors, or an unexpected internal error",
    2: "usage error (unknown option, missing argument)",
    InvalidParameter.exit_code: "invalid value, address, property type or option (MAPI_E_INVALID_PARAMETER)",
    NotFound.exit_code: "unknown property, message id, attachment or file (MAPI_E_NOT_FOUND)",
    SessionError.exit_code: "session file missing, not a session, or already exists (MAPI_E_INVALID_OBJECT)",
    SessionBusy.exit_code: "session locked by another command for too long (MAPI_E_TIMEOUT)",
    Unconvertible.exit_code: "text the ANSI code page cannot hold (MAPI_E_BAD_CHARWIDTH)",
    CorruptFile.exit_code: "damaged or invalid .msg / JSON input (MAPI_E_CORRUPT_DATA)",
    WriteFailed.exit_code: "an output could not be written (MAPI_E_DISK_ERROR)",
    Collision.exit_code: "id or name already in use (MAPI_E_COLLISION)",
    TooBig.exit_code: "a limit of the format or of MSGSESS_MAX_INPUT was exceeded (MAPI_E_TOO_BIG)",
    NotEnoughMemory.exit_code: "not enough memory for the command (MAPI_E_NOT_ENOUGH_MEMORY)",
}
