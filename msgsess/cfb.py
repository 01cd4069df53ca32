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

Reading is :mod:`msgsess.cfbreader` (our own reader, with limits for hostile input), whose
:func:`read_file`, :func:`read_bytes` and :class:`Limits` this module re-exports: commands that
only read a file import that module alone, not this one and its writer.
"""

from __future__ import annotations

import contextlib
import errno
import io
import itertools
import os
import signal
import stat
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol

from msgsess import cfbwriter
from msgsess.cfbformat import SIGNATURE as CFB_SIGNATURE
from msgsess.cfbreader import DEFAULT_LIMITS, Limits, read_bytes, read_file
from msgsess.errors import MsgsessError, WriteFailed
from msgsess.oxmsg import layout

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

    from msgsess.storage import Storage

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
    "made_folder",
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
    #: Output folders as given that this batch created (:func:`made_folder`).
    fresh: set[str]


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
        _batch = _Batch({}, os.getpid(), set())
    try:
        yield
    finally:
        _batch = outer


#: Most folders :func:`made_folder` remembers (beyond them, outputs are looked at as elsewhere).
_MOST_FRESH = 4096


def made_folder(folder: str) -> None:
    """Tell the :func:`batch` that it created the output folder ``folder`` (as the outputs name
    it) empty: the temporary file of an output there is written without looking at the output
    first, since nothing can be there but what another process put meanwhile — and the commit
    looks at every output anyway, just before moving it into place."""
    if _batch is not None and len(_batch.fresh) < _MOST_FRESH:
        _batch.fresh.add(folder)


def _batched_place(target: str | os.PathLike[str]) -> tuple[str, str] | None:
    """(the output's folder as given, its resolved path) through the folder cache of
    :func:`batch`, each folder resolved once; None for an unusual name (the full rules run)."""
    assert _batch is not None
    head, name = os.path.split(os.fspath(target))
    if not name or name in (os.curdir, os.pardir):
        return None
    folder = _batch.folders.get(head)
    if folder is None:
        folder = _batch.folders[head] = os.fspath(_resolve(Path(head or os.curdir)))
    return head, os.path.join(folder, name)


def _batched_target(target: str | os.PathLike[str], before_write: bool = False) -> _Found | None:
    """:func:`_real_target` through the folder cache of :func:`batch`: the output's folder
    resolved once, the output itself looked at each time (``before_write``: unless the batch
    made its folder). None when the full rules must run (a symlink or something else than a
    regular file at the output, an unusual name)."""
    assert _batch is not None
    place = _batched_place(target)
    if place is None:
        return None
    head, here = place
    if before_write and head in _batch.fresh:
        return here, None
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


def _real_target(target: str | os.PathLike[str], before_write: bool = False) -> _Found:
    """:func:`real_target` as a string, with the ``stat`` of the regular file there (None when
    there is none yet): what the writer and :func:`commit_all` need, looked at once."""
    if _batch is not None:
        fast = _batched_target(target, before_write)
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
    real, existing = _real_target(target, before_write=True)
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
    held = None if _run_holder == threading.get_ident() else _hold_signals()
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

#: The thread inside :func:`signals_held` (None: none is): its files need no hold of their own.
_run_holder: int | None = None
#: Files written, or seconds passed, between two chances for held signals to be handled (see
#: :func:`signals_held`): a stopped close waits for one file at most, or for a few small ones.
BREATHE_EVERY = 32
BREATHE_SECONDS = 0.02


@contextlib.contextmanager
def signals_held() -> Iterator[Callable[[], None]]:
    """Hold the stopping signals over a run of writes, instead of around each file.

    :func:`write_temp_name` otherwise blocks and unblocks them for every file (two system calls
    of the few a small file costs). The block gives ``breathe``, to call after each file once
    its caller has recorded it: every :data:`BREATHE_EVERY` calls, or once
    :data:`BREATHE_SECONDS` have passed, signals that came meanwhile are let through (a handler
    that raises does so there), so a Ctrl-C waits for the file under way and hardly more.
    """
    global _run_holder
    if _run_holder is not None:  # nested, or another thread's run: each file holds its own
        yield lambda: None
        return
    held = _hold_signals()
    if held is None:  # no pthread_sigmask here: nothing to batch
        yield lambda: None
        return
    _run_holder = threading.get_ident()
    count = 0
    since = time.monotonic()

    def breathe() -> None:
        nonlocal count, since
        count += 1
        now = time.monotonic()  # no system call: large or synced files let signals through sooner
        if count >= BREATHE_EVERY or now - since >= BREATHE_SECONDS:
            count, since = 0, now
            _release_signals(held)  # a pending signal's handler runs here, in the caller's try
            _hold_signals()

    try:
        yield breathe
    finally:
        _run_holder = None
        _release_signals(held)


def _hold_signals() -> set[int | signal.Signals] | None:
    """Block the stopping signals in this thread; what to restore (None: nothing was changed)."""
    try:
        return signal.pthread_sigmask(signal.SIG_BLOCK, _STOPPING)
    except (AttributeError, OSError, ValueError):  # no pthread_sigmask on this platform
        return None


def _release_signals(held: set[int | signal.Signals] | None) -> None:
    if held is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def _new_suffixes() -> None:
    global _suffixes
    _suffixes = itertools.count(int.from_bytes(os.urandom(4), "little"))


_suffixes: Iterator[int] = iter(())
_new_suffixes()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_suffixes)  # a forked worker counts from its own start


def _next_suffix() -> int:
    """The next temporary name's 32-bit number: a random start per process, then counting.

    Only uniqueness matters (O_EXCL refuses a name taken, O_NOFOLLOW a link planted there), and
    counting costs no system call per file, where reading the kernel's randomness does.
    """
    return next(_suffixes) & 0xFFFFFFFF


def _create_temp(target: str, mode: int) -> tuple[int, str]:
    """A new file ``.NAME.RANDOM.tmp`` beside ``target``, open for writing (as
    ``tempfile.mkstemp`` makes one, with 8 hex digits: :func:`_next_suffix`); ``mode`` before
    the umask."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    folder, name = os.path.split(target)
    for _attempt in range(100):
        temp = os.path.join(folder, f".{name}.{_next_suffix():08x}.tmp")
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


def _finish(temp: str | Path, durable: bool, *, marked: bool = False) -> None:
    """Put the compound file's own first bytes back into a temporary output (:class:`_Unfinished`).

    A file that does not start with the mark (not from :func:`write_temp`) is left as it is,
    unless the caller knows it is marked (``marked``: its own temporary files, not read first).
    """
    fd = os.open(temp, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        if marked or _unfinished_pid(os.pread(fd, len(_REAL_HEAD), 0)) is not None:
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


def _replace(temp: str | Path, real: str, durable: bool, *, finish: bool, marked: bool = False) -> None:
    """Rename ``temp`` over the resolved output ``real`` (its mark replaced first if ``finish``)."""
    try:
        if finish:
            _finish(temp, durable, marked=marked)
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
    pairs: Iterable[tuple[str | Path, str | Path]],
    *,
    durable: bool = False,
    moves: Moves | None = None,
    marked: bool = False,
) -> None:
    """Move several temporaries into place, all or none. ``marked``: every one is a compound
    file from :func:`write_temp_name` of this process, whose mark is replaced without being read.

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
            finish = True
            place = _fresh_place(target) if marked else None
            if place is not None:  # in a folder this batch made: most likely nothing is there
                try:
                    _finish(temp, durable, marked=True)
                except OSError as exc:
                    raise WriteFailed(f"cannot replace {place}: {_os_reason(exc)}") from exc
                finish = False
                if _rename_new(temp, place):
                    if durable:
                        sync_dir(Path(place).parent)
                    done.add(place, None)
                    continue
            real, existing = _real_target(target)  # looked at once: resolved, and what is there
            backup = None if existing is None else _backup_of(real, existing)
            _replace(temp, real, durable, finish=finish, marked=marked)
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


def _fresh_place(target: str | Path) -> str | None:
    """The resolved path of an output in a folder the :func:`batch` made, else None."""
    if _batch is None or os.path.dirname(os.fspath(target)) not in _batch.fresh:
        return None
    place = _batched_place(target)
    return None if place is None else place[1]


#: renameat2() of the C library, set up on first use (None: not there); False once the system
#: has said it cannot rename without replacing (an old kernel, a file system without it).
_renameat2: Any = None


def _rename_new(temp: str | Path, real: str) -> bool:
    """Rename ``temp`` to ``real`` only if nothing is there (Linux ``RENAME_NOREPLACE``), in one
    system call where looking and renaming take two, and nothing can come in between; False when
    something is there or the system cannot do it (the caller then looks and backs it up)."""
    global _renameat2
    if _renameat2 is None:
        _renameat2 = _load_renameat2()
    if not _renameat2:
        return False
    if _renameat2(_AT_FDCWD, os.fsencode(temp), _AT_FDCWD, os.fsencode(real), _RENAME_NOREPLACE) == 0:
        return True
    import ctypes

    if ctypes.get_errno() in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        _renameat2 = False  # not on this system or file system: look, then rename, from now on
    return False  # something is there, or another failure the usual way reports in its words


_AT_FDCWD = -100
_RENAME_NOREPLACE = 1


def _load_renameat2() -> Any:
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (ImportError, OSError, AttributeError):  # no ctypes, or a C library without it
        return False
    function.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint)
    function.restype = ctypes.c_int
    return function


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
# msgsess.cfbreader (its own module: commands that only read load nothing of the writing side).
