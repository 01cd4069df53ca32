"""Reading input files: regular files (or stdin) only, in bounded reads, up to a size limit.

Every file a command reads — attachments, bodies, RTF, JSON, ``@file`` values, ``.msg`` files to
edit, embed, dump or check — is read by :func:`read_input` (or opened by :func:`open_input`, for
readers that seek). A FIFO, a device such as ``/dev/zero``, a socket or a folder is refused before
anything is read and without blocking (opening a FIFO that has no writer waits forever), and so is
a file larger than the limit on inputs: ``MSGSESS_MAX_INPUT`` bytes, 2 GiB unless set (a file that
grows while it is read, or stdin, is cut off at the limit and refused, never read on without end).
"""

from __future__ import annotations

import io
import os
import re
import stat
import sys

from msgsess.errors import InvalidParameter, MsgsessError, NotFound, TooBig, located, out_of_memory

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import BinaryIO

#: The environment variable that sets the largest input, in bytes (or with K, M, G, T).
MAX_INPUT_ENV = "MSGSESS_MAX_INPUT"
#: The largest input unless MSGSESS_MAX_INPUT says otherwise: larger than any real attachment,
#: and the most a stream of a version 3 compound file holds.
DEFAULT_MAX_INPUT = 2 << 30
#: Bytes asked for per read from stdin or a file that has grown since it was opened.
CHUNK = 16 << 20

_SIZE = re.compile(r"\s*(\d+)\s*([KMGT]?)(?:I?B)?\s*", re.IGNORECASE | re.ASCII)
_UNITS = {"": 0, "K": 10, "M": 20, "G": 30, "T": 40}
_NOT_REGULAR = "give a regular file, or '-' for stdin where the option takes it"


def max_input() -> int:
    """The largest input in bytes, from ``MSGSESS_MAX_INPUT`` (InvalidParameter if it is no size)."""
    text = os.environ.get(MAX_INPUT_ENV)
    if not text:
        return DEFAULT_MAX_INPUT
    match = _SIZE.fullmatch(text)
    if match is None or int(match[1]) == 0:
        raise InvalidParameter(
            f"{MAX_INPUT_ENV}={text!r} is not a size",
            hint="give a number of bytes, or one with K, M, G or T (powers of 1024), e.g. 512M; or unset it",
        )
    return int(match[1]) << _UNITS[match[2].upper()]


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def folder_given(path: str, hint: str = "give a file") -> NotFound:
    """A folder where a file is expected: NotFound (exit 4) as a missing file is, whatever the
    command or option (issue 12 asked it of ``attach``; one rule for every input)."""
    return NotFound(f"{path} is a folder, not a file", hint=hint)


def _refuse(path: str, mode: int) -> MsgsessError:
    kind = _kind(mode)
    if stat.S_ISDIR(mode):
        return folder_given(path)
    return InvalidParameter(f"{path} is {kind}, not a regular file", hint=_NOT_REGULAR)


def _too_big(name: str, size: int | None, limit: int) -> TooBig:
    held = f"is {size} bytes," if size is not None else "holds"
    return TooBig(
        f"{name} {held} more than the {limit} bytes an input may have",
        hint=f"set {MAX_INPUT_ENV} to allow larger inputs, e.g. {MAX_INPUT_ENV}=4G",
    )


def open_input(path: str | os.PathLike[str], what: str | None = None) -> io.FileIO:
    """``path`` opened for reading (unbuffered), once it is known to be a regular file within the limit.

    ``what`` (the option or spec entry that named the file) locates the error. The file is
    checked before it is opened, so that a device is never opened (some act on an open), and
    again on the open descriptor, which is opened without blocking in case a FIFO took its place.
    """
    name = os.fsdecode(path)
    with located(what or ""):
        limit = max_input()
        try:
            mode = os.stat(path).st_mode
            if not stat.S_ISREG(mode):
                raise _refuse(name, mode)
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
        except (FileNotFoundError, NotADirectoryError):
            raise NotFound(f"file {name} does not exist", hint="check the path") from None
        except OSError as exc:
            raise InvalidParameter(f"cannot read {name}: {exc.strerror}", hint="check permissions") from None
        except ValueError:  # a NUL in the path (or a surrogate that is no file name here)
            raise InvalidParameter(
                f"{name!r} is not a file name", hint="remove the NUL or unpaired surrogate"
            ) from None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise _refuse(name, st.st_mode)
            if st.st_size > limit:
                raise _too_big(name, st.st_size, limit)
            os.set_blocking(fd, True)
            return io.FileIO(fd, "rb", closefd=True)
        except BaseException:
            os.close(fd)
            raise


