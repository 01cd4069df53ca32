"""One exception hierarchy for msgsess.

Every error carries the exit code the command line returns for it, the MAPI
error name that fits, a one-line message naming the thing at fault, and a
hint saying what to do. The CLI maps these to stderr and exit codes in one
place (``msgsess.cli.main``); library users catch :class:`MsgsessError`.
"""

from __future__ import annotations


class MsgsessError(Exception):
    """Base class: a failure the user can act on."""

    exit_code: int = 1
    mapi_name: str = "MAPI_E_CALL_FAILED"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message

    def one_line(self) -> str:
        """The line printed on stderr: message, then the hint if any."""
        text = self.message
        if self.hint:
            text = f"{text} ({self.hint})"
        return " ".join(text.split("\n"))


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
    TooBig.exit_code: "a limit of the format was exceeded (MAPI_E_TOO_BIG)",
}
