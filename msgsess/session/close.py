"""``close``: write every message of a session to its output, all or nothing.

Step by step (``../shared/docs/DESIGN.md``):

1. Under the session's exclusive lock (taken before anything is written, once readers are done),
   check every message: an output or a parent that embeds it,
   no embedding cycle, an output path that is not a folder, text the chosen code page can hold.
   Every problem is collected; if there is one, nothing is written.
2. One message at a time (memory bounded by the largest message): compose the model (embedded
   session messages recursively), encode it, write it to a temporary file beside its output
   (creating missing folders).
3. When all are written, move each temporary file into place; then remove the session unless
   ``keep``. On any failure the temporary files and the folders made for them are removed, and
   the session and every existing output are left as they were.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import os
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from msgsess.errors import Collision, InvalidParameter, MsgsessError, SessionError, Unconvertible, located
from msgsess.oxmsg.codepages import check_codepage
from msgsess.props.types import FileTime
from msgsess.session import workers
from msgsess.session.edit import base_message, conversion_note, string_mode
from msgsess.session.inputs import read_msg
from msgsess.session.store import RealPaths, Row, Store, remove_store, transaction
from msgsess.session.usecases import cid_warnings, is_template

if TYPE_CHECKING:
    from msgsess.model import Message

#: Problems listed in one error before "and N more".
MAX_LISTED = 5
#: Spec keys whose strings never become text properties of the file.
_NOT_TEXT = frozenset({"blob", "msg_blob", "message", "id", "output", "source", "eml"})
#: The last second ``SOURCE_DATE_EPOCH`` may name: 9999-12-31T23:59:59Z, the end of the dates
#: msgsess reads and writes (FILETIME itself goes further, but no date in a .msg needs to).
MAX_EPOCH = 253_402_300_799
#: (Unicode?, code page) a message is written in.
_Mode = Callable[[Row], tuple[bool, int]]


@dataclass
class CloseResult:
    #: The outputs written, in the order of the session (empty with ``list_written=False``).
    written: list[Path] = field(default_factory=list)
    #: How many outputs were written.
    count: int = 0
    kept: bool = False
    #: One line per edited message whose strings change mode ("m1: ANSI strings read as …").
    notes: list[str] = field(default_factory=list)
    #: Temporary files and backups that earlier, killed runs left beside the outputs, now removed.
    leftovers: list[Path] = field(default_factory=list)


def reproducible_now() -> FileTime | None:
    """The time from ``SOURCE_DATE_EPOCH`` (reproducible builds), or None when it is not set."""
    text = os.environ.get("SOURCE_DATE_EPOCH")
    if not text:
        return None
    digits = text.strip()
    if not digits.isascii() or not digits.isdigit():  # int() would take "1_000", "١٢" and "-5"
        negative = digits.startswith("-") and digits[1:].isascii() and digits[1:].isdigit()
        if negative and digits[1:].strip("0"):  # "-0" is no negative number: only not digits
            raise InvalidParameter(
                f"SOURCE_DATE_EPOCH={text!r} is negative", hint="give seconds since 1970, or unset it"
            )
        raise InvalidParameter(
            f"SOURCE_DATE_EPOCH={text!r} must be digits (a whole number of seconds since 1970)",
            hint="set it to digits such as 1700000000, or unset it",
        )
    # Thousands of digits are more than int() converts: too late anyway.
    significant = digits.lstrip("0") or "0"
    seconds = int(significant) if len(significant) <= len(str(MAX_EPOCH)) else MAX_EPOCH + 1
    if seconds > MAX_EPOCH:
        raise InvalidParameter(
            f"SOURCE_DATE_EPOCH={text!r} is after the year 9999",
            hint=f"give at most {MAX_EPOCH} (9999-12-31T23:59:59Z), or unset it",
        )
    return FileTime.from_unix(seconds)


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, f"{path}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            if key in _NOT_TEXT:
                continue
            if path.endswith("properties"):
                yield f"{path} key", key
            yield from _strings(item, f"{path}.{key}")


@dataclass(frozen=True)
class _Problem:
    """One reason close writes nothing: its words, the error it amounts to, and for a message
    written nowhere, its id (the hint names the way out)."""

    text: str
    kind: type[MsgsessError] = InvalidParameter
    nowhere: str | None = None


def _unencodable(row: Row, codec: str, codepage: int) -> _Problem | None:
    for path, text in _strings(row.spec, "$"):
        try:
            text.encode(codec)
        except UnicodeEncodeError as exc:
            bad = exc.object[exc.start]
            return _Problem(
                f"message {row.id}: {path} has {bad!r} (U+{ord(bad):04X}), "
                f"which code page {codepage} cannot hold",
                Unconvertible,
            )
    return None


def _cycles(edges: dict[str, list[str]]) -> list[str]:
    """Each embedding cycle once, as "a → b → a" (iterative DFS, colours white/grey/black)."""
    state: dict[str, int] = {}
    found: list[str] = []
    for start in edges:
        if state.get(start):
            continue
        stack: list[tuple[str, Iterator[str]]] = [(start, iter(edges.get(start, ())))]
        path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
                state[node] = 2
            elif state.get(child) == 1:
                cycle = path[path.index(child) :]
                found.append(" → ".join([*cycle, child]))
            elif not state.get(child):
                state[child] = 1
                path.append(child)
                stack.append((child, iter(edges.get(child, ()))))
    return found


#: How a message that would be written nowhere is worded.
_NOWHERE = "has no output and no message embeds it"


@dataclass
class _Problems:
    """What ``_check`` found: the first few in full, and what kinds of error they amount to
    (memory bounded, however many messages have a problem)."""

    listed: list[str] = field(default_factory=list)
    count: int = 0
    kinds: set[type[MsgsessError]] = field(default_factory=set)
    #: The first message that would be written nowhere (its id goes into the hint).
    nowhere: str | None = None

    def add(self, problem: _Problem) -> None:
        self.count += 1
        self.kinds.add(problem.kind)
        self.nowhere = self.nowhere or problem.nowhere
        if len(self.listed) < MAX_LISTED:
            self.listed.append(problem.text)


def _check(store: Store, mode: _Mode) -> _Problems:
    """Every reason not to write anything, looked for in one pass over the messages.

    Duplicate outputs are found through a temporary table of real paths, so that the memory
    of ``close`` does not grow with the number of messages.
    """
    from msgsess.oxmsg import codepages

    problems = _Problems()
    edges: dict[str, list[str]] = {}
    for parent, child in store.conn.execute("SELECT parent, child FROM embeds ORDER BY parent, child"):
        edges.setdefault(parent, []).append(child)
    embedded = {c for children in edges.values() for c in children}
    for cycle in _cycles(edges):
        problems.add(_Problem(f"embedding cycle {cycle}"))
    conn = store.conn
    conn.execute("DROP TABLE IF EXISTS temp.close_reals")
    conn.execute(
        "CREATE TEMP TABLE close_reals (real TEXT PRIMARY KEY, id TEXT NOT NULL, output TEXT NOT NULL)"
    )
    real_path = RealPaths()
    # A message without a source takes the session's mode: when that is Unicode, only edited
    # messages (whose spec names a "source") need their spec read and decoded here.
    every_spec = not mode(Row(0, "", None, {}))[0]
    query = (
        "SELECT seq, id, output, CASE WHEN ? OR instr(spec, '\"source\"') THEN spec END "
        "FROM messages ORDER BY seq"
    )
    for seq, msg_id, output, text in conn.execute(query, (every_spec,)):
        row = Row(seq, msg_id, output, {} if text is None else json.loads(text))
        if row.output is None:
            if row.id not in embedded:
                problems.add(_Problem(f"message {row.id} {_NOWHERE}", nowhere=row.id))
        else:
            real, is_dir = real_path(row.output)
            if is_dir:
                problems.add(_Problem(f"message {row.id}: output {row.output} is a folder"))
            elif not conn.execute(
                "INSERT OR IGNORE INTO close_reals VALUES (?, ?, ?)", (real, row.id, row.output)
            ).rowcount:
                other = conn.execute("SELECT id, output FROM close_reals WHERE real = ?", (real,)).fetchone()
                if other[0] != row.id:
                    problems.add(
                        _Problem(
                            f"message {row.id}: output {row.output} is the same file as {other[1]}, "
                            f"the output of message {other[0]}",
                            Collision,
                        )
                    )
        unicode, codepage = mode(row)
        if not unicode:
            problem = _unencodable(row, codepages.codec(codepage), codepage)
            if problem:
                problems.add(problem)
    conn.execute("DROP TABLE temp.close_reals")
    return problems


class _Builder:
    """Composes session messages, embedding other session messages and captured .msg files."""

    def __init__(
        self,
        store: Store,
        unicode: bool,
        codepage: int,
        now: FileTime | None,
        warn: Callable[[str], None] | None = None,
        mode: _Mode | None = None,
    ) -> None:
        from msgsess.composer import now_filetime

        self.store = store
        self.unicode = unicode
        self.codepage = codepage
        self.now = now if now is not None else now_filetime()
        self.stack: list[str] = []
        self.warn = warn
        self.mode = mode
        #: Whether close was told a string mode (--unicode, --ansi, --codepage) for every level.
        self.convert = False

    def message(self, msg_id: str, spec: Mapping[str, Any]) -> Message:
        from msgsess.composer import compose

        if msg_id in self.stack:
            cycle = " → ".join([*self.stack, msg_id])
            raise InvalidParameter(f"embedding cycle {cycle}", hint="a message cannot contain itself")
        label = f"message {msg_id}"
        base = None
        if "source" in spec or "eml" in spec:
            with located(label):
                base = base_message(self.store, dict(spec))  # an edited message: its decoded file
        self.stack.append(msg_id)
        try:
            msg = compose(
                spec,
                now=self.now,
                read_blob=self.store.attachment_data,  # large ones copied in chunks when written
                embedded=self.embedded,
                label=label,
                unicode=self.unicode,
                codepage=self.codepage,
                base=base,
            )
        finally:
            self.stack.pop()
        if self.warn is not None:  # a message embedded twice is warned about once: see _Results
            for text in cid_warnings(msg_id, msg):
                self.warn(text)
        return msg

    def embedded(self, att: Mapping[str, Any]) -> Message:
        if "message" in att:
            child = self.store.get(str(att["message"]))
            return self.message(child.id, child.spec)
        # Located at the embedding message by its compose.
        label = f"embedded .msg {att.get('name', '')}".rstrip()
        return read_msg(self.store.blob(str(att["msg_blob"])), label)

    def encode(self, row: Row) -> Any:
        """The storage tree of a message with an output; an Outlook template for OUTPUT.oft."""
        from msgsess import oxmsg

        if self.mode is not None:
            self.unicode, self.codepage = self.mode(row)
        template = is_template(row.output, row.spec)
        msg = self.message(row.id, {**row.spec, "template": True} if template else row.spec)
        # Messages embedded from .msg files keep their own string mode unless close is told one.
        return oxmsg.encode(
            msg,
            unicode=self.unicode,
            codepage=self.codepage,
            template=template,
            label=f"message {row.id}",
            convert=self.convert,
            warn=self.warn,
        )


#: Messages recorded in the ledger with one statement.
_LEDGER_BATCH = 256
#: (seq, temporary file, output as given, conversion note or None, warnings) of a written message.
_Written = tuple[int, str, str, "str | None", list[str]]


class _Writer:
    """Writes one message at a time to a temporary file beside its output (in ``close`` itself,
    or in each ``--jobs`` worker, over its own view of the session)."""

    def __init__(
        self,
        store: Store,
        unicode: bool,
        codepage: int,
        now: FileTime | None,
        mode: _Mode,
        fsync: bool,
        convert: bool = False,
    ) -> None:
        self.warnings: list[str] = []
        self.builder = _Builder(store, unicode, codepage, now, self.warnings.append, mode)
        self.builder.convert = convert
        self.fsync = fsync
        #: Temporary files of the task under way (a worker removes them if it is stopped).
        self.current: list[str] = []

    def write(self, row: Row) -> _Written:
        from msgsess import cfb

        builder = self.builder
        tree = builder.encode(row)
        note = conversion_note(row.id, row.spec, builder.unicode, builder.codepage)
        assert row.output is not None
        # The worker knows the file from the moment it exists (a SIGTERM may come at any time).
        temp = cfb.write_temp_name(tree, row.output, durable=self.fsync, created=self.current.append)
        warnings = self.warnings
        if not warnings:
            return row.seq, temp, row.output, note, []  # a list of its own: results outlive this call
        self.warnings = []
        self.builder.warn = self.warnings.append
        return row.seq, temp, row.output, note, warnings

    def task(self, bounds: tuple[int, int]) -> list[_Written]:
        """A worker's task: the messages to write from one seq to another."""
        from msgsess import cfb

        self.current.clear()  # what the tasks before wrote is sent: the parent's now
        done = []
        with cfb.signals_held() as breathe:  # SIGTERM stops the task at a file's end
            for row in self.builder.store.rows_to_write(*bounds):
                done.append(self.write(row))
                breathe()
        return done

    def discard_current(self) -> None:
        from msgsess import cfb

        for temp in self.current:
            cfb.discard(Path(temp))


