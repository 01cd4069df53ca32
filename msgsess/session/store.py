"""The session store: one SQLite file holding messages as specs and attachment bytes.

Layout (``PRAGMA user_version`` = :data:`FORMAT_VERSION`, ``application_id`` = :data:`APPLICATION_ID`):

``meta(key, value)``
    ``unicode`` (1/0), ``codepage``, ``next_id`` (counter for assigned ids ``m1``, ``m2``…),
    ``session`` (a random token written when the file is made: which session a file is, for
    ``show``, which reads in several transactions; sessions made before it have none),
    ``closed`` (1 once ``close`` has written the outputs and is about to remove the file, or
    ``discard`` is about to remove it; ``replaced`` when ``open --force`` is about to replace
    it), ``closing`` (written by
    ``close`` first, before any output, so that a session it cannot write fails early; it never
    stays in a session closed with ``--keep``).
``messages(seq, id, output, spec)``
    one row per message; ``spec`` is the message spec (JSON text) without ``id`` and ``output``.
``blobs(id, sha256, data)``
    attachment bytes and embedded ``.msg`` files, captured when added, shared by content
    (``sha256`` is unique). A rowid table, so that a blob is written and read in chunks through
    an SQLite blob handle (``zeroblob`` + ``blobopen``) and never has to be held whole:
    :meth:`Store.capture` hashes a file, then copies it in under its hash; :meth:`Store.blob_source`
    gives ``close`` a :class:`~msgsess.storage.StreamSource` that reads it out. Format 1 kept them in a
    ``WITHOUT ROWID`` table, which has no blob handles: such a session is still read (``show``)
    but refused by every command that writes, with the way to rebuild it (:func:`_check_session`).
``embeds(parent, child)``
    which message embeds which (``attach --message``), for cycle checks that do not scan.
``outputs(real, id)``
    the real path (``os.path.realpath``, symlinks resolved) of each message's output when it was
    added, so that one file reached through two paths is found as one output without a scan.
``blob_refs(sha256, id)``
    which message refers to which blob (its attachments' ``blob``/``msg_blob``, its source's
    ``blob``), so that a blob no message needs any more (``rm``, ``add --replace``, ``detach``)
    is deleted without a scan.

A session file is made mode 0600 (it holds every attachment). Only a file that is a session by
content (:func:`not_a_session`: the SQLite header and our ``application_id``) is ever opened,
written, replaced or removed; any other file is refused and left as it is.

Every command is one transaction: writers start with ``BEGIN IMMEDIATE`` so that concurrent
commands queue on the file lock (busy timeout, then :class:`SessionBusy`) instead of
deadlocking on a lock upgrade. ``close`` starts with ``BEGIN EXCLUSIVE``: it waits for readers
before it writes any output, so that nothing can block its ``COMMIT`` once outputs are in place.
Readers (``show``) hold their lock only while they read, never while their caller prints. The
rollback journal (``journal_mode=DELETE``) keeps a session one file between commands, and a
killed command's journal is rolled back by the next opener.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import stat

from msgsess.errors import Collision, InvalidParameter, MsgsessError, NotFound, SessionBusy, SessionError
from msgsess.inputs import absolute_text, path_exists, path_is_dir, path_text
from msgsess.records import Frozen

TYPE_CHECKING = False  # no typing, dataclasses or pathlib at run time: add imports this module
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from pathlib import Path
    from typing import Any, BinaryIO

#: ``PRAGMA application_id`` of a session file: "MSGS".
APPLICATION_ID = 0x4D534753
#: The session format this msgsess writes (``PRAGMA user_version``): 2 since blobs are a rowid table.
FORMAT_VERSION = 2
#: Older formats still read (``show --json``, to rebuild them) but never written.
READ_ONLY_VERSIONS = frozenset({1})
#: ``meta.closed`` of a session ``open --force`` is replacing (else ``1``).
REPLACED = "replaced"
#: Seconds a command waits for another command's lock; overridden by ``MSGSESS_LOCK_TIMEOUT``.
DEFAULT_LOCK_TIMEOUT = 30.0

# ``data`` stays the last column of blobs: SQLite then writes a zeroblob's zeros page by page
# instead of making the whole value in memory first.
_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE messages (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    output TEXT,
    spec TEXT NOT NULL
);
CREATE INDEX messages_output ON messages(output) WHERE output IS NOT NULL;
CREATE TABLE blobs (id INTEGER PRIMARY KEY, sha256 TEXT UNIQUE, data BLOB NOT NULL);
CREATE TABLE embeds (
    parent TEXT NOT NULL,
    child TEXT NOT NULL,
    PRIMARY KEY (parent, child)
) WITHOUT ROWID;
CREATE INDEX embeds_child ON embeds(child);
CREATE TABLE outputs (real TEXT PRIMARY KEY, id TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX outputs_id ON outputs(id);
CREATE TABLE blob_refs (
    sha256 TEXT NOT NULL,
    id TEXT NOT NULL,
    PRIMARY KEY (sha256, id)
) WITHOUT ROWID;
CREATE INDEX blob_refs_id ON blob_refs(id);
"""
#: Bytes copied into or out of a blob at a time.
BLOB_CHUNK = 1 << 20
#: Page size of a session file: a quarter of the pages a 4 KiB one needs for a large attachment,
#: so copying one in or out costs a quarter of the page reads; small sessions grow by a few pages.
PAGE_SIZE = 16384
#: Blobs up to this size are read whole for ``close`` (:meth:`Store.attachment_data`); larger
#: ones are copied into the output in chunks.
INLINE_BLOB = 64 << 10


