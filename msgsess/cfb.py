"""Compound files ([MS-CFB]): the only module that touches them.

Writing turns a :class:`~msgsess.storage.Storage` tree into a compound file with
our own writer (:mod:`msgsess.cfbwriter`): version 3 as Outlook writes it,
balanced red-black sibling trees, large streams copied in chunks from their
source (bytes or a :class:`~msgsess.storage.StreamSource`), never held twice.

Files are replaced atomically: :func:`write_temp` writes a temporary file
beside the target, :func:`commit` renames it into place, :func:`discard`
removes it. :func:`write_atomic` does all three. A temporary file carries a
mark until it is committed, and a backup a digest in its name, so that
:func:`remove_leftovers` can remove what a killed run left, and nothing else.

Reading goes through ``olefile`` with strict defect handling, preceded and
followed by our own checks (header counts, sector chains, entry sizes, depth,
entry count, total bytes), so that damaged or hostile input ends in one
:class:`~msgsess.errors.CorruptFile` with a one-line message, never a
traceback or a hang.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import signal
import stat
import struct
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol

import olefile
from olefile.olefile import OleFileError as _OleFileError

from msgsess import cfbwriter
from msgsess.errors import CorruptFile, InvalidParameter, MsgsessError, NotFound, WriteFailed, out_of_memory
from msgsess.inputs import open_input
from msgsess.oxmsg import layout
from msgsess.storage import NULL_CLSID, DirectoryEntry, FileLayout, Storage

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

__all__ = [
    "DEFAULT_LIMITS",
    "MSG_CLSID",
    "OFT_CLSID",
    "Limits",
    "Moves",
    "batch",
    "commit",
    "commit_all",
    "discard",
    "read_bytes",
    "read_file",
    "real_target",
    "remove_leftovers",
    "remove_leftovers_in",
    "sync_dir",
    "to_bytes",
    "write_atomic",
    "write_bytes_atomic",
    "write_stream",
    "write_temp",
    "write_temp_name",
]

#: CLSID_MailMessage {00020D0B-0000-0000-C000-000000000046}, GUID byte order of [MS-OXCDATA] 2.5.1.
MSG_CLSID = layout.CLSID_MAIL_MESSAGE
#: Outlook template {0006F046-0000-0000-C000-000000000046}.
OFT_CLSID = layout.CLSID_TEMPLATE

# [MS-CFB] layout constants shared with the writer.
ENDOFCHAIN = cfbwriter.ENDOFCHAIN
CFB_SIGNATURE = cfbwriter.SIGNATURE
HEADER = cfbwriter.HEADER
MINI_STREAM_CUTOFF = cfbwriter.MINI_STREAM_CUTOFF
MINI_SECTOR_SIZE = cfbwriter.MINI_SECTOR
#: Characters [MS-CFB] 2.6.1 forbids in names (a reader finds NUL only as the terminator).
FORBIDDEN_NAME_CHARS = frozenset("/\\:!")

_STREAM = 2  # [MS-CFB] 2.6.1 object types
_STORAGE = 1


@dataclass(frozen=True)
class Limits:
    """Bounds for reading untrusted compound files."""

    #: Deepest nesting of storages below the root.
    max_depth: int = 64
    #: Most directory entries (streams and storages) in one file.
    max_entries: int = 200_000
    #: Most stream bytes in total.
    max_total_bytes: int = 4 << 30


DEFAULT_LIMITS = Limits()


# --------------------------------------------------------------------------- writing


def _write_to(tree: Storage, fileobj: BinaryIO) -> None:
    cfbwriter.plan(tree).write_to(fileobj)


def to_bytes(tree: Storage) -> bytes:
    """The compound file for ``tree``, in memory."""
    return cfbwriter.to_bytes(tree)


def write_stream(tree: Storage, fileobj: BinaryIO) -> None:
    """Write the compound file for ``tree`` to an open binary file object (front to back)."""
    _write_to(tree, fileobj)


def _os_reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


@dataclass
class _Batch:
    """What many outputs written at once share (see :func:`batch`)."""

    #: Output folder as given -> its real path (symlinks resolved and checked once).
    folders: dict[str, str]
    #: The process that commits the temporary files: the one that entered :func:`batch`, also in
    #: the workers it forks (``close --jobs``), so a temporary file lives as long as its marker.
    owner: int


_batch: _Batch | None = None


@contextlib.contextmanager
def batch() -> Iterator[None]:
    """Write many outputs: each output folder's symlinks are resolved (and checked) once, and the
    umask read once, while the block runs (``close``: thousands of outputs in a few folders).
    Temporary files carry the pid of the process that entered the block, also when processes it
    forks write them: that process commits them (see :func:`remove_leftovers`).

    Inside it :func:`real_target` still looks at each output itself: a symlink or anything but a
    regular file there gets every check. Folders that change while the block runs are seen as
    they were when first met.
    """
    global _batch
    outer = _batch
    if outer is None:
        _batch = _Batch({}, os.getpid())
    try:
        yield
    finally:
        _batch = outer


def _batched_target(target: str | os.PathLike[str]) -> _Found | None:
    """:func:`_real_target` through the folder cache of :func:`batch`: the output's folder
    resolved once, the output itself looked at each time. None when the full rules must run (a
    symlink or something else than a regular file at the output, an unusual name)."""
    assert _batch is not None
    head, name = os.path.split(os.fspath(target))
    if not name or name in (os.curdir, os.pardir):
        return None
    folder = _batch.folders.get(head)
    if folder is None:
        folder = _batch.folders[head] = os.fspath(_resolve(Path(head or os.curdir)))
    here = os.path.join(folder, name)
    try:
        st = os.lstat(here)
    except FileNotFoundError:
        return here, None
    except OSError:
        return None
    return (here, st) if stat.S_ISREG(st.st_mode) else None


#: Most symlinks followed while resolving one path (the kernel's own limit, MAXSYMLINKS).
MAX_LINKS = 40


def _follow_allowed(link: str, link_stat: os.stat_result, folder: str) -> None:
    """Refuse a symlink that neither the user running msgsess nor its folder's owner owns.

    This is the kernel's ``protected_symlinks`` rule, applied in every folder and not only in
    sticky world-writable ones: another user's link in a shared folder must not make msgsess
    (as root, say) replace a file that user could not write.
    """
    if link_stat.st_uid == os.geteuid():
        return
    try:
        owner = os.stat(folder).st_uid
    except OSError:
        owner = -1
    if link_stat.st_uid != owner:
        raise WriteFailed(
            f"refusing to write through symlink {link}: it belongs to uid {link_stat.st_uid}, "
            f"not to you (uid {os.geteuid()}) nor to the owner of its folder (uid {owner})",
            hint="remove the link or choose another output",
        )


def _resolve(target: Path) -> Path:
    """``target`` with every symlink on its way resolved, each checked by :func:`_follow_allowed`.

    Like ``os.path.realpath``, except that a link to nothing is refused (a file is never created
    through a dangling link) and so is a link the protected-symlinks rule would not follow.
    Components after the first missing one are kept as given (close creates them).
    """
    given = os.fspath(target)
    path = given if os.path.isabs(given) else os.path.join(os.getcwd(), given)
    pending = [part for part in reversed(path.split(os.sep)) if part]
    resolved = os.sep
    links = 0
    while pending:
        name = pending.pop()
        if name == os.curdir:
            continue
        if name == os.pardir:
            resolved = os.path.dirname(resolved)
            continue
        here = os.path.join(resolved, name)
        try:
            st = os.lstat(here)
        except FileNotFoundError:
            # Nothing below a missing folder can be a link: the rest is plain names.
            return Path(os.path.normpath(os.path.join(here, *reversed(pending))))
        except OSError as exc:
            raise WriteFailed(f"cannot write {given}: {here}: {_os_reason(exc)}") from exc
        if not stat.S_ISLNK(st.st_mode):
            resolved = here
            continue
        links += 1
        if links > MAX_LINKS:
            raise WriteFailed(f"cannot write {given}: more than {MAX_LINKS} symlinks on the way (a loop?)")
        _follow_allowed(here, st, resolved)
        try:
            dest = os.readlink(here)
            os.stat(here)
        except FileNotFoundError:
            raise WriteFailed(
                f"refusing to write through symlink {here}: what it points to does not exist",
                hint="no file is created through a dangling link; remove it or choose another output",
            ) from None
        except OSError as exc:
            raise WriteFailed(f"cannot write {given}: {here}: {_os_reason(exc)}") from exc
        if os.path.isabs(dest):
            resolved = os.sep
        pending.extend(part for part in reversed(dest.split(os.sep)) if part)
    return Path(resolved)


def real_target(target: Path) -> Path:
    """The file an output really is: a symlink's destination (so the link stays a link).

    Only symlinks owned by the user running msgsess or by the owner of their folder are
    followed, and never one that points to nothing (:func:`_resolve`). An existing target that
    is not a regular file (a device such as /dev/null, a FIFO, a folder) is refused: replacing
    it by rename would destroy it.
    """
    return Path(_real_target(target)[0])


#: A resolved output (:func:`_real_target`): its path, and what is there now (None: nothing).
_Found = tuple[str, "os.stat_result | None"]


def _real_target(target: str | os.PathLike[str]) -> _Found:
    """:func:`real_target` as a string, with the ``stat`` of the regular file there (None when
    there is none yet): what the writer and :func:`commit_all` need, looked at once."""
    if _batch is not None:
        fast = _batched_target(target)
        if fast is not None:
            return fast
    path = os.fspath(_resolve(Path(target)))
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return path, None
    except OSError as exc:
        raise WriteFailed(f"cannot write {Path(target)}: {_os_reason(exc)}") from exc
    if not stat.S_ISREG(st.st_mode):
        kind = "a folder" if stat.S_ISDIR(st.st_mode) else "a device, FIFO or socket"
        raise WriteFailed(f"cannot write {Path(target)}: it is {kind}, not a file", hint="choose a file name")
    return path, st


def write_temp(
    tree: Storage,
    target: Path,
    *,
    durable: bool = False,
    created: Callable[[Path], object] | None = None,
) -> Path:
    """Write ``tree`` to a new temporary file beside ``target``; return its path.

    The temporary file lives in the target's directory, so :func:`commit` is a rename
    on one filesystem. On failure nothing is left behind. ``durable=True`` also fsyncs
    the file: atomicity does not need it (readers see the old file or the new one),
    only survival of a power cut does, and it costs a disk flush per file. Until
    :func:`commit` the file starts with a mark, not the compound file's signature.

    ``created`` is told the file's path the moment it exists, before a signal can stop the
    caller: a process stopped later (a ``close --jobs`` worker) knows every file to remove.
    """
    told = None if created is None else (lambda name: created(Path(name)))
    return Path(write_temp_name(tree, target, durable=durable, created=told))


def write_temp_name(
    tree: Storage,
    target: str | os.PathLike[str],
    *,
    durable: bool = False,
    created: Callable[[str], object] | None = None,
) -> str:
    """:func:`write_temp` with paths as strings: ``close`` writes thousands of files."""
    real, existing = _real_target(target)
    planned = cfbwriter.plan(tree)  # programming errors surface before any file exists
    return _write_beside(real, existing, planned, durable, created=created)


#: Largest file written from memory in one system call (a bigger one streams through a buffer).
_IN_ONE_WRITE = 1 << 20


def _write_beside(
    target: str,
    existing: os.stat_result | None,
    fill: cfbwriter.Plan | Callable[[BinaryIO], object],
    durable: bool,
    *,
    created: Callable[[str], object] | None = None,
) -> str:
    """A new ``.NAME.*.tmp`` beside the (resolved) ``target`` that ``fill`` writes, with the
    mode of the file there now (``existing``) or else the umask's. A compound file (a
    :class:`~msgsess.cfbwriter.Plan`) is marked as :class:`_Unfinished`. On failure nothing is
    left behind.

    Stopping signals are held from before the file exists until its path is known here (and to
    ``created``): a handler that raises (a worker's SIGTERM) then raises inside the ``try`` that
    removes the file, never in the instant after ``open`` (a loaded machine can stall a process
    right there).
    """
    held = _hold_signals()
    try:
        # A new output gets the umask's mode from open(); one that replaces a file gets that
        # file's mode below, and stays private to its owner until then.
        fd, temp = _create_temp(target, 0o666 if existing is None else 0o600)
    except OSError as exc:
        _release_signals(held)
        raise WriteFailed(
            f"cannot write {target}: {_os_reason(exc)}",
            hint="check that the directory exists and is writable",
        ) from exc
    except BaseException:
        _release_signals(held)
        raise
    try:
        try:
            try:
                if created is not None:
                    created(temp)
            finally:
                _release_signals(held)  # a signal that came meanwhile is handled now, in this try
            if not isinstance(fill, cfbwriter.Plan):
                with os.fdopen(fd, "wb", closefd=False) as f:
                    fill(f)
            elif fill.size <= _IN_ONE_WRITE:
                _write_marked(fd, fill)
            else:
                with io.BufferedWriter(_Unfinished(fd)) as f:
                    fill.write_to(f)
            if existing is not None:
                os.fchmod(fd, stat.S_IMODE(existing.st_mode))
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException as exc:
        discard(temp)
        if isinstance(exc, OSError):
            raise WriteFailed(
                f"cannot write {target}: {_os_reason(exc)}",
                hint="check free space and permissions",
            ) from exc
        raise
    return temp


_STOPPING = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def _hold_signals() -> set[int | signal.Signals] | None:
    """Block the stopping signals in this thread; what to restore (None: nothing was changed)."""
    try:
        return signal.pthread_sigmask(signal.SIG_BLOCK, _STOPPING)
    except (AttributeError, OSError, ValueError):  # no pthread_sigmask on this platform
        return None


def _release_signals(held: set[int | signal.Signals] | None) -> None:
    if held is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def _create_temp(target: str, mode: int) -> tuple[int, str]:
    """A new file ``.NAME.RANDOM.tmp`` beside ``target``, open for writing (as
    ``tempfile.mkstemp`` makes one, with 8 random hex digits); ``mode`` before the umask."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    folder, name = os.path.split(target)
    for _attempt in range(100):
        temp = os.path.join(folder, f".{name}.{os.urandom(4).hex()}.tmp")
        try:
            return os.open(temp, flags, mode), temp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free name for a temporary file", folder)


#: The first bytes of every compound file ([MS-CFB] 2.2: the signature, then a CLSID that MUST
#: be all zeroes), which a temporary output holds only once it is committed. Until then they are
#: a mark, the writer's pid and a mark again (:func:`_unfinished_head`): a temporary file a killed
#: run left is known by them, never by its name alone (see :func:`remove_leftovers`).
_REAL_HEAD = CFB_SIGNATURE + bytes(16)
_MARK = b"msgsess\x00"
_MARK_END = b"partial\x00"


def _unfinished_head(pid: int) -> bytes:
    return _MARK + struct.pack("<Q", pid) + _MARK_END


def _unfinished_pid(head: bytes) -> int | None:
    """The pid in an unfinished mark, or None when ``head`` is no such mark."""
    if len(head) != len(_REAL_HEAD) or head[:8] != _MARK or head[16:] != _MARK_END:
        return None
    return int(struct.unpack_from("<Q", head, 8)[0])


def _owner() -> int:
    """The pid a temporary file is marked with: the process that commits it (see :func:`batch`)."""
    return _batch.owner if _batch is not None else os.getpid()


class _Unfinished(io.FileIO):
    """A new temporary output, written front to back: its first bytes are the unfinished mark
    instead of the compound file's own, which :func:`commit` puts back just before the rename.

    The mark is written the moment the file exists, so a kill at any point of the writing
    leaves a file that carries it. The file descriptor stays open (its opener closes it).
    """

    def __init__(self, fd: int) -> None:
        self._head = _unfinished_head(_owner())
        os.pwrite(fd, self._head, 0)
        super().__init__(fd, "wb", closefd=False)
        self._at = 0

    def write(self, data: ReadableBuffer, /) -> int:
        if self._at >= len(_REAL_HEAD):
            written = super().write(data)
        else:
            view = memoryview(data).cast("B")
            end = min(len(_REAL_HEAD), self._at + len(view))
            if view[: end - self._at] != _REAL_HEAD[self._at : end]:
                raise ValueError("a compound file starts with its signature and a zero CLSID")
            written = super().write(self._head[self._at : end])  # the rest comes in the next call
        self._at += written
        return written


class _Gather:
    """What a :class:`~msgsess.cfbwriter.Plan` writes, kept (a small file goes out in one call)."""

    __slots__ = ("parts",)

    def __init__(self) -> None:
        self.parts: list[ReadableBuffer] = []

    def write(self, data: ReadableBuffer) -> int:
        self.parts.append(data)
        return memoryview(data).nbytes


def _write_marked(fd: int, planned: cfbwriter.Plan) -> None:
    """Write a small compound file with one system call, its first bytes the unfinished mark
    (as :class:`_Unfinished` does for a large one)."""
    sink = _Gather()
    planned.write_to(sink)  # type: ignore[arg-type]  # write() is all a plan calls
    data = memoryview(sink.parts[0] if len(sink.parts) == 1 else b"".join(sink.parts)).cast("B")
    if data[: len(_REAL_HEAD)] != _REAL_HEAD:
        raise ValueError("a compound file starts with its signature and a zero CLSID")
    head = _unfinished_head(_owner())
    done = os.writev(fd, [head, data[len(head) :]])
    while done < len(data):  # a short write: a full disk says so with the next call
        more = os.write(fd, head[done:] if done < len(head) else data[done:])
        if not more:
            raise OSError(errno.EIO, f"short write: {done} of {len(data)} bytes")
        done += more


def _finish(temp: str | Path, durable: bool) -> None:
    """Put the compound file's own first bytes back into a temporary output (:class:`_Unfinished`).

    A file that does not start with the mark (not from :func:`write_temp`) is left as it is.
    """
    fd = os.open(temp, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        if _unfinished_pid(os.pread(fd, len(_REAL_HEAD), 0)) is not None:
            os.pwrite(fd, _REAL_HEAD, 0)
            if durable:
                os.fsync(fd)
    finally:
        os.close(fd)


def commit(temp: Path, target: Path, *, durable: bool = False) -> None:
    """Move a file from :func:`write_temp` into place (atomic rename), its mark replaced by the
    compound file's own first bytes (:class:`_Unfinished`).

    ``durable`` also fsyncs the directory so the rename survives a crash; a caller
    committing many files to one directory may pass False and call :func:`sync_dir` once.
    """
    _move(temp, target, durable, finish=True)


def _move(temp: str | Path, target: str | Path, durable: bool, *, finish: bool) -> None:
    _replace(temp, _real_target(target)[0], durable, finish=finish)


def _replace(temp: str | Path, real: str, durable: bool, *, finish: bool) -> None:
    """Rename ``temp`` over the resolved output ``real`` (its mark replaced first if ``finish``)."""
    try:
        if finish:
            _finish(temp, durable)
        os.replace(temp, real)
    except OSError as exc:
        raise WriteFailed(f"cannot replace {real}: {_os_reason(exc)}") from exc
    if durable:
        sync_dir(Path(real).parent)


class Moves(Protocol):
    """Where :func:`commit_all` records each output it has moved into place (its real path),
    with the backup of what was there (None: nothing was). A list by default; ``close`` keeps
    them in a temporary table, so that its memory does not grow with the number of outputs."""

    def add(self, target: str, backup: str | None) -> None: ...

    def newest_first(self) -> Iterable[tuple[str, str | None]]: ...

    def backups(self) -> Iterable[str]: ...


class _MoveList:
    def __init__(self) -> None:
        self.done: list[tuple[str, str | None]] = []

    def add(self, target: str, backup: str | None) -> None:
        self.done.append((target, backup))

    def newest_first(self) -> Iterable[tuple[str, str | None]]:
        return reversed(self.done)

    def backups(self) -> Iterable[str]:
        return (old for _target, old in self.done if old is not None)


def commit_all(
    pairs: Iterable[tuple[str | Path, str | Path]], *, durable: bool = False, moves: Moves | None = None
) -> None:
    """Move several temporaries into place, all or none.

    Each existing target is first hard-linked (or, where links are not allowed,
    copied) to a backup beside it; if any move fails, the targets already moved
    get their old content back and new ones are removed, then the error is raised.
    Backups go once every move has succeeded. Only a crash in the middle of this
    loop can leave a mix, and then the backups are still beside their targets.
    """
    done = moves if moves is not None else _MoveList()
    backup: str | None = None
    try:
        for temp, target in pairs:
            real, existing = _real_target(target)  # looked at once: resolved, and what is there
            backup = None if existing is None else _backup_of(real, existing)
            _replace(temp, real, durable, finish=True)
            done.add(real, backup)
            backup = None
    except BaseException:
        if backup is not None:
            discard(backup)
        for real, old in done.newest_first():
            with contextlib.suppress(OSError):
                if old is not None:
                    os.replace(old, real)
                else:
                    os.unlink(real)
        raise
    for old in done.backups():
        discard(old)


def _backup_token(pid: int, nonce: str, st: os.stat_result) -> str:
    """The middle of a backup's name: the pid of its maker, a nonce, and a digest of those with
    the file's size and modification time, which a file that only looks like a backup lacks."""
    import hashlib  # here: readers of compound files (check, dump) never start OpenSSL

    facts = f"msgsess backup {pid} {nonce} {st.st_size} {st.st_mtime_ns}"
    return f"{pid}-{nonce}-{hashlib.sha256(facts.encode()).hexdigest()[:16]}"


def _backup(target: Path) -> Path | None:
    """A second name for ``target``'s current content, or None when there is no target yet
    (:func:`_backup_of`)."""
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise WriteFailed(f"cannot keep a copy of {target} while replacing it: {_os_reason(exc)}") from exc
    return Path(_backup_of(os.fspath(target), st))


def _backup_of(target: str, st: os.stat_result) -> str:
    """A second name for the file at ``target`` (``st``: its stat), made now.

    ``.NAME.PID-NONCE-DIGEST.bak`` beside it: a hard link (or, where links are not allowed, a
    copy keeping the modification time), which :func:`remove_leftovers` can tell from any other
    file by the digest (:func:`_backup_token`).
    """
    folder, name = os.path.split(target)
    backup = os.path.join(folder, f".{name}.{_backup_token(os.getpid(), os.urandom(4).hex(), st)}.bak")
    try:
        os.link(target, backup)
    except FileExistsError as exc:  # not ours to remove
        raise WriteFailed(f"cannot keep a copy of {target} while replacing it: {backup} exists") from exc
    except OSError:
        try:
            import shutil  # only where the copy cannot be a hard link

            shutil.copy2(target, backup)
        except OSError as exc:
            discard(backup)
            raise WriteFailed(
                f"cannot keep a copy of {target} while replacing it: {_os_reason(exc)}"
            ) from exc
    return backup


def sync_dir(directory: Path) -> None:
    """fsync a directory so renames in it are durable; best effort (not every OS allows it)."""
    with contextlib.suppress(OSError):
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def discard(temp: str | Path) -> None:
    """Remove a temporary file from :func:`write_temp`; missing is fine."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(temp)


def _gone(pid: int) -> bool:
    """Whether the process that made a leftover has ended (this one counts as ended: every
    temporary file and backup it made is committed or removed by the time it cleans up)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # EPERM: it runs, as another user
        return False
    return False


def _leftover(path: str, suffix: str) -> bool:
    """Whether the ``.tmp`` or ``.bak`` file at ``path`` is one a msgsess run that has ended made."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return False
        if suffix == ".tmp":
            pid = _unfinished_pid(os.pread(fd, len(_REAL_HEAD), 0))
        else:
            token = os.path.basename(path)[:-4].rpartition(".")[2]
            pid_text, _, nonce = token.partition("-")
            nonce = nonce.partition("-")[0]
            ok = pid_text.isascii() and pid_text.isdigit() and len(pid_text) < 20
            pid = int(pid_text) if ok and _backup_token(int(pid_text), nonce, st) == token else None
    except OSError:
        return False
    finally:
        os.close(fd)
    return pid is not None and pid > 0 and _gone(pid)


def remove_leftovers(targets: Iterable[Path]) -> list[Path]:
    """Remove what killed runs left beside ``targets``: their temporary files and backups.

    Only files msgsess made are taken, known by name and by content: ``.NAME.*.tmp`` starting
    with the unfinished mark (:func:`write_temp` writes it; :func:`commit` replaces it) and
    ``.NAME.*.bak`` whose name holds the digest of its size and modification time
    (:func:`_backup`), NAME being a target's, made by a process that has ended. Best effort:
    what cannot be removed stays. Returns the files removed.
    """
    names: dict[str, set[str]] = {}
    for target in targets:
        try:
            real = real_target(target)
        except MsgsessError:
            continue
        names.setdefault(str(real.parent), set()).add(real.name)
    removed: list[Path] = []
    for folder, wanted in names.items():
        removed.extend(remove_leftovers_in(folder, wanted.__contains__))
    return removed


def remove_leftovers_in(folder: str, wanted: Callable[[str], bool]) -> list[Path]:
    """:func:`remove_leftovers` in one folder, for the outputs (real names) ``wanted`` says yes to."""
    try:
        with os.scandir(folder) as entries:
            found = [e.name for e in entries if e.name.startswith(".") and e.name[-4:] in (".tmp", ".bak")]
    except OSError:
        return []
    removed: list[Path] = []
    for name in found:
        stem, dot, _middle = name[1:-4].rpartition(".")
        path = os.path.join(folder, name)
        if dot and wanted(stem) and _leftover(path, name[-4:]):
            with contextlib.suppress(OSError):
                os.unlink(path)
                removed.append(Path(path))
    return removed


def write_atomic(tree: Storage, target: Path, *, durable: bool = False) -> None:
    """Write ``tree`` to ``target``; on any error ``target`` is untouched and no temp file is left.

    ``durable=True`` also fsyncs the file and its directory.
    """
    temp = write_temp(tree, target, durable=durable)
    try:
        commit(temp, target, durable=durable)
    except BaseException:
        discard(temp)
        raise


def write_bytes_atomic(data: bytes, target: Path, *, durable: bool = False) -> None:
    """Write bytes that are not a compound file (an exported ``.eml``) with the same guarantees.

    The file appears whole or not at all, keeps the mode of the file it replaces, and
    writes through a symlink as :func:`write_atomic` does.
    """
    real, existing = _real_target(target)
    temp = _write_beside(real, existing, lambda f: f.write(data), durable)
    try:
        _move(temp, real, durable, finish=False)  # not a compound file: no mark to replace
    except BaseException:
        discard(temp)
        raise


# --------------------------------------------------------------------------- reading


class _Damaged(Exception):
    """Internal: what is wrong, for the CorruptFile message."""


class _Reader(olefile.OleFileIO):  # type: ignore[misc]
    """olefile with an O(1) duplicate-stream check and a cap on directory entries."""

    def __init__(self, fp: BinaryIO, max_entries: int) -> None:
        self._msgsess_max_entries = max_entries
        self._msgsess_loaded = 0
        self._msgsess_used: dict[bool, set[int]] = {False: set(), True: set()}
        super().__init__(fp, raise_defects=olefile.DEFECT_INCORRECT)

    def _check_duplicate_stream(self, first_sect: int, minifat: bool = False) -> None:
        # Same rule as olefile's, with a set instead of a list (its list is O(n²) in entries).
        if not minifat and first_sect in (
            olefile.DIFSECT,
            olefile.FATSECT,
            olefile.ENDOFCHAIN,
            olefile.FREESECT,
        ):
            return
        used = self._msgsess_used[bool(minifat)]
        if first_sect in used:
            self._raise_defect(olefile.DEFECT_INCORRECT, "Stream referenced twice")
        used.add(first_sect)

    def _load_direntry(self, sid: int) -> Any:
        self._msgsess_loaded += 1
        if self._msgsess_loaded > self._msgsess_max_entries:
            raise _Damaged(f"more than {self._msgsess_max_entries} directory entries")
        return super()._load_direntry(sid)


def _check_header(fp: BinaryIO, size: int) -> None:
    """Sanity of [MS-CFB] 2.2 header counts before olefile trusts them."""
    head = fp.read(512)
    fp.seek(0)
    if len(head) < 8 or head[:8] != CFB_SIGNATURE:
        raise _Damaged("not a compound file (no CFB signature)")
    if len(head) < 512:
        raise _Damaged(f"truncated: {size} bytes, shorter than a compound-file header")
    fields = HEADER.unpack_from(head)
    sector_shift = fields[5]
    n_fat, n_minifat, n_difat = fields[9], fields[14], fields[16]
    if sector_shift not in (9, 12):
        raise _Damaged(f"invalid sector size 2**{sector_shift}")
    sector = 1 << sector_shift
    n_sect = max(0, (size - sector + sector - 1) // sector)
    if size < 3 * 512:
        raise _Damaged(f"truncated: {size} bytes, too short for a compound file")
    for label, count in (("FAT", n_fat), ("MiniFAT", n_minifat), ("DIFAT", n_difat)):
        if count > n_sect:
            raise _Damaged(f"header declares {count} {label} sectors but the file has only {n_sect}")


def _mark_chain(
    fat: Any, start: int, count: int | None, used: bytearray, what: str, sectors: int = 0
) -> None:
    """Follow a sector chain, failing on loops, overlaps, and sectors outside the table.

    ``count`` sectors are expected; ``None`` follows the chain to ENDOFCHAIN. ``sectors`` is how
    many the file holds (a sector in the file that the table does not map is named as such).
    """
    limit = len(fat)
    sect = start
    steps = 0
    while count is None or steps < count:
        if sect == ENDOFCHAIN:
            if count is None:
                return
            raise _Damaged(f"{what} ends after {steps} of {count} sectors (truncated?)")
        if sect >= limit:
            if sect < sectors:
                raise _Damaged(
                    f"{what} points to sector {sect:#x}, beyond the {limit} sectors its FAT maps "
                    "(the DIFAT lists too few FAT sectors)"
                )
            raise _Damaged(f"{what} points to sector {sect:#x} outside the file (truncated?)")
        if used[sect]:
            raise _Damaged(f"sector chain of {what} loops or overlaps another stream")
        used[sect] = 1
        sect = fat[sect]
        steps += 1


def _entry_name(kid: Any, where: str) -> str:
    """A directory entry's name as [MS-CFB] 2.6.1 defines it, or ``_Damaged``.

    The name-length field counts the bytes of the name and its terminator: even, 4..64 for a
    name of 1..31 UTF-16 code units. olefile trusts the field (a length of 1 gives a name of 32
    characters ending in U+FFFD) and replaces what is no UTF-16; a writer could not write either.
    """
    length = kid.namelength
    if length % 2 or not 4 <= length <= 64:
        raise _Damaged(
            f"directory entry {kid.sid} in {where} has name-length field {length}; it must be even, 4..64"
        )
    try:
        name = str(kid.name_raw[: length - 2].decode("utf-16-le"))
    except UnicodeDecodeError:
        raise _Damaged(f"directory entry {kid.sid} in {where} has a name that is not UTF-16") from None
    if "\0" in name or not FORBIDDEN_NAME_CHARS.isdisjoint(name):
        raise _Damaged(f"invalid entry name {name!r} in {where}")
    return name


def _clsid_bytes(text: str) -> bytes:
    return uuid.UUID(text).bytes_le if text else NULL_CLSID


def _read(fp: BinaryIO, name: str, limits: Limits) -> Storage:
    fp.seek(0, os.SEEK_END)
    size = fp.tell()
    fp.seek(0)
    _check_header(fp, size)
    ole = _Reader(fp, limits.max_entries)
    try:
        tree, storages = _to_tree(ole, size, limits)
        tree.layout = _layout(fp, ole, size, storages)
        return tree
    finally:
        ole.close()


def _layout(fp: BinaryIO, ole: Any, size: int, storages: dict[str, int]) -> FileLayout:
    """The directory entries and allocation tables as the file holds them, for ``check``.

    Only what olefile does not judge is gathered here, not judged: the red-black sibling trees
    ([MS-CFB] 2.6.4) and the DIFAT ([MS-CFB] 2.5) are checked by ``msgsess.oxmsg.check``.
    """
    entries = {
        entry.sid: DirectoryEntry(entry.name, entry.color, entry.sid_left, entry.sid_right, entry.sid_child)
        for entry in ole.direntries
        if entry is not None
    }
    fp.seek(0)
    head = fp.read(512)
    fields = HEADER.unpack_from(head)
    sector = 1 << fields[5]
    fat_declared, first_difat, difat_declared = fields[9], fields[15], fields[16]
    slots = cfbwriter.HEADER_DIFAT
    listed = [s for s in struct.unpack_from(f"<{slots}I", head, HEADER.size) if s != cfbwriter.FREESECT]
    per_sector = sector // 4 - 1
    sectors_in_file = max(0, (size - sector) // sector)
    difat: list[int] = []
    next_difat = first_difat
    while next_difat < sectors_in_file and next_difat not in difat and len(difat) <= sectors_in_file:
        difat.append(next_difat)
        fp.seek((next_difat + 1) * sector)
        data = fp.read(sector)
        if len(data) < sector:
            break
        values = struct.unpack_from(f"<{per_sector + 1}I", data)
        listed.extend(s for s in values[:per_sector] if s != cfbwriter.FREESECT)
        next_difat = values[per_sector]
    fat = ole.fat
    marks = {s: int(fat[s]) for s in (*listed, *difat) if s < len(fat)}
    return FileLayout(
        size=size,
        sector_size=sector,
        entries=entries,
        storages=storages,
        fat_declared=fat_declared,
        difat_declared=difat_declared,
        fat_sectors=tuple(listed),
        difat_sectors=tuple(difat),
        difat_next=next_difat,
        fat_entries=marks,
    )


def _to_tree(ole: Any, size: int, limits: Limits) -> tuple[Storage, dict[str, int]]:
    """The tree of ``ole``, and the stream id of each storage by path ('' for the root)."""
    root = ole.root
    sector = ole.sectorsize
    fat = ole.fat
    used = bytearray(len(fat))
    in_file = max(0, (size - sector) // sector)
    # The directory and MiniFAT chains, then the mini stream ([MS-CFB] 2.6.2, 2.3, 2.7).
    _mark_chain(fat, ole.first_dir_sector, None, used, "the directory", in_file)
    if ole.num_mini_fat_sectors:
        count_minifat = ole.num_mini_fat_sectors
        _mark_chain(fat, ole.first_mini_fat_sector, count_minifat, used, "the MiniFAT", in_file)
    if root.size > size:
        raise _Damaged(f"mini stream declares {root.size} bytes, more than the file's {size}")
    if root.size:
        _mark_chain(fat, root.isectStart, -(-root.size // sector), used, "the mini stream", in_file)

    # Walk the directory tree without recursion; check depth, sizes and totals.
    tree = Storage(clsid=_clsid_bytes(root.clsid), created=root.createTime, modified=root.modifyTime)
    streams: list[tuple[Storage, str, Any, str]] = []
    stack: list[tuple[Any, Storage, str, int]] = [(root, tree, "", 0)]
    total = 0
    count = 0
    #: Names of each storage's children, upper-cased as [MS-CFB] 2.6.4 compares them.
    names_seen: dict[int, set[str]] = {}
    storages: dict[str, int] = {}
    while stack:
        entry, node, path, depth = stack.pop()
        storages[path.rstrip("/")] = entry.sid
        for kid in entry.kids:
            count += 1
            if count > limits.max_entries:
                raise _Damaged(f"more than {limits.max_entries} directory entries")
            kid_name = _entry_name(kid, path.rstrip("/") or "the root")
            kid_path = f"{path}{kid_name}"
            folded = kid_name.upper()
            if folded in names_seen.setdefault(id(node), set()):
                raise _Damaged(f"two entries named {kid_name!r} in {path.rstrip('/') or 'the root'}")
            names_seen[id(node)].add(folded)
            if kid.entry_type == _STORAGE:
                if depth + 1 > limits.max_depth:
                    raise _Damaged(f"storages nested deeper than {limits.max_depth} levels")
                child = Storage(
                    clsid=_clsid_bytes(kid.clsid), created=kid.createTime, modified=kid.modifyTime
                )
                node.entries[kid_name] = child
                stack.append((kid, child, kid_path + "/", depth + 1))
            elif kid.entry_type == _STREAM:
                if kid.size > size:
                    raise _Damaged(
                        f"stream {kid_path} declares {kid.size} bytes, more than the file's {size}"
                    )
                total += kid.size
                if total > limits.max_total_bytes:
                    raise _Damaged(f"streams hold more than {limits.max_total_bytes} bytes in total")
                streams.append((node, kid_name, kid, kid_path))
            # Unallocated entries linked into the tree carry nothing: skip them.

    # Check every stream's chain before reading any of them.
    mini_used = bytearray(-(-root.size // MINI_SECTOR_SIZE))
    minifat: Any = None
    for _node, _name, kid, kid_path in streams:
        if kid.size == 0:
            continue
        if kid.size < MINI_STREAM_CUTOFF:
            if minifat is None:
                ole.loadminifat()
                minifat = ole.minifat
            count_mini = -(-kid.size // MINI_SECTOR_SIZE)
            _mark_chain(minifat, kid.isectStart, count_mini, mini_used, f"stream {kid_path}")
        else:
            count_big = -(-kid.size // sector)
            _mark_chain(fat, kid.isectStart, count_big, used, f"stream {kid_path}", in_file)

    for node, kid_name, kid, kid_path in streams:
        if kid.size == 0:
            node.entries[kid_name] = b""
        elif kid.size < MINI_STREAM_CUTOFF:
            node.entries[kid_name] = ole._open(kid.isectStart, kid.size).read()
        else:
            node.entries[kid_name] = _read_chain(ole.fp, fat, kid.isectStart, kid.size, sector, kid_path)
    return tree, storages


def _read_chain(fp: BinaryIO, fat: Any, start: int, size: int, sector: int, path: str) -> bytes:
    """A stream of the FAT whose chain :func:`_mark_chain` has checked, read run by run.

    Sectors that follow one another in the file are read at once: a stream stored in one run
    (as writers lay them out) is one read into one bytes object, where olefile's reader holds it
    two or three times over. Only a fragmented stream is joined from its runs.
    """
    runs: list[tuple[int, int]] = []
    sect, left = start, -(-size // sector)
    while left:
        first, count = sect, 1
        sect, left = fat[sect], left - 1
        while left and sect == first + count:
            sect, left, count = fat[sect], left - 1, count + 1
        runs.append((first, count))
    parts: list[bytes] = []
    got = 0
    for first, count in runs:
        fp.seek((first + 1) * sector)
        want = min(count * sector, size - got)
        part = fp.read(want)
        if len(part) != want:
            raise _Damaged(f"stream {path} goes past the end of the file (truncated?)")
        parts.append(part)
        got += want
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _wrap_read(name: str, fp_factory: Any, limits: Limits) -> Storage:
    try:
        with fp_factory() as fp:
            return _read(fp, name, limits)
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise NotFound("no such file").at(name) from exc
    except _Damaged as exc:
        raise CorruptFile(f"damaged compound file: {exc}").at(name) from exc
    except MemoryError:
        raise out_of_memory(f"read {name}") from None
    except RecursionError as exc:
        raise CorruptFile(
            "damaged compound file: directory tree too deep (unbalanced or nested too deeply)"
        ).at(name) from exc
    except _OleFileError as exc:
        raise CorruptFile(f"damaged compound file: {exc}").at(name) from exc
    except OSError as exc:
        if isinstance(exc, IsADirectoryError | PermissionError):
            raise InvalidParameter(f"cannot read {name}: {_os_reason(exc)}") from exc
        raise CorruptFile(f"damaged compound file: {_os_reason(exc)}").at(name) from exc
    except (ValueError, IndexError, KeyError, TypeError, struct.error, OverflowError, EOFError) as exc:
        # Anything else olefile trips over on malformed input.
        detail = str(exc) or type(exc).__name__
        raise CorruptFile(f"damaged compound file: {detail}").at(name) from exc


def read_file(path: Path, *, limits: Limits = DEFAULT_LIMITS) -> Storage:
    """Read the compound file at ``path`` into a :class:`Storage` tree.

    Only a regular file within the limit on inputs is opened (:func:`msgsess.inputs.open_input`):
    a FIFO, a device or a folder is refused without blocking.
    """
    path = Path(path)
    return _wrap_read(str(path), lambda: io.BufferedReader(open_input(path)), limits)


def read_bytes(data: bytes | bytearray, name: str = "<bytes>", *, limits: Limits = DEFAULT_LIMITS) -> Storage:
    """Read a compound file held in memory into a :class:`Storage` tree."""
    return _wrap_read(name, lambda: io.BytesIO(data), limits)