class _Rows:
    """Rows for one temporary table, inserted a batch at a time (one statement per batch)."""

    def __init__(self, conn: Any, insert: str) -> None:
        self.conn = conn
        self.insert = insert
        #: Rows not inserted yet.
        self.held: list[tuple[Any, ...]] = []

    def add(self, row: tuple[Any, ...]) -> None:
        self.held.append(row)
        if len(self.held) >= _LEDGER_BATCH:
            self.flush()

    def flush(self) -> None:
        if self.held:
            self.conn.executemany(self.insert, self.held)
            self.held.clear()


class _Ledger:
    """What a close has written and moved, kept in temporary tables of its connection (a file
    beside SQLite's others, not memory): the temporary file and output of every message, the
    folders made for them, and the outputs moved into place with their backups, so that the
    memory of ``close`` stays the same for 50 or 50,000 messages.

    Also the :class:`~msgsess.cfb.Moves` of :func:`msgsess.cfb.commit_all`.
    """

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.out = _Rows(conn, "INSERT INTO close_out VALUES (?, ?, ?, ?, ?)")
        self.moves = _Rows(conn, "INSERT INTO close_moves (target, backup) VALUES (?, ?)")
        # One statement at a time: executescript() would COMMIT close's transaction first.
        for statement in (
            "DROP TABLE IF EXISTS temp.close_out",
            "DROP TABLE IF EXISTS temp.close_made",
            "DROP TABLE IF EXISTS temp.close_moves",
            "CREATE TEMP TABLE close_out (seq INTEGER PRIMARY KEY, temp TEXT NOT NULL, "
            "target TEXT NOT NULL, folder TEXT NOT NULL, name TEXT NOT NULL)",
            "CREATE INDEX temp.close_out_name ON close_out(folder, name)",
            "CREATE TEMP TABLE close_made (n INTEGER PRIMARY KEY, folder TEXT NOT NULL)",
            "CREATE TEMP TABLE close_moves (n INTEGER PRIMARY KEY, target TEXT NOT NULL, backup TEXT)",
        ):
            conn.execute(statement)

    def wrote(self, seq: int, temp: str, target: str) -> None:
        # The temporary file sits beside the real output (symlinks resolved): .NAME.NUMBER.tmp
        folder, base = os.path.split(temp)
        name = base[1:-4].rpartition(".")[0]
        self.out.add((seq, temp, target, folder, name))

    def made(self, folder: Path) -> None:
        self.conn.execute("INSERT INTO close_made (folder) VALUES (?)", (str(folder),))

    def pairs(self) -> Generator[tuple[str, str], None, None]:
        self.out.flush()
        yield from self.conn.execute("SELECT temp, target FROM close_out ORDER BY seq")

    def count(self) -> int:
        self.out.flush()
        return int(self.conn.execute("SELECT count(*) FROM close_out").fetchone()[0])

    def targets(self) -> Iterator[Path]:
        self.out.flush()
        for (target,) in self.conn.execute("SELECT target FROM close_out ORDER BY seq"):
            yield Path(target)

    def folders(self) -> list[str]:
        """The real folders of the outputs (as many as there are folders, not messages)."""
        self.out.flush()
        return [r[0] for r in self.conn.execute("SELECT DISTINCT folder FROM close_out ORDER BY folder")]

    def is_output(self, folder: str) -> Callable[[str], bool]:
        self.out.flush()

        def wanted(name: str) -> bool:
            query = "SELECT 1 FROM close_out WHERE folder = ? AND name = ? LIMIT 1"
            return self.conn.execute(query, (folder, name)).fetchone() is not None

        return wanted

    def undo(self) -> None:
        """Remove every temporary file, then the folders made for them (innermost first)."""
        from msgsess import cfb

        for _seq, temp, *_rest in self.out.held:
            cfb.discard(temp)
        self.out.held.clear()
        for (temp,) in self.conn.execute("SELECT temp FROM close_out").fetchall():
            cfb.discard(temp)
        for (folder,) in self.conn.execute("SELECT folder FROM close_made ORDER BY n DESC").fetchall():
            try:
                os.rmdir(folder)
            except OSError:
                break

    # --- cfb.Moves --------------------------------------------------------------------------

    def add(self, target: str, backup: str | None) -> None:
        self.moves.add((target, backup))

    def newest_first(self) -> Iterator[tuple[str, str | None]]:
        self.moves.flush()
        rows = self.conn.execute("SELECT target, backup FROM close_moves ORDER BY n DESC")
        yield from rows.fetchall()

    def backups(self) -> Iterator[str]:
        self.moves.flush()
        rows = self.conn.execute("SELECT backup FROM close_moves WHERE backup IS NOT NULL ORDER BY n")
        for (backup,) in rows:
            yield backup