def lock_timeout() -> float:
    """The lock timeout in seconds: ``MSGSESS_LOCK_TIMEOUT`` or 30."""
    text = os.environ.get("MSGSESS_LOCK_TIMEOUT")
    if not text:
        return DEFAULT_LOCK_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        raise InvalidParameter(
            f"MSGSESS_LOCK_TIMEOUT={text!r} is not a number of seconds", hint="unset it or give e.g. 30"
        ) from None
    if value < 0:
        raise InvalidParameter(f"MSGSESS_LOCK_TIMEOUT={text!r} is negative", hint="give e.g. 30")
    return value


class Row(Frozen):
    """One message of a session as stored."""

    __slots__ = _fields = ("seq", "id", "output", "spec")
    seq: int
    id: str
    output: str | None
    spec: dict[str, Any]

    def __init__(self, seq: int, id: str, output: str | None, spec: dict[str, Any]) -> None:
        object.__setattr__(self, "seq", seq)
        object.__setattr__(self, "id", id)
        object.__setattr__(self, "output", output)
        object.__setattr__(self, "spec", spec)


#: Which file a session is: (st_dev, st_ino) and the ``session`` token of its meta (None if it has none).
Identity = tuple[int, int, "str | None"]


def file_id(path: str | os.PathLike[str]) -> tuple[int, int] | None:
    """(st_dev, st_ino) of the file at ``path`` now, or None when there is none."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


#: The first 16 bytes of every SQLite database file ([SQLite] file format, 1.3).
SQLITE_MAGIC = b"SQLite format 3\x00"
#: Offset of ``application_id`` (4 bytes, big-endian) in the database header.
_APP_ID_OFFSET = 68
#: The first 8 bytes of a compound file (.msg, .oft) [MS-CFB] 2.2.
_CFB_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")


def not_a_session(path: str | os.PathLike[str]) -> str | None:
    """Why the file at ``path`` is not a msgsess session, or None when it is one.

    Checked by content, without letting SQLite touch the file: the SQLite header and our
    ``application_id`` in it (it never changes after a session is made). Commands that replace
    or remove a session file (``open --force``, ``discard``, ``close``) and every command that
    writes one check this first, so that a file msgsess did not make is never changed.
    """
    try:
        with open(path, "rb") as f:
            head = f.read(_APP_ID_OFFSET + 4)
    except FileNotFoundError:
        return "it does not exist" if not os.path.lexists(path) else "it is a symlink to nothing"
    except IsADirectoryError:
        return "it is a folder"
    except OSError as exc:
        return f"it cannot be read: {exc.strerror}"
    except ValueError:
        return "it is not a file name"
    if head.startswith(SQLITE_MAGIC) and len(head) == _APP_ID_OFFSET + 4:
        if int.from_bytes(head[_APP_ID_OFFSET:], "big") == APPLICATION_ID:
            return None
        return "it is an SQLite database of another program"
    if not head:
        return "it is an empty file"
    if head.startswith(_CFB_MAGIC):
        return "it is an Outlook .msg file (or another compound file)"
    return "it is a file of another kind"


def not_a_session_error(path: str | os.PathLike[str], why: str) -> SessionError:
    """The one-line refusal for a file that is not a session: never a hint to ``open`` it,
    which would suggest replacing the user's file; arguments in the wrong order are the usual cause."""
    return SessionError(
        f"{path} is not a msgsess session: {why}; msgsess leaves it as it is",
        hint="the session comes first, as in `msgsess add SESSION OUTPUT.msg`: "
        "check the order of the arguments",
    )


class Settings(Frozen):
    """A session's string mode."""

    __slots__ = _fields = ("unicode", "codepage")
    unicode: bool
    codepage: int

    def __init__(self, unicode: bool, codepage: int) -> None:
        object.__setattr__(self, "unicode", unicode)
        object.__setattr__(self, "codepage", codepage)


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


