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

import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from msgsess.errors import Collision, InvalidParameter, MsgsessError, SessionError, Unconvertible, located
from msgsess.oxmsg.codepages import check_codepage
from msgsess.props.types import FileTime
from msgsess.session.edit import base_message, conversion_note, string_mode
from msgsess.session.inputs import read_msg
from msgsess.session.store import Row, Store, remove_store, transaction
from msgsess.session.usecases import cid_warnings, is_template

if TYPE_CHECKING:
    from msgsess.model import Message

#: Problems listed in one error before "and N more".
MAX_LISTED = 5
#: Spec keys whose strings never become text properties of the file.
_NOT_TEXT = frozenset({"blob", "msg_blob", "message", "id", "output", "source"})
#: The last second ``SOURCE_DATE_EPOCH`` may name: 9999-12-31T23:59:59Z, the end of the dates
#: msgsess reads and writes (FILETIME itself goes further, but no date in a .msg needs to).
MAX_EPOCH = 253_402_300_799
#: (Unicode?, code page) a message is written in.
_Mode = Callable[[Row], tuple[bool, int]]


@dataclass
class CloseResult:
    written: list[Path] = field(default_factory=list)
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


def _check(store: Store, mode: _Mode) -> list[_Problem]:
    from msgsess.oxmsg import codepages

    problems: list[_Problem] = []
    edges: dict[str, list[str]] = {}
    for parent, child in store.conn.execute("SELECT parent, child FROM embeds ORDER BY parent, child"):
        edges.setdefault(parent, []).append(child)
    embedded = {c for children in edges.values() for c in children}
    problems.extend(_Problem(f"embedding cycle {c}") for c in _cycles(edges))
    #: real path of each output (symlinks resolved now) -> (id, output as given)
    reals: dict[str, tuple[str, str]] = {}
    for row in store.rows():
        if row.output is None:
            if row.id not in embedded:
                problems.append(_Problem(f"message {row.id} {_NOWHERE}", nowhere=row.id))
        elif os.path.isdir(row.output):
            problems.append(_Problem(f"message {row.id}: output {row.output} is a folder"))
        else:
            real = os.path.realpath(row.output)
            other = reals.setdefault(real, (row.id, row.output))
            if other[0] != row.id:
                problems.append(
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
                problems.append(problem)
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
        self.warned: set[str] = set()
        self.mode = mode
        #: Whether close was told a string mode (--unicode, --ansi, --codepage) for every level.
        self.convert = False

    def message(self, msg_id: str, spec: Mapping[str, Any]) -> Message:
        from msgsess.composer import compose

        if msg_id in self.stack:
            cycle = " → ".join([*self.stack, msg_id])
            raise InvalidParameter(f"embedding cycle {cycle}", hint="a message cannot contain itself")
        label = f"message {msg_id}"
        with located(label):
            base = base_message(self.store, dict(spec))  # an edited message: its decoded file
        self.stack.append(msg_id)
        try:
            msg = compose(
                spec,
                now=self.now,
                read_blob=self.store.blob,
                embedded=self.embedded,
                label=label,
                unicode=self.unicode,
                codepage=self.codepage,
                base=base,
            )
        finally:
            self.stack.pop()
        if self.warn is not None and msg_id not in self.warned:
            self.warned.add(msg_id)  # a message embedded twice is warned about once
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


def _make_parents(target: Path, made: list[Path]) -> None:
    """Create the missing folders above ``target``, recording them (outermost first)."""
    missing: list[Path] = []
    parent = target.parent
    while not parent.exists():
        missing.append(parent)
        parent = parent.parent
    for folder in reversed(missing):
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            from msgsess.errors import WriteFailed

            raise WriteFailed(
                f"cannot create folder {folder} for {target}: {exc.strerror}", hint="check permissions"
            ) from None
        made.append(folder)


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
) -> CloseResult:
    """Write every message with an output; remove the session unless ``keep``.

    ``unicode``/``codepage`` override the session's string mode; ``now`` defaults to
    ``SOURCE_DATE_EPOCH`` or the current time; ``progress(done, total)`` is called per message;
    ``warn(text)`` per warning about a message that is written all the same (HTML referring to a
    ``cid:`` no attachment answers). Outputs ending in ``.oft`` (or messages with
    ``"template": true``) are written as Outlook templates.

    ``checkpoint()`` is called once, after every temporary file is written and right before the
    first output is moved into place: the last moment to stop (by raising) with nothing changed.
    From then on close runs to its end. The session file is removed only if it is still the file
    that was closed (``open --force`` may have put a new session at its path meanwhile).
    """
    if codepage is not None and unicode:
        raise InvalidParameter("--codepage needs --ansi", hint="leave --codepage out with --unicode")
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
    # The exclusive lock waits for readers (`show`…) before anything is written: once the outputs
    # are moved into place, no reader can make the final COMMIT time out.
    with transaction(path, write=True, exclusive=True) as store:
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
        if problems:
            raise _summarise(store.path, problems)
        total = int(
            store.conn.execute("SELECT count(*) FROM messages WHERE output IS NOT NULL").fetchone()[0]
        )
        from msgsess import cfb

        temps: list[tuple[Path, Path]] = []
        made: list[Path] = []
        try:
            builder = _Builder(store, use_unicode, cp, now, warn, mode)
            builder.convert = unicode is not None or codepage is not None
            for row in store.rows():
                if row.output is None:
                    continue
                tree = builder.encode(row)
                note = conversion_note(row.id, row.spec, builder.unicode, builder.codepage)
                if note is not None:
                    result.notes.append(note)
                target = Path(row.output)
                _make_parents(target, made)
                temps.append((cfb.write_temp(tree, target, durable=fsync), target))
                del tree
                if progress is not None:
                    progress(len(temps), total)
            if checkpoint is not None:
                checkpoint()  # the last moment to stop with nothing changed
            cfb.commit_all(temps)  # every output, or (on failure) every old file back
            result.written.extend(target for _temp, target in temps)
            if fsync:  # each folder once, after all its renames
                for folder in dict.fromkeys(target.parent for _temp, target in temps):
                    cfb.sync_dir(folder)
        except BaseException:
            for temp, _target in temps:
                cfb.discard(temp)
            for folder in reversed(made):
                try:
                    folder.rmdir()
                except OSError:
                    break
            raise
        # What killed runs left beside these outputs (never a file msgsess did not make).
        result.leftovers = cfb.remove_leftovers(target for _temp, target in temps)
        if keep:
            store.unmark_closing()
        else:
            store.mark_closed()
    if not keep:
        remove_store(path, None if opened is None else opened[:2])
    return result


def _summarise(path: Path, problems: list[_Problem]) -> MsgsessError:
    listed = "; ".join(p.text for p in problems[:MAX_LISTED])
    more = f"; and {len(problems) - MAX_LISTED} more" if len(problems) > MAX_LISTED else ""
    text = f"{path}: nothing written: {listed}{more}"
    kinds = {p.kind for p in problems}
    if kinds == {Unconvertible}:
        return Unconvertible(text, hint="close with --unicode, or choose a code page with --ansi --codepage")
    if kinds == {Collision}:
        return Collision(text, hint="give each message its own output file; the session is unchanged")
    nowhere = next((p.nowhere for p in problems if p.nowhere is not None), None)
    if nowhere is not None:
        return InvalidParameter(
            text,
            hint=f"give it an output with `msgsess output {path} {nowhere} PATH`, or remove it with "
            f"`msgsess rm {path} {nowhere}`; the session is unchanged",
        )
    return InvalidParameter(text, hint="fix these and close again; the session is unchanged")