def _make_folders(store: Store, ledger: _Ledger) -> None:
    """Create the missing folders of every output before any is written (by this process, so
    that workers never race to make or remove one), recording each in the ledger."""
    from msgsess import cfb

    known: dict[str, None] = {}
    for (output,) in store.conn.execute("SELECT output FROM messages WHERE output IS NOT NULL"):
        folder = os.path.dirname(output)
        if folder in known:
            continue
        if len(known) > 4096:
            known.clear()
        known[folder] = None
        if _make_parents(Path(output), ledger):
            cfb.made_folder(folder)


def _make_parents(target: Path, ledger: _Ledger) -> bool:
    """Create the missing folders above ``target``, recording them (outermost first); whether
    the folder of ``target`` itself was made (empty, then)."""
    missing: list[Path] = []
    parent = target.parent
    while not parent.exists():
        missing.append(parent)
        parent = parent.parent
    made = False
    for folder in reversed(missing):
        made = False
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            from msgsess.errors import WriteFailed

            raise WriteFailed(
                f"cannot create folder {folder} for {target}: {exc.strerror}", hint="check permissions"
            ) from None
        ledger.made(folder)
        made = True
    return made


def _tasks(store: Store, size: int) -> list[tuple[int, int]]:
    """The messages to write, cut into runs of ``size`` (first seq, last seq): one list entry per
    run, not per message."""
    tasks: list[tuple[int, int]] = []
    first = last = None
    count = 0
    for (seq,) in store.conn.execute("SELECT seq FROM messages WHERE output IS NOT NULL ORDER BY seq"):
        if first is None:
            first = seq
        last = seq
        count += 1
        if count == size:
            tasks.append((first, last))
            first, count = None, 0
    if first is not None and last is not None:
        tasks.append((first, last))
    return tasks