def _read_all(stream: BinaryIO, first: int, limit: int) -> bytes | bytearray | None:
    """What ``stream`` holds, read ``first`` bytes then ``CHUNK`` at a time; None past ``limit``.

    For a regular file ``first`` is its size plus one, so the whole file comes in one read into
    one bytes object (nothing is copied), and the next read sees the end. Anything longer (a
    pipe) grows one bytearray, never a list of chunks and their join (twice the input).
    """
    head = stream.read(min(max(first, 1), limit + 1))
    if len(head) > limit:
        return None
    more = stream.read(min(CHUNK, limit + 1 - len(head))) if head else b""
    if not more:
        return head
    buf = bytearray(head)
    del head
    while more:
        buf += more
        if len(buf) > limit:
            return None
        more = stream.read(min(CHUNK, limit + 1 - len(buf)))
    return buf


def read_input(path: str | os.PathLike[str], what: str | None = None) -> bytes:
    """The bytes of the input file ``path`` (``-``: stdin), within the limit on inputs.

    Every failure is one :class:`~msgsess.errors.MsgsessError` naming the file, located at
    ``what`` when given: missing or a folder (NotFound, 4), not a regular file (InvalidParameter, 3), larger
    than ``MSGSESS_MAX_INPUT`` (TooBig, 11), unreadable (InvalidParameter, 3).
    """
    name = os.fsdecode(path)
    if name == "-":
        piped = read_stdin(what)
        return piped if isinstance(piped, bytes) else bytes(piped)
    with open_input(path, what) as f, located(what or ""):
        limit = max_input()
        size = os.fstat(f.fileno()).st_size
        try:
            data = _read_all(f, size + 1, limit)
        except OSError as exc:
            raise InvalidParameter(f"cannot read {name}: {exc.strerror}", hint="check the file") from None
        except MemoryError:
            raise out_of_memory(f"read {name} ({size} bytes)") from None
        if data is None:
            raise _too_big(name, None, limit)
        return data if isinstance(data, bytes) else bytes(data)  # a file that grew while read


def read_stdin(what: str | None = None) -> bytes | bytearray:
    """All of stdin, within the limit on inputs; a closed stdin (``<&-``) is InvalidParameter.

    A bytearray when stdin is a pipe (its length unknown): copying it into bytes would hold it
    twice; it is decoded or stored as it is.
    """
    with located(f"{what} -" if what else "-"):
        limit = max_input()
        try:
            stream = sys.stdin
            if stream is None:
                raise OSError
            buffer = stream.buffer
            first = CHUNK
            try:
                st = os.fstat(buffer.fileno())
                if stat.S_ISREG(st.st_mode):  # `< file`: read at once, if within the limit
                    first = st.st_size + 1
            except (OSError, ValueError, AttributeError):
                pass  # not a real descriptor (a test's stdin): read in chunks
            data = _read_all(buffer, first, limit)
        except MemoryError:
            raise out_of_memory("read stdin") from None
        except (OSError, ValueError, AttributeError):
            raise InvalidParameter(
                "stdin is closed", hint="give the input on stdin, or a file instead of '-'"
            ) from None
        if data is None:
            raise _too_big("stdin", None, limit)
        return data


# --- paths as pathlib shows them, without pathlib (issue 11: add's start-up) -------------------

#: The errors ``pathlib.Path.exists()`` and ``is_dir()`` take for "no" (any other is raised).
_NO_SUCH = (2, 20, 9, 40)  # ENOENT, ENOTDIR, EBADF, ELOOP


def path_text(path: str | os.PathLike[str]) -> str:
    """``str(pathlib.Path(path))`` on POSIX: empty and ``.`` parts and a trailing slash dropped,
    repeated slashes made one (two at the start stay two). Sessions are named this way in every
    message, as they were when they were ``Path`` objects."""
    text = os.fspath(path)
    if not isinstance(text, str):
        raise TypeError(f"expected str or os.PathLike[str], not {type(text).__name__}")
    root = ""
    if text[:1] == "/":
        root = "//" if text[:2] == "//" and text[:3] != "///" else "/"
    return root + "/".join(part for part in text.split("/") if part and part != ".") or "."


def absolute_text(path: str) -> str:
    """``str(pathlib.Path(path).absolute())`` of a :func:`path_text`: the working folder joined
    in front of a relative path, nothing resolved."""
    return path if path[:1] == "/" else path_text(os.path.join(os.getcwd(), path))


def _stat_or_none(path: str) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError as exc:
        if exc.errno not in _NO_SUCH:
            raise
    except ValueError:
        pass
    return None


def path_exists(path: str) -> bool:
    """``pathlib.Path(path).exists()``: False for what does not exist, other errors raised."""
    return _stat_or_none(path) is not None


def path_is_dir(path: str) -> bool:
    """``pathlib.Path(path).is_dir()``."""
    st = _stat_or_none(path)
    return st is not None and stat.S_ISDIR(st.st_mode)
