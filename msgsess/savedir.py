"""Write files into one folder: each by its bare name inside it, atomically, all or none.

The adapter under ``msgsess extract``. Names are single path components (the caller made them
safe; anything else is refused here again), resolved against the folder's open descriptor
where the platform allows it, so that no name and no symlink at a name leads outside. A file
that exists is replaced only with ``force`` (a symlink there is replaced as a link, its target
untouched); otherwise the command stops before writing anything, naming the file.

Every file goes to a temporary name in the folder first; only when all are written are they
moved into place — by a hard link, which never replaces a file that appeared meanwhile, or by
a rename with ``force``. A failure on the way removes what this call wrote and puts back what
it replaced.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import stat
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from msgsess.errors import Collision, InvalidParameter, WriteFailed
from msgsess.storage import Storage

__all__ = ["Written", "save"]


@dataclass(frozen=True)
class Written:
    name: str
    path: Path
    size: int
    sha256: str


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


class _Folder:
    """Operations on names inside one folder, through its descriptor when the OS has ``*at`` calls."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None
        if os.open in os.supports_dir_fd and os.link in os.supports_dir_fd:
            flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
            self.fd = os.open(path, flags)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)

    def _at(self, name: str) -> str:
        return name if self.fd is not None else os.path.join(self.path, name)

    def lstat(self, name: str) -> os.stat_result | None:
        try:
            return os.stat(self._at(name), dir_fd=self.fd, follow_symlinks=False)
        except FileNotFoundError:
            return None

    def create(self, name: str) -> int:
        flags = (
            os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
        )
        return os.open(self._at(name), flags, 0o666, dir_fd=self.fd)

    def link(self, src: str, dst: str) -> None:
        os.link(self._at(src), self._at(dst), src_dir_fd=self.fd, dst_dir_fd=self.fd, follow_symlinks=False)

    def replace(self, src: str, dst: str) -> None:
        os.replace(self._at(src), self._at(dst), src_dir_fd=self.fd, dst_dir_fd=self.fd)

    def unlink(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._at(name), dir_fd=self.fd)

    def fsync(self) -> None:
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.fsync(self.fd)


@contextmanager
def _folder(path: Path) -> Iterator[_Folder]:
    try:
        path.mkdir(parents=True, exist_ok=True)
        folder = _Folder(path)
    except FileExistsError:
        raise WriteFailed(
            f"cannot write into {path}: it is not a folder", hint="give a folder with -d"
        ) from None
    except OSError as exc:
        raise WriteFailed(f"cannot write into {path}: {_reason(exc)}", hint="check the folder") from None
    try:
        yield folder
    finally:
        folder.close()


def _check_name(name: str) -> None:
    if not name or name in (".", "..") or "/" in name or "\0" in name or (os.sep != "/" and os.sep in name):
        raise InvalidParameter(f"{name!r} is no plain file name", hint="give a name without a folder")


def _temp_name() -> str:
    return f".msgsess-{secrets.token_hex(6)}.tmp"


def _bytes(data: bytes | Storage) -> bytes:
    if isinstance(data, Storage):
        from msgsess import cfb

        return cfb.to_bytes(data)
    return data


def _existing(folder: _Folder, name: str, force: bool) -> bool:
    """Whether ``name`` exists (and may be replaced); refuse what may not be."""
    info = folder.lstat(name)
    if info is None:
        return False
    shown = folder.path / name
    if not force:
        raise Collision(f"{shown} already exists", hint="remove it, choose another folder, or add --force")
    if stat.S_ISDIR(info.st_mode):
        raise WriteFailed(f"cannot replace {shown}: it is a folder", hint="remove or rename it")
    return True


def save(
    directory: Path, files: Sequence[tuple[str, bytes | Storage]], *, force: bool = False
) -> list[Written]:
    """Write each ``(name, bytes or storage tree)`` as ``directory/name``; all of them or none.

    The folder is created when missing. Raises :class:`Collision` naming the first file that
    exists (unless ``force``), :class:`WriteFailed` when the folder cannot be written.
    """
    for name, _data in files:
        _check_name(name)
    written: list[Written] = []
    with _folder(directory) as folder:
        replaced = [_existing(folder, name, force) for name, _data in files]
        temps: list[str] = []
        placed: list[tuple[str, str | None, bool]] = []  # (name, backup of what it replaced, new)
        try:
            for name, data in files:
                content = _bytes(data)
                temp = _temp_name()
                fd = folder.create(temp)
                temps.append(temp)
                with os.fdopen(fd, "wb") as out:
                    out.write(content)
                digest = hashlib.sha256(content).hexdigest()
                written.append(Written(name, directory / name, len(content), digest))
            for (name, _data), temp, existed in zip(files, temps, replaced, strict=True):
                placed.append(_place(folder, temp, name, existed))
        except BaseException as exc:
            _undo(folder, temps, placed)
            if isinstance(exc, OSError):
                raise WriteFailed(
                    f"cannot write into {directory}: {_reason(exc)}", hint="check free space and permissions"
                ) from exc
            raise
        for temp in temps:
            folder.unlink(temp)
        for _name, backup, _new in placed:
            if backup is not None:
                folder.unlink(backup)
        folder.fsync()
    return written


def _place(folder: _Folder, temp: str, name: str, existed: bool) -> tuple[str, str | None, bool]:
    """Move one written file into place; return what undoes it: its name, a backup of the file it
    replaced (None when there was none or it could not be kept), and whether the name is new."""
    if not existed:
        try:
            folder.link(temp, name)  # fails if a file appeared there meanwhile: never replaced
        except FileExistsError:
            raise Collision(
                f"{folder.path / name} already exists",
                hint="remove it, choose another folder, or add --force",
            ) from None
        except OSError:
            # No hard links on this file system: check, then rename.
            if folder.lstat(name) is not None:
                raise Collision(f"{folder.path / name} already exists", hint="add --force") from None
            folder.replace(temp, name)
        return name, None, True
    backup = _temp_name()
    try:
        folder.link(name, backup)
    except OSError:
        # The old file cannot be kept aside; replacing it is what --force asked for.
        folder.replace(temp, name)
        return name, None, False
    folder.replace(temp, name)
    return name, backup, False


def _undo(folder: _Folder, temps: list[str], placed: list[tuple[str, str | None, bool]]) -> None:
    for name, backup, new in reversed(placed):
        with contextlib.suppress(OSError):
            if backup is not None:
                folder.replace(backup, name)
            elif new:
                folder.unlink(name)
    for temp in temps:
        with contextlib.suppress(OSError):
            folder.unlink(temp)