def default_jobs() -> int:
    """The CPUs this process may run on (``close --jobs`` without a number)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def close(
    path: str | os.PathLike[str],
    *,
    unicode: bool | None = None,
    codepage: int | None = None,
    keep: bool = False,
    now: FileTime | None = None,
    progress: Callable[[int, int], None] | None = None,
    warn: Callable[[str], None] | None = None,
    fsync: bool = False,
    checkpoint: Callable[[], None] | None = None,
    jobs: int = 1,
    list_written: bool = True,
) -> CloseResult:
    """Write every message with an output; remove the session unless ``keep``.

    ``unicode``/``codepage`` override the session's string mode; ``now`` defaults to
    ``SOURCE_DATE_EPOCH`` or the current time; ``progress(done, total)`` is called as messages
    are written (and, with ``jobs``, whenever close waits for its workers); ``warn(text)`` per
    warning about a message that is written all the same (HTML referring to a ``cid:`` no
    attachment answers). Outputs ending in ``.oft`` (or messages with ``"template": true``) are
    written as Outlook templates.

    ``jobs`` > 1 writes the temporary files in that many forked worker processes (where the
    system can fork; never more than there are messages); they are committed all or nothing
    exactly as with one. ``list_written=False`` leaves ``written`` empty and only counts
    (``count``): the command line's way, whose memory then does not grow with the session.

    ``checkpoint()`` is called once, after every temporary file is written and right before the
    first output is moved into place: the last moment to stop (by raising) with nothing changed.
    From then on close runs to its end. The session file is removed only if it is still the file
    that was closed (``open --force`` may have put a new session at its path meanwhile).
    """
    if codepage is not None and unicode:
        raise InvalidParameter("--codepage needs --ansi", hint="leave --codepage out with --unicode")
    if jobs < 1:
        raise InvalidParameter(f"--jobs {jobs}: give at least 1", hint="e.g. --jobs 4")
    if not os.path.lexists(path):
        # Most often a second close: the first removed the session once its outputs were written.
        raise SessionError(
            f"session {os.fspath(path)} does not exist",
            hint="close removes a session once every output is written, unless --keep: if it was "
            "closed before, there is nothing left to close; otherwise check the path",
        )
    if now is None:
        now = reproducible_now()
    result = CloseResult(kept=keep)
    from msgsess import cfb

    # The exclusive lock waits for readers (`show`…) before anything is written: once the outputs
    # are moved into place, no reader can make the final COMMIT time out.
    with transaction(path, write=True, exclusive=True) as store, cfb.batch():
        # The first write, before any output exists: a session that cannot be written (a
        # read-only folder holds no rollback journal) fails now, with nothing written.
        store.mark_closing()
        opened = store.identity()
        settings = store.settings()
        use_unicode = settings.unicode if unicode is None else unicode
        cp = codepage if codepage is not None else settings.codepage
        if not use_unicode or codepage is not None:
            check_codepage(cp)

        def mode(row: Row) -> tuple[bool, int]:
            # New messages take the session's mode, edited ones their file's, unless forced.
            return string_mode(row.spec, unicode, codepage, settings.unicode, settings.codepage)

        problems = _check(store, mode)
        if problems.count:
            raise _summarise(store.path, problems)
        total = int(
            store.conn.execute("SELECT count(*) FROM messages WHERE output IS NOT NULL").fetchone()[0]
        )
        if now is None:
            from msgsess.composer import now_filetime

            now = now_filetime()  # one time for every message, in every worker
        ledger = _Ledger(store.conn)
        written = _Results(ledger, result, total, progress, warn)
        try:
            convert = unicode is not None or codepage is not None  # a string mode for every level
            _make_folders(store, ledger)
            jobs = min(jobs, total) if workers.available() else 1
            if jobs > 1:
                _write_in_workers(store, jobs, written, use_unicode, cp, now, mode, fsync, progress, convert)
            else:
                writer = _Writer(store, use_unicode, cp, now, mode, fsync, convert)
                try:
                    with cfb.signals_held() as breathe:
                        for row in store.rows():
                            if row.output is not None:
                                written.take(writer.write(row))
                                writer.current.clear()  # in the ledger now
                                breathe()
                except BaseException:
                    writer.discard_current()  # made, and not in the ledger yet
                    raise
            if checkpoint is not None:
                checkpoint()  # the last moment to stop with nothing changed
            # Every output, or every old file back; the ledger's cursor closed whatever happens
            # (left to the collector, it would be closed after its connection, with a traceback).
            with contextlib.closing(ledger.pairs()) as pairs:
                cfb.commit_all(pairs, moves=ledger, marked=True)
            result.count = ledger.count()
            if list_written:
                result.written.extend(ledger.targets())
            folders = ledger.folders()
            if fsync:  # each folder once, after all its renames
                for folder in folders:
                    cfb.sync_dir(Path(folder))
        except BaseException:
            ledger.undo()
            raise
        # What killed runs left beside these outputs (never a file msgsess did not make).
        for folder in folders:
            result.leftovers.extend(cfb.remove_leftovers_in(folder, ledger.is_output(folder)))
        if keep:
            store.unmark_closing()
        else:
            store.mark_closed()
    if not keep:
        remove_store(path, None if opened is None else opened[:2])
    return result


class _Results:
    """Takes each written message in the parent: records it, passes its note and warnings on
    (a message embedded in two others warns once), reports progress."""

    def __init__(
        self,
        ledger: _Ledger,
        result: CloseResult,
        total: int,
        progress: Callable[[int, int], None] | None,
        warn: Callable[[str], None] | None,
    ) -> None:
        self.ledger = ledger
        self.result = result
        self.total = total
        self.done = 0
        self.progress = progress
        self.warn = warn
        self.warned: set[str] = set()
        self.noted: list[int] = []  # seq of each note: notes stay in the order of the messages

    def take(self, written: _Written) -> None:
        seq, temp, target, note, warnings = written
        self.ledger.wrote(seq, temp, target)
        self.done += 1
        if note is not None:  # workers finish in any order (--jobs); notes keep the session's
            at = bisect.bisect(self.noted, seq)
            self.noted.insert(at, seq)
            self.result.notes.insert(at, note)
        for text in warnings:
            if self.warn is not None and text not in self.warned:
                self.warned.add(text)
                self.warn(text)
        if self.progress is not None:
            self.progress(self.done, self.total)

    def take_all(self, batch: list[_Written]) -> None:
        for one in batch:
            self.take(one)

    def lost(self, batch: list[_Written]) -> None:
        """Results of a worker that nobody read before close stopped: recorded to be removed."""
        for seq, temp, target, _note, _warnings in batch:
            self.ledger.wrote(seq, temp, target)


def _write_in_workers(
    store: Store,
    jobs: int,
    written: _Results,
    unicode: bool,
    codepage: int,
    now: FileTime,
    mode: _Mode,
    fsync: bool,
    progress: Callable[[int, int], None] | None,
    convert: bool,
) -> None:
    """Write every message in ``jobs`` forked workers, each over its own view of the session
    (:func:`~msgsess.session.store.snapshot`); tasks of a few messages each, so that a large
    message does not hold the others up."""
    from msgsess.session.store import snapshot

    def setup() -> _Writer:
        return _Writer(snapshot(store.path), unicode, codepage, now, mode, fsync, convert)

    def cleanup(writer: _Writer | None) -> None:
        if writer is not None:
            writer.discard_current()

    def check() -> None:
        if progress is not None:
            progress(written.done, written.total)  # where SIGTERM and Ctrl-C stop close

    pool = workers.Pool(setup, _Writer.task, cleanup)
    size = max(1, min(64, written.total // (jobs * 8)))
    workers.run(pool, jobs, _tasks(store, size), written.take_all, check, written.lost)


def _summarise(path: str, problems: _Problems) -> MsgsessError:
    listed = "; ".join(problems.listed)
    more = f"; and {problems.count - MAX_LISTED} more" if problems.count > MAX_LISTED else ""
    text = f"{path}: nothing written: {listed}{more}"
    if problems.kinds == {Unconvertible}:
        return Unconvertible(text, hint="close with --unicode, or choose a code page with --ansi --codepage")
    if problems.kinds == {Collision}:
        return Collision(text, hint="give each message its own output file; the session is unchanged")
    if problems.nowhere is not None:
        return InvalidParameter(
            text,
            hint=f"give it an output with `msgsess output {path} {problems.nowhere} PATH`, or remove it "
            f"with `msgsess rm {path} {problems.nowhere}`; the session is unchanged",
        )
    return InvalidParameter(text, hint="fix these and close again; the session is unchanged")