class Store:
    """An open session file. Use :func:`open_store` / :func:`create_store`; one transaction each."""

    def __init__(self, path: str, conn: sqlite3.Connection) -> None:
        #: The session's path as ``pathlib`` shows it (:func:`msgsess.inputs.path_text`).
        self.path = path
        self.conn = conn
        #: Real paths of outputs, each folder resolved once per transaction (``add`` of many).
        self.real_path = RealPaths()

    def identity(self) -> Identity | None:
        """Which file this transaction reads: (st_dev, st_ino, session token).

        Taken inside the transaction, once its lock is held: a command that replaces the file
        (``open --force``, ``close``) waits for that lock first, so the path still names the
        file that is open. None if the path no longer names a file.
        """
        ids = file_id(self.path)
        if ids is None:
            return None
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'session'").fetchone()
        return ids[0], ids[1], None if row is None else str(row[0])

    # --- reading -------------------------------------------------------------------------

    def settings(self) -> Settings:
        meta = dict(self.conn.execute("SELECT key, value FROM meta WHERE key IN ('unicode', 'codepage')"))
        return Settings(unicode=meta.get("unicode", "1") == "1", codepage=int(meta.get("codepage", "1252")))

    def get(self, msg_id: str) -> Row:
        row = self.conn.execute(
            "SELECT seq, id, output, spec FROM messages WHERE id = ?", (msg_id,)
        ).fetchone()
        if row is None:
            raise NotFound(
                f"no message with id {msg_id!r}", hint=f"list the ids with `msgsess show {self.path}`"
            ).at(str(self.path))
        return Row(row[0], row[1], row[2], json.loads(row[3]))

    def exists(self, msg_id: str) -> bool:
        return self.conn.execute("SELECT 1 FROM messages WHERE id = ?", (msg_id,)).fetchone() is not None

    def rows(self, since: int = 0, batch_size: int = 256) -> Iterator[Row]:
        """Every message after ``since`` in the order added, read in batches (memory bounded)."""
        last = since
        while True:
            batch = self.conn.execute(
                "SELECT seq, id, output, spec FROM messages WHERE seq > ? ORDER BY seq LIMIT ?",
                (last, batch_size),
            ).fetchall()
            if not batch:
                return
            for seq, msg_id, output, spec in batch:
                yield Row(seq, msg_id, output, json.loads(spec))
            last = batch[-1][0]

    def rows_to_write(self, first: int, last: int) -> Iterator[Row]:
        """The messages with an output whose ``seq`` is from ``first`` to ``last``, in order."""
        query = (
            "SELECT seq, id, output, spec FROM messages "
            "WHERE seq BETWEEN ? AND ? AND output IS NOT NULL ORDER BY seq"
        )
        for seq, msg_id, output, spec in self.conn.execute(query, (first, last)):
            yield Row(seq, msg_id, output, json.loads(spec))

    def ids(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT id FROM messages ORDER BY seq")]

    def count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM messages").fetchone()[0])

    def blob(self, sha256: str) -> bytes:
        """A blob's bytes, whole: for what is decoded in memory anyway (an embedded or edited
        ``.msg``, ``show --json``); ``close`` copies attachments through :meth:`blob_source`."""
        row = self.conn.execute("SELECT data FROM blobs WHERE sha256 = ?", (sha256,)).fetchone()
        if row is None:
            raise self._missing(sha256)
        return bytes(row[0])

    def blob_size(self, sha256: str) -> int:
        """The size of a blob in bytes, without reading it (``length()`` of a BLOB reads no content)."""
        row = self.conn.execute("SELECT length(data) FROM blobs WHERE sha256 = ?", (sha256,)).fetchone()
        if row is None:
            raise self._missing(sha256)
        return int(row[0])

    def blob_source(self, sha256: str) -> BlobSource:
        """A blob as a :class:`~msgsess.storage.StreamSource`, read in chunks when it is copied.

        It reads through this store's connection: only while this transaction is open.
        """
        row = self.conn.execute("SELECT id, length(data) FROM blobs WHERE sha256 = ?", (sha256,)).fetchone()
        if row is None:
            raise self._missing(sha256)
        return BlobSource(self.conn, int(row[0]), int(row[1]))

    def attachment_data(self, sha256: str) -> bytes | BlobSource:
        """A blob for ``close`` to write: its bytes when small (as cheap as a source, and the
        compound file's mini stream holds them anyway), else a :meth:`blob_source`."""
        query = (
            "SELECT id, length(data), CASE WHEN length(data) <= ? THEN data END FROM blobs WHERE sha256 = ?"
        )
        row = self.conn.execute(query, (INLINE_BLOB, sha256)).fetchone()
        if row is None:
            raise self._missing(sha256)
        rowid, size, data = row
        return bytes(data) if data is not None else BlobSource(self.conn, int(rowid), int(size))

    def _missing(self, sha256: str) -> SessionError:
        return SessionError(
            f"attachment data {sha256[:12]}… is missing from the session",
            hint="the session file is damaged; rebuild it from `msgsess show --json`",
        ).at(str(self.path))

    def children(self, msg_id: str) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT child FROM embeds WHERE parent = ?", (msg_id,))]

    def has_parent(self, msg_id: str) -> bool:
        return self.conn.execute("SELECT 1 FROM embeds WHERE child = ?", (msg_id,)).fetchone() is not None

    def parents(self, msg_id: str) -> list[str]:
        """The messages that embed ``msg_id`` (``attach --message``), in id order."""
        query = "SELECT parent FROM embeds WHERE child = ? ORDER BY parent"
        return [r[0] for r in self.conn.execute(query, (msg_id,))]

    def output_owner(self, output: str) -> tuple[str, str] | None:
        """(id, output) of the message whose output is ``output`` or the same file by another path.

        Compares the path as given and its real path (symlinks resolved) with the real paths
        recorded when outputs were added; ``close`` compares them again as they are then.
        """
        row = self.conn.execute("SELECT id, output FROM messages WHERE output = ?", (output,)).fetchone()
        if row is not None:
            return str(row[0]), str(row[1])
        real = self.real_path(output)[0]
        while True:
            row = self.conn.execute(
                "SELECT m.id, m.output FROM outputs o JOIN messages m ON m.id = o.id WHERE o.real = ?",
                (real,),
            ).fetchone()
            if row is None:
                return None
            other_id, other_output = str(row[0]), str(row[1])
            # The row is the real path when that output was added: a symlink on its way may
            # have changed since. Only the file it names now counts; the row is brought up to date.
            now = self.real_path(other_output)[0]
            if now == real:
                return other_id, other_output
            self.conn.execute("DELETE FROM outputs WHERE real = ? AND id = ?", (real, other_id))
            self.conn.execute("INSERT OR IGNORE INTO outputs (real, id) VALUES (?, ?)", (now, other_id))

    def _refer(self, msg_id: str, spec: dict[str, Any] | None, *, new: bool = False) -> None:
        """Record the blobs message ``msg_id`` refers to now (None: it is gone), and delete the
        blobs it no longer refers to that no other message does. A ``new`` message (just
        inserted under an id no message had) referred to none before."""
        now = set() if spec is None else blob_refs(spec)
        if new and not now:
            return
        query = "SELECT sha256 FROM blob_refs WHERE id = ?"
        before = set() if new else {r[0] for r in self.conn.execute(query, (msg_id,))}
        self.conn.executemany(
            "INSERT OR IGNORE INTO blob_refs (sha256, id) VALUES (?, ?)",
            [(sha, msg_id) for sha in now - before],
        )
        for sha in before - now:
            self.conn.execute("DELETE FROM blob_refs WHERE sha256 = ? AND id = ?", (sha, msg_id))
            if self.conn.execute("SELECT 1 FROM blob_refs WHERE sha256 = ?", (sha,)).fetchone() is None:
                self.conn.execute("DELETE FROM blobs WHERE sha256 = ?", (sha,))

    # --- writing -------------------------------------------------------------------------

    def new_id(self) -> str:
        """The next free assigned id (``m1``, ``m2``…), from the counter in meta."""
        (value,) = self.conn.execute("SELECT value FROM meta WHERE key = 'next_id'").fetchone()
        counter = int(value)
        while True:
            candidate = f"m{counter}"
            counter += 1
            if not self.exists(candidate):
                break
        self.conn.execute("UPDATE meta SET value = ? WHERE key = 'next_id'", (str(counter),))
        return candidate

    def insert(self, msg_id: str, output: str | None, spec: dict[str, Any]) -> int:
        try:
            cur = self.conn.execute(
                "INSERT INTO messages (id, output, spec) VALUES (?, ?, ?)", (msg_id, output, _dump(spec))
            )
        except sqlite3.IntegrityError:
            raise Collision(
                f"a message with id {msg_id!r} already exists",
                hint=f"`msgsess add --replace` replaces it, `msgsess rm {self.path} {msg_id}` removes it; "
                "or choose another --id",
            ).at(str(self.path)) from None
        assert cur.lastrowid is not None
        if output is not None:
            self.conn.execute(
                "INSERT OR IGNORE INTO outputs (real, id) VALUES (?, ?)", (self.real_path(output)[0], msg_id)
            )
        self._refer(msg_id, spec, new=True)
        return cur.lastrowid

    def replace(self, msg_id: str, output: str | None, spec: dict[str, Any]) -> None:
        """Give message ``msg_id`` a new spec and output whole (``add --replace``): same id and
        place; what it embeds is forgotten (the caller records the new spec's), what embeds it stays."""
        self.conn.execute(
            "UPDATE messages SET output = ?, spec = ? WHERE id = ?", (output, _dump(spec), msg_id)
        )
        self._output_row(msg_id, output)
        self.conn.execute("DELETE FROM embeds WHERE parent = ?", (msg_id,))
        self._refer(msg_id, spec)

    def set_output(self, msg_id: str, output: str | None) -> None:
        """Change where message ``msg_id`` is written (None: only embedded)."""
        self.conn.execute("UPDATE messages SET output = ? WHERE id = ?", (output, msg_id))
        self._output_row(msg_id, output)

    def remove(self, msg_id: str) -> None:
        """Delete message ``msg_id`` with its output row and every embedding it takes part in."""
        self.conn.execute("DELETE FROM messages WHERE id = ?", (msg_id,))
        self._output_row(msg_id, None)
        self.conn.execute("DELETE FROM embeds WHERE parent = ?", (msg_id,))
        self.conn.execute("DELETE FROM embeds WHERE child = ?", (msg_id,))
        self._refer(msg_id, None)

    def _output_row(self, msg_id: str, output: str | None) -> None:
        self.conn.execute("DELETE FROM outputs WHERE id = ?", (msg_id,))
        if output is not None:
            self.conn.execute(
                "INSERT OR IGNORE INTO outputs (real, id) VALUES (?, ?)", (self.real_path(output)[0], msg_id)
            )

    def update_spec(self, msg_id: str, spec: dict[str, Any]) -> None:
        self.conn.execute("UPDATE messages SET spec = ? WHERE id = ?", (_dump(spec), msg_id))
        self._refer(msg_id, spec)

    def put_blob(self, sha256: str, data: bytes) -> None:
        """Store bytes already in memory (base64 data of a spec, a decoded ``.msg``) under their hash."""
        self.conn.execute("INSERT OR IGNORE INTO blobs (sha256, data) VALUES (?, ?)", (sha256, data))

    def capture(self, chunks: Callable[[], Iterable[bytes | memoryview]], size: int) -> str | None:
        """Copy ``size`` bytes into a blob chunk by chunk; their SHA-256.

        ``chunks()`` is read twice: once to hash the bytes (bytes the session has already are
        not written again), then to copy them into a row made with ``zeroblob(size)`` under
        their hash, through a blob handle, hashed again on the way. So neither this process
        nor SQLite holds the whole value: a row is never updated once it holds the bytes
        (SQLite rewrites a whole row to update one column of it). Returns None, keeping
        nothing, when the two reads differ or do not hold exactly ``size`` bytes (a file that
        changed while it was read): the caller names the file.
        """
        import hashlib

        def copy(write: Callable[[bytes | memoryview], object]) -> str | None:
            digest = hashlib.sha256()
            done = 0
            for chunk in chunks():
                done += len(chunk)
                if done > size:
                    return None
                write(chunk)
                digest.update(chunk)
            return digest.hexdigest() if done == size else None

        sha = copy(lambda _chunk: None)
        if sha is None or self._has_blob(sha):
            return sha
        row = self.conn.execute("INSERT INTO blobs (sha256, data) VALUES (?, zeroblob(?))", (sha, size))
        rowid = row.lastrowid
        assert rowid is not None
        with self.conn.blobopen("blobs", "data", rowid) as blob:
            again = copy(blob.write)
        if again != sha:
            self.conn.execute("DELETE FROM blobs WHERE id = ?", (rowid,))
            return None
        return sha

    def capture_file(self, f: BinaryIO, size: int, chunk_size: int = BLOB_CHUNK) -> str | None:
        """:meth:`capture` of an open file (seekable) that should hold ``size`` bytes from where it is."""
        start = f.tell()

        def chunks() -> Iterator[bytes]:
            f.seek(start)
            left = size + 1  # one byte more than promised tells a file that grew
            while left > 0 and (chunk := f.read(min(chunk_size, left))):
                left -= len(chunk)
                yield chunk

        return self.capture(chunks, size)

    def _has_blob(self, sha256: str) -> bool:
        return self.conn.execute("SELECT 1 FROM blobs WHERE sha256 = ?", (sha256,)).fetchone() is not None

    def add_embed(self, parent: str, child: str) -> None:
        self.conn.execute("INSERT OR IGNORE INTO embeds (parent, child) VALUES (?, ?)", (parent, child))

    def remove_embed(self, parent: str, child: str) -> None:
        self.conn.execute("DELETE FROM embeds WHERE parent = ? AND child = ?", (parent, child))

    def mark_closed(self) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('closed', '1')")

    def mark_closing(self) -> None:
        """The first write of ``close``, before any output exists: a session that cannot be
        written (its folder read-only, so no rollback journal) fails here, not at the COMMIT
        after the outputs are in place. Rolled back with the transaction; see :meth:`unmark_closing`.
        """
        self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('closing', '1')")

    def unmark_closing(self) -> None:
        self.conn.execute("DELETE FROM meta WHERE key = 'closing'")


class BlobSource(Frozen):
    """A blob of the session as a :class:`~msgsess.storage.StreamSource` (``size`` and ``chunks``):
    read through a read-only blob handle of the connection that found it, so only while that
    connection's transaction is open (``close`` writes every file inside its transaction)."""

    __slots__ = _fields = ("conn", "rowid", "size")
    conn: sqlite3.Connection
    rowid: int
    size: int

    def __init__(self, conn: sqlite3.Connection, rowid: int, size: int) -> None:
        object.__setattr__(self, "conn", conn)
        object.__setattr__(self, "rowid", rowid)
        object.__setattr__(self, "size", size)

    def chunks(self, chunk_size: int) -> Iterator[bytes]:
        with self.conn.blobopen("blobs", "data", self.rowid, readonly=True) as blob:
            while chunk := blob.read(chunk_size):
                yield chunk


#: Folders whose real path :class:`RealPaths` keeps at a time.
_MOST_FOLDERS = 4096


class RealPaths:
    """``os.path.realpath`` of many outputs: each folder resolved once, each output looked at
    (``add`` and ``close`` of many messages; what a folder resolves to is taken once per command)."""

    def __init__(self) -> None:
        #: Each output folder as given -> its real path, and whether it was a folder then.
        self.folders: dict[str, tuple[str, bool]] = {}

    def __call__(self, output: str) -> tuple[str, bool]:
        """(real path, whether it is a folder)."""
        head, name = os.path.split(output)
        known = self.folders.get(head)
        if known is None:
            if len(self.folders) >= _MOST_FOLDERS:
                self.folders.clear()  # outputs in ever new folders: memory stays flat
            real = os.path.realpath(head or os.curdir)
            known = self.folders[head] = (real, os.path.isdir(real))
        folder, folder_exists = known
        here = os.path.join(folder, name)
        if name in ("", os.curdir, os.pardir):
            return self.slow(output)
        if not folder_exists:  # nothing is in a folder that is not there (a first close's outputs)
            return here, False
        try:
            st = os.lstat(here)
        except FileNotFoundError:
            return here, False
        except OSError:
            return self.slow(output)
        if stat.S_ISLNK(st.st_mode):
            return self.slow(output)
        return here, stat.S_ISDIR(st.st_mode)

    @staticmethod
    def slow(output: str) -> tuple[str, bool]:
        return os.path.realpath(output), os.path.isdir(output)


def blob_refs(spec: dict[str, Any]) -> set[str]:
    """The blobs a stored spec refers to: its attachments' bytes and embedded ``.msg`` files,
    an edited message's source file, the MIME message a message starts from and a contact's
    picture."""
    found = {
        str(att[key])
        for att in spec.get("attachments") or ()
        for key in ("blob", "msg_blob")
        if isinstance(att, dict) and att.get(key)
    }
    for key in ("source", "eml", "photo"):
        held = spec.get(key)
        if isinstance(held, dict) and held.get("blob"):
            found.add(str(held["blob"]))
    return found


def _dump(spec: dict[str, Any]) -> str:
    return json.dumps(spec, ensure_ascii=False, separators=(",", ":"))


def _uri(path: str | os.PathLike[str], query: str) -> str:
    # A URI so that a missing file is an error, not a new empty database ([SQLite] URI filenames).
    # Its authority is always empty ("file://" + an absolute path): a path starting with "//" is a
    # path there, never a host.
    text = absolute_text(path_text(path)).replace("%", "%25").replace("?", "%3f").replace("#", "%23")
    return "file://" + text + "?" + query


def _connect(path: str | os.PathLike[str], timeout: float) -> sqlite3.Connection:
    return sqlite3.connect(_uri(path, "mode=rw"), uri=True, timeout=timeout, isolation_level=None)


def snapshot(path: str | os.PathLike[str]) -> Store:
    """A read-only view of a session whose exclusive lock another process holds: ``close``'s, in
    its ``--jobs`` workers, which it forks once it holds that lock.

    The view takes no lock (SQLite's ``immutable``): right only because the lock keeps every
    writer out and its holder changes nothing the view reads (``close`` writes one row of
    ``meta`` and temporary tables, which live in another file). Its one transaction lasts as long
    as the process; nothing is checked again (``close`` checked the session before forking).
    """
    p = path_text(path)
    conn = sqlite3.connect(_uri(p, "mode=ro&immutable=1"), uri=True, isolation_level=None)
    conn.execute("BEGIN")
    return Store(p, conn)


def _check_session(
    path: str,
    conn: sqlite3.Connection,
    allow_closed: bool = False,
    before: tuple[int, int] | None = None,
    write: bool = True,
) -> None:
    try:
        (app_id,) = conn.execute("PRAGMA application_id").fetchone()
        (version,) = conn.execute("PRAGMA user_version").fetchone()
    except sqlite3.DatabaseError:
        app_id, version = None, None
    if app_id != APPLICATION_ID:
        raise not_a_session_error(path, "it is not a database msgsess made")
    if version > FORMAT_VERSION:
        raise SessionError(
            f"{path} was made by a newer msgsess (session format {version})", hint="upgrade msgsess"
        )
    if version != FORMAT_VERSION and (write or version not in READ_ONLY_VERSIONS):
        raise older_session_error(path, version)
    closed = conn.execute("SELECT value FROM meta WHERE key = 'closed'").fetchone()
    if closed is not None and not allow_closed:
        now = file_id(path)
        if closed[0] == REPLACED or (before is not None and now is not None and now != before):
            # The file this command opened was retired and another put at its path meanwhile.
            raise SessionError(
                f"session {path} was replaced by open --force while this command waited for it",
                hint="run the command again: it goes to the new session",
            )
        if now is None:
            raise SessionError("the session has been closed", hint="open a new session").at(str(path))
        raise SessionError(
            "the session has been closed",
            hint=f"open a new session (`msgsess open {path}` replaces a closed one, "
            f"`msgsess discard {path}` removes it)",
        ).at(str(path))


def older_session_error(path: str | os.PathLike[str], version: int) -> SessionError:
    """The refusal of a session in an older format: one line, and how to rebuild it."""
    if version in READ_ONLY_VERSIONS:
        how = (
            f"rebuild it: `msgsess show --json {path} > saved.jsonl` still reads it, then "
            "`msgsess open NEW` and `msgsess add NEW --json saved.jsonl`"
        )
    else:
        how = "rebuild it with the msgsess that made it: `show --json`, then `add --json` into a new session"
    return SessionError(
        f"{path} is a session of an older msgsess (format {version}); "
        f"this one writes format {FORMAT_VERSION}",
        hint=how,
    )


@contextlib.contextmanager
def transaction(
    path: str | os.PathLike[str], *, write: bool, exclusive: bool = False, allow_closed: bool = False
) -> Iterator[Store]:
    """Open the session at ``path`` and run one transaction; commit on success, roll back on error.

    A writer takes the write lock at once (``BEGIN IMMEDIATE``). With ``exclusive`` it also waits
    for every reader to finish and keeps them out (``BEGIN EXCLUSIVE``): its ``COMMIT`` then cannot
    wait for anyone, which ``close`` needs once its outputs are in place. Waiting for another
    command's lock ends after :func:`lock_timeout` seconds with :class:`SessionBusy`. A session
    marked closed is refused unless ``allow_closed`` (``discard``); so is a session of an older
    format, unless the transaction only reads or ``allow_closed``.
    """
    p = path_text(path)  # as pathlib shows it, in every message
    if not path_exists(p):
        raise SessionError(
            f"session {p} does not exist", hint=f"create it with `msgsess open {p}`, or check the path"
        )
    if path_is_dir(p):
        raise SessionError(f"{p} is a folder, not a session file", hint="give the session file's path")
    why = not_a_session(p)  # by content, before SQLite opens (and might write to) the file
    if why is not None:
        raise not_a_session_error(p, why)
    timeout = lock_timeout()
    before = file_id(p)  # to tell a session replaced while this command waited from a closed one
    try:
        conn = _connect(p, timeout)
    except sqlite3.Error as exc:
        raise SessionError(
            f"cannot open session {p}: {exc}", hint="check the path and its permissions"
        ) from None
    try:
        try:
            conn.execute("BEGIN EXCLUSIVE" if exclusive else "BEGIN IMMEDIATE" if write else "BEGIN")
            # A session of an older format is read, or discarded; anything else rebuilds it.
            _check_session(p, conn, allow_closed, before, write and not allow_closed)
        except sqlite3.OperationalError as exc:
            if _is_busy(exc):
                raise _busy(p, timeout) from None
            raise SessionError(f"cannot read session {p}: {exc}", hint="is it a msgsess session?") from None
        except sqlite3.DatabaseError:
            raise not_a_session_error(p, "it is not a database msgsess can read") from None
        store = Store(p, conn)
        try:
            yield store
            conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            _rollback(conn)
            if _is_busy(exc):
                raise _busy(p, timeout) from None
            raise _write_error(p, exc) from None
        except BaseException:
            _rollback(conn)
            raise
    finally:
        conn.close()


def _rollback(conn: sqlite3.Connection) -> None:
    with contextlib.suppress(sqlite3.Error):
        if conn.in_transaction:
            conn.execute("ROLLBACK")


def _write_error(path: str, exc: sqlite3.OperationalError) -> MsgsessError:
    """A failed write to a session, saying why when it is a permission."""
    from pathlib import Path

    text = str(exc)
    if "readonly" in text.lower() or "unable to open" in text.lower():
        folder = Path(path).absolute().parent
        if not os.access(folder, os.W_OK):
            return SessionError(
                f"session {path}: its folder {folder} is not writable (a command writes its "
                "rollback journal beside the session)",
                hint="make the folder writable, or move the session to a writable folder",
            )
        if not os.access(path, os.W_OK):
            return SessionError(f"session {path} is read-only", hint="make the session file writable")
    return SessionError(f"session {path}: {text}", hint="check free space and permissions")


def _busy(path: str | os.PathLike[str], timeout: float) -> MsgsessError:
    return SessionBusy(
        f"session {path} is locked by another command (waited {timeout:g} s)",
        hint="retry, or raise MSGSESS_LOCK_TIMEOUT",
    )


def create_store(path: str | os.PathLike[str], *, unicode: bool, codepage: int, force: bool) -> Path:
    """Create an empty session file at ``path`` atomically, readable by its owner only (0600:
    a session holds every attachment).

    An existing file is replaced only if it is a msgsess session (checked by content), and then
    only with ``force`` or when it is left marked closed; any other file is refused, unchanged.
    """
    from pathlib import Path

    p = Path(path)
    if p.is_dir():
        raise SessionError(f"{p} is a folder", hint="give a file name for the session")
    exists = os.path.lexists(p)
    if exists:
        why = not_a_session(p)
        if why is not None:
            option = "--force" if force else "open"
            raise SessionError(
                f"{p} exists and is not a msgsess session: {why}; {option} replaces only a session",
                hint="choose another name for the session, or check the order of the arguments",
            )
    closed = None if force or not exists else _closed_session(p)
    if exists and not force and closed is None:
        raise SessionError(
            f"session {p} already exists",
            hint=f"use `msgsess open --force {p}` to replace it, or `msgsess discard {p}`",
        )
    parent = p.absolute().parent
    if not parent.is_dir():
        raise SessionError(
            f"cannot create session {p}: folder {parent} does not exist", hint="create it first"
        )
    try:
        tmp = _new_temporary(parent, p.name)
    except OSError as exc:
        raise SessionError(f"cannot create session {p}: {exc.strerror}", hint="check permissions") from None
    try:
        _initialise(p, tmp, unicode, codepage)
        if force and exists:
            _retire(p)  # waits for the commands using the old session
            # A journal left by a command killed on the old session would be played back into
            # the new file by its next opener: remove it before the replacement (not after: by
            # then it can only be the live journal of a command on the new session).
            _remove_journal(p)
            os.replace(tmp, p)
        else:
            if closed is not None:  # a session marked closed (a killed close): it is replaced
                remove_store(p, closed)
            try:
                os.link(tmp, p)  # never over a file that appeared meanwhile
            except FileExistsError:
                raise SessionError(
                    f"session {p} already exists", hint=f"use `msgsess open --force {p}` to replace it"
                ) from None
    except OSError as exc:
        raise SessionError(f"cannot create session {p}: {exc.strerror}", hint="check permissions") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return p


def _new_temporary(folder: Path, name: str) -> Path:
    """A new empty file ``.NAME.RANDOM.tmp`` in ``folder``, mode 0600, never one that was there
    (what ``tempfile.mkstemp`` does, without importing tempfile and random on ``open``)."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
    for _ in range(100):
        tmp = folder / f".{name}.{os.urandom(6).hex()}.tmp"
        try:
            os.close(os.open(tmp, flags, 0o600))
        except FileExistsError:
            continue
        return tmp
    raise FileExistsError(17, "no unused temporary name", str(folder))


def _initialise(path: Path, tmp: Path, unicode: bool, codepage: int) -> None:
    """Write the schema and settings of a new session into the empty file ``tmp``.

    Any SQLite failure (a full disk above all) is one line naming the session, exit 5.
    """
    try:
        conn = sqlite3.connect(tmp, isolation_level=None)
        try:
            conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")  # before anything makes the file
            # Nobody opens the temporary before it is linked into place, and it is synced once
            # before that (below): no sync for each of its writes (each was a wait for the disk).
            conn.execute("PRAGMA synchronous = OFF")
            conn.execute("PRAGMA journal_mode = DELETE")
            conn.executescript(
                f"BEGIN; PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {FORMAT_VERSION}; "
                + _SCHEMA
            )
            conn.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?)",
                [
                    ("unicode", "1" if unicode else "0"),
                    ("codepage", str(codepage)),
                    ("next_id", "1"),
                    ("session", os.urandom(16).hex()),
                ],
            )
            conn.execute("COMMIT")
        finally:
            conn.close()
        fd = os.open(tmp, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        try:
            os.fsync(fd)  # the whole session on disk before its name is
        finally:
            os.close(fd)
    except sqlite3.Error as exc:
        raise SessionError(
            f"cannot create session {path}: {exc}", hint="check free space and permissions of its folder"
        ) from None


def _closed_session(path: Path) -> tuple[int, int] | None:
    """(st_dev, st_ino) of the session at ``path`` if it is one marked closed (``close`` or
    ``discard`` killed between their COMMIT and the removal of the file), else None."""
    ids = file_id(path)
    if ids is None or path.is_dir():
        return None
    try:
        conn = _connect(path, lock_timeout())
    except sqlite3.Error:
        return None
    try:
        conn.execute("BEGIN")
        (app_id,) = conn.execute("PRAGMA application_id").fetchone()
        if app_id != APPLICATION_ID:
            return None
        closed = conn.execute("SELECT 1 FROM meta WHERE key = 'closed'").fetchone()
        return ids if closed is not None and file_id(path) == ids else None
    except sqlite3.Error:
        return None
    finally:
        _rollback(conn)
        conn.close()


def _retire(path: Path) -> None:
    """Before ``open --force`` replaces the session at ``path``: take its exclusive lock, waiting
    (up to :func:`lock_timeout`, then :class:`SessionBusy`) for the commands using it, as
    ``discard`` does, and mark it closed, so that a command still waiting for the old file fails
    ("closed") instead of writing into a file that is no longer there.

    The caller checked that the file is a session; it is checked again under the lock, so that a
    file put there meanwhile is refused instead of replaced. A session that cannot be marked (a
    read-only file) is replaced without the mark.
    """
    timeout = lock_timeout()
    try:
        conn = _connect(path, timeout)
    except sqlite3.Error as exc:
        raise SessionError(f"cannot open session {path}: {exc}", hint="check its permissions") from None
    try:
        conn.execute("BEGIN EXCLUSIVE")
        (app_id,) = conn.execute("PRAGMA application_id").fetchone()
        if app_id != APPLICATION_ID:
            raise not_a_session_error(path, "it is not a database msgsess made")
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('closed', ?)", (REPLACED,))
        conn.execute("COMMIT")
    except sqlite3.OperationalError as exc:
        _rollback(conn)
        if _is_busy(exc):
            raise _busy(path, timeout) from None
        # Read-only, or no meta table: nothing more to do than replace it.
    except sqlite3.DatabaseError:
        _rollback(conn)
        raise not_a_session_error(path, "it is not a database msgsess can read") from None
    except BaseException:
        _rollback(conn)
        raise
    finally:
        conn.close()


def _remove_journal(path: Path) -> None:
    """Delete the rollback journal a killed command may have left beside a session file."""
    with contextlib.suppress(FileNotFoundError):
        path.with_name(path.name + "-journal").unlink()


def remove_store(path: str | os.PathLike[str], expected: tuple[int, int] | None = None) -> bool:
    """Delete a session file (and a journal a killed command may have left beside it).

    With ``expected`` ((st_dev, st_ino) of the file the command had open), nothing is deleted
    when the path now names another file: a session that ``open --force`` put there meanwhile.
    Returns whether the file was deleted.
    """
    from pathlib import Path

    p = Path(path)
    if expected is not None and file_id(p) != expected:
        return False
    _remove_journal(p)
    try:
        p.unlink()
    except FileNotFoundError:
        return False
    return True
