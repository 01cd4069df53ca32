"""The public Python API: what ``import msgsess`` gives, and what the command line calls.

Three calls of MAPI's IMessage sessions, for Python: :meth:`Session.create` / :meth:`Session.open`
(``OpenIMsgSession``), :meth:`Session.add` and :meth:`Session.edit` (``OpenIMsgOnIStg``),
:meth:`Session.close` (``CloseIMsgSession``: every message written, all or nothing). Without a
session, :func:`compose` builds a :class:`~msgsess.model.Message` from a spec (files read),
:func:`write` writes one and :func:`read` reads one back. Errors are
:class:`~msgsess.errors.MsgsessError` subclasses, with a location, a hint and an exit code.

The library does the work; ``msgsess.cli`` only parses options, calls these and prints. This
module is the one door: it imports the session, codec and compound-file layers for its callers.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from msgsess.errors import InvalidParameter, MsgsessError, SessionError, located
from msgsess.inputs import path_text

TYPE_CHECKING = False  # no typing, dataclasses or pathlib at run time: add imports this module
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from pathlib import Path
    from types import TracebackType
    from typing import Any

    from msgsess.convert import Result as ConvertResult
    from msgsess.dump import Level as Level
    from msgsess.dump import Row as Row
    from msgsess.extract import Plan
    from msgsess.extract import Skipped as Skipped
    from msgsess.model import Message
    from msgsess.oxmsg.check import Finding as Finding
    from msgsess.props.types import FileTime
    from msgsess.results import CheckResult as CheckResult
    from msgsess.results import Conversion as Conversion
    from msgsess.results import SessionInfo as SessionInfo
    from msgsess.savedir import Written
    from msgsess.session.close import CloseResult
    from msgsess.session.correct import Removed
    from msgsess.session.imports import Imported
    from msgsess.session.inputs import Loaded
    from msgsess.spec import AttachmentSpec, MessageSpec
else:

    def __getattr__(name: str) -> Any:
        # The result records (msgsess.results): loaded by the calls that return one.
        if name in ("CheckResult", "Conversion", "SessionInfo"):
            from msgsess import results

            return getattr(results, name)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CheckResult",
    "Session",
    "SessionInfo",
    "check",
    "compose",
    "dump",
    "outline",
    "read",
    "spec_from_options",
    "write",
]

#: Receives one warning (a line of text naming the message) while a call runs.
Warn = Callable[[str], None]
PathLike = str | os.PathLike[str]


def _spec(spec: Mapping[str, Any] | None, fields: Mapping[str, Any]) -> dict[str, Any]:
    """A spec from a mapping and keyword fields (``from_``/``class_`` for the keys ``from``/``class``)."""
    out = dict(spec or {})
    for name, value in fields.items():
        out[name[:-1] if name in ("from_", "class_") else name] = value
    return out


class Session:
    """A session file: messages that are not ``.msg`` files yet.

    Every method is one transaction of its own, safe beside other processes using the same
    session (``make -j``). As a context manager a session closes on success (every message
    written) and is kept as it is when the block raises::

        with msgsess.Session.create("work.session") as s:
            s.add(output="out/hello.msg", subject="Hello", to=["bob@example.com"])
    """

    def __init__(self, path: PathLike) -> None:
        # The path as pathlib shows it, kept as text: add never imports pathlib.
        self._path = path_text(path)

    @property
    def path(self) -> Path:
        """The session file's path."""
        from pathlib import Path

        return Path(self._path)

    def __repr__(self) -> str:
        return f"Session({self._path!r})"

    # --- opening and closing --------------------------------------------------------------

    @classmethod
    def create(
        cls, path: PathLike, *, unicode: bool = True, codepage: int | str | None = None, force: bool = False
    ) -> Session:
        """Create a session file (``msgsess open``): Unicode, or ANSI in ``codepage`` (default 1252).

        An existing file is an error unless ``force``, which replaces a session (never a file
        that is not one).
        """
        from msgsess import session as _use

        if codepage is not None and unicode:
            raise InvalidParameter("a code page is for ANSI sessions", hint="pass unicode=False with it")
        _use.open_session(path, ansi=not unicode, codepage=_codepage(codepage), force=force)
        return cls(path)

    @classmethod
    def open(cls, path: PathLike, unicode: bool = True, codepage: int | str | None = None) -> Session:
        """The session at ``path``; a new one in this string mode if there is none.

        An existing session keeps its own mode (see :meth:`info`).
        """
        if not os.path.lexists(path):
            try:
                return cls.create(path, unicode=unicode, codepage=codepage)
            except SessionError:
                if not os.path.lexists(path):
                    raise  # not a race with another process creating it
        session = cls(path)
        session.info()  # a session, or SessionError
        return session

    def close(
        self,
        *,
        unicode: bool | None = None,
        codepage: int | str | None = None,
        keep: bool = False,
        fsync: bool = False,
        now: FileTime | None = None,
        progress: Callable[[int, int], None] | None = None,
        warn: Warn | None = None,
        checkpoint: Callable[[], None] | None = None,
        jobs: int | None = 1,
        list_written: bool = True,
    ) -> CloseResult:
        """Write every message to its output, all or nothing; then remove the session unless ``keep``.

        ``unicode``/``codepage`` override the session's string mode (an edited file keeps its
        own otherwise); ``now`` defaults to ``SOURCE_DATE_EPOCH`` or the current time.
        ``progress(done, total)`` is called after each message, ``warn(text)`` for each warning,
        ``checkpoint()`` right before the first output is moved into place (raise to stop).
        ``jobs`` processes write the files (``None``: one per CPU), committed all or nothing as
        with one; ``list_written=False`` only counts them (``count``), in flat memory.
        """
        from msgsess.session.close import close, default_jobs

        return close(
            self._path,
            unicode=unicode,
            codepage=_codepage(codepage),
            keep=keep,
            now=now,
            progress=progress,
            warn=warn,
            fsync=fsync,
            checkpoint=checkpoint,
            jobs=default_jobs() if jobs is None else jobs,
            list_written=list_written,
        )

    def discard(self) -> None:
        """Remove the session without writing anything."""
        from msgsess import session as _use

        _use.discard(self._path)

    def __enter__(self) -> Session:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is None:
            self.close()

    # --- messages ---------------------------------------------------------------------------

    def add(
        self,
        spec: Mapping[str, Any] | None = None,
        /,
        *,
        replace: bool = False,
        warn: Warn | None = None,
        **fields: Any,
    ) -> str:
        """Add one message and return its id.

        ``spec`` is a :class:`~msgsess.spec.MessageSpec` (the JSON of ``add --json``); keyword
        fields add to it (``from_=`` and ``class_=`` for ``from`` and ``class``). Files named
        in it are read now. With ``replace``, a message with the spec's id (else its output)
        is replaced whole, keeping its id; without one the message is added (``add --replace``).
        ``warn(text)`` receives ``add``'s warnings (an output that is no ``.msg``…).
        """
        from msgsess import session as _use
        from msgsess.session import jsonspec as _jsonspec

        checked = _jsonspec.validate(_spec(spec, fields))
        return _use.add(self._path, [("", checked)], warn=warn, replace=replace)[0]

    def add_all(
        self, specs: Iterable[Mapping[str, Any]], *, replace: bool = False, warn: Warn | None = None
    ) -> list[str]:
        """Add several messages in one transaction (all or none); errors name the index."""
        from msgsess import session as _use
        from msgsess.session import jsonspec as _jsonspec

        checked = [(f"$[{i}]", _jsonspec.validate(dict(s), "", f"$[{i}]")) for i, s in enumerate(specs)]
        return _use.add(self._path, checked, warn=warn, replace=replace)

    def add_json(
        self, text: str, *, source: str = "JSON", replace: bool = False, warn: Warn | None = None
    ) -> list[str]:
        """Add the messages of JSON text (one object, an array, or JSON Lines); errors name
        ``source`` and the line or index."""
        from msgsess import session as _use
        from msgsess.session import jsonspec as _jsonspec

        specs = _jsonspec.iter_specs(text, source)
        del text  # the reader of specs holds the text alone and lets it go as it reads
        return _use.add(self._path, specs, warn=warn, replace=replace)

    def add_ics(
        self,
        data: bytes | str,
        *,
        output: str | None = None,
        id: str | None = None,
        source: str = "iCalendar",
        replace: bool = False,
        warn: Warn | None = None,
    ) -> list[str]:
        """Add a message per VEVENT (appointment; a meeting request under ``METHOD:REQUEST``)
        and VTODO (task) of iCalendar data, in one transaction; return their ids.

        ``output`` and ``id`` are patterns: ``{n}`` is the component's number (from 1) in the
        file; without ``{n}`` the data must hold one component. Errors name ``source``.
        """
        from msgsess.items.ical import parse_ics

        specs = parse_ics(data, label=source)
        return self.add_all(
            _numbered(specs, output, id, source, "VEVENT or VTODO"), replace=replace, warn=warn
        )

    def add_vcard(
        self,
        data: bytes | str,
        *,
        output: str | None = None,
        id: str | None = None,
        source: str = "vCard",
        replace: bool = False,
        warn: Warn | None = None,
    ) -> list[str]:
        """Add a contact per card of vCard data (3.0 or 4.0), in one transaction; return their
        ids. ``output`` and ``id`` as for :meth:`add_ics`."""
        from msgsess.items.vcard import parse_vcf

        specs = parse_vcf(data, label=source)
        return self.add_all(_numbered(specs, output, id, source, "card"), replace=replace, warn=warn)

    def add_eml(
        self,
        eml: PathLike | bytes,
        spec: Mapping[str, Any] | None = None,
        /,
        *,
        replace: bool = False,
        warn: Warn | None = None,
        **fields: Any,
    ) -> str:
        """Add one MIME message (an ``.eml`` path, ``"-"`` for stdin, or its bytes) and return
        its id (``msgsess add --eml``).

        The message is read as Outlook stores received mail (``docs/EML.md``); the spec and
        keyword fields then change it, as they change an edited file (``subject=``,
        ``cc=[…]``, ``attachments=[…]`` are added to the mail's own). Bytes that are not mail at
        all are :class:`~msgsess.errors.CorruptFile`; what the reader repaired or guessed goes
        to ``warn``. ``close`` writes it in the session's string mode.
        """
        if isinstance(eml, bytes | bytearray):
            import base64

            source: str | dict[str, Any] = {"data": base64.b64encode(bytes(eml)).decode("ascii")}
        else:
            source = os.fspath(eml)
        return self.add({**_spec(spec, fields), "eml": source}, replace=replace, warn=warn)

    def import_mail(
        self,
        *inputs: PathLike,
        out_dir: PathLike | None = None,
        replace: bool = False,
        warn: Warn | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> Imported:
        """Add every message of MIME mail files (``.eml``, mbox, folders of them searched
        recursively) in one transaction, all or none (``msgsess import``).

        Outputs are ``out_dir/<stem>.msg`` (mbox: ``<mbox stem>-<n>.msg``; files found in a
        folder keep their path below it), by default in each input's own folder. An output
        another message has is :class:`~msgsess.errors.Collision`, unless that message came
        from the same input: then it is skipped (so an import can run again), or replaced
        with ``replace``. ``progress(done, total)`` is called per input file.
        """
        from msgsess.session.imports import import_mail

        return import_mail(
            self._path,
            [os.fspath(i) for i in inputs],
            out_dir=None if out_dir is None else os.fspath(out_dir),
            replace=replace,
            warn=warn,
            progress=progress,
        )

    def rm(self, *msg_ids: str, force: bool = False, warn: Warn | None = None) -> Removed:
        """Remove messages, all or none (``msgsess rm``); ids of the others never change.

        A message another message embeds is refused unless ``force``, which removes the
        embedding attachment too (listed in the result's ``detached``).
        """
        from msgsess.session.correct import remove

        return remove(self._path, list(msg_ids), force=force, warn=warn)

    def output(self, msg_id: str) -> str | None:
        """Where ``close`` writes message ``msg_id`` (an absolute path), or None (embedded only)."""
        from msgsess.session.correct import output

        return output(self._path, msg_id)

    def set_output(self, msg_id: str, path: PathLike | None, *, warn: Warn | None = None) -> str | None:
        """Give a message another output, or none (``msgsess output``); return it as kept."""
        from msgsess.session.correct import set_output

        return set_output(self._path, msg_id, None if path is None else os.fspath(path), warn=warn)

    def edit(
        self,
        file: PathLike,
        *,
        output: PathLike | None = None,
        id: str | None = None,
        codepage: int | str | None = None,
    ) -> str:
        """Add an existing ``.msg`` file to change; ``close`` writes it back (or to ``output``)."""
        from msgsess import session as _use

        return _use.edit_file(
            self._path,
            os.fspath(file),
            output=None if output is None else os.fspath(output),
            msg_id=id,
            codepage=_codepage(codepage),
        )

    def recipient(self, msg_id: str, *addresses: str, kind: str = "to") -> list[int]:
        """Add recipients of one kind (``to``, ``cc`` or ``bcc``); return their numbers (as
        :meth:`show` numbers them)."""
        from msgsess import session as _use

        return _use.add_recipients(self._path, msg_id, kind, list(addresses))

    def remove_recipient(self, msg_id: str, number: int) -> None:
        """Remove recipient ``number``; later ones move up by one."""
        from msgsess import session as _use

        _use.remove_recipient(self._path, msg_id, number)

    def attach(
        self,
        msg_id: str,
        *files: PathLike | AttachmentSpec,
        message: str | None = None,
        msg: PathLike | None = None,
        data: bytes | None = None,
        name: str | None = None,
        mime: str | None = None,
        content_id: str | None = None,
        hidden: bool | None = None,
    ) -> list[int]:
        """Attach files (read now), bytes (``data=``, with ``name=``), another message of the
        session (``message=ID``) or a ``.msg`` file (``msg=PATH``); return their numbers.

        An :class:`~msgsess.spec.AttachmentSpec` may stand for a file, as in a spec.
        """
        from msgsess import session as _use

        options = {"name": name, "mime": mime, "content_id": content_id, "hidden": hidden}
        extra = {k: v for k, v in options.items() if v is not None}
        atts: list[dict[str, Any]] = [
            {**f, **extra} if isinstance(f, Mapping) else {"file": os.fspath(f), **extra} for f in files
        ]
        if message is not None:
            atts.append({"message": message, **extra})
        if msg is not None:
            atts.append({"msg": os.fspath(msg), **extra})
        if data is not None:
            import base64

            atts.append({"data": base64.b64encode(data).decode("ascii"), **extra})
        if not atts:
            raise InvalidParameter("nothing to attach", hint="give files, data=, message= or msg=")
        return _use.attach(self._path, msg_id, atts)

    def detach(self, msg_id: str, number: int) -> None:
        """Remove attachment ``number``; later ones move up by one."""
        from msgsess import session as _use

        _use.detach(self._path, msg_id, number)

    def set(
        self,
        msg_id: str,
        prop: str,
        value: Any,
        *,
        type: str | None = None,
        recipient: int | None = None,
        attachment: int | None = None,
    ) -> str:
        """Set a MAPI property of a message (or of recipient/attachment ``N``); return the key
        the spec keeps it under.

        ``prop`` is any name the command line takes; ``value`` is text in the value syntax
        (docs/VALUES.md) or a Python value (int, float, bool, bytes, datetime, list).
        """
        from msgsess import session as _use

        return _use.set_property(
            self._path,
            msg_id,
            prop,
            _value_text(value),
            type_name=type,
            recipient=recipient,
            attachment=attachment,
        )

    def unset(
        self, msg_id: str, prop: str, *, recipient: int | None = None, attachment: int | None = None
    ) -> None:
        """Remove a property: any value given for it, and the default msgsess would set."""
        from msgsess import session as _use

        _use.unset_property(self._path, msg_id, prop, recipient=recipient, attachment=attachment)

    # --- looking -----------------------------------------------------------------------------

    def show(self, msg_id: str | None = None, *, data: bool = True) -> Iterator[MessageSpec]:
        """Each message (or one) as the spec ``add --json`` reads, in the order added.

        Without ``data`` attachment bytes are left out (``None`` and a ``size``); an edited
        file's source then shows a summary of the file as ``original``.
        """
        from typing import cast

        from msgsess import session as _use

        for spec in _use.show(self._path, msg_id, data=data):
            yield cast("MessageSpec", spec)

    def info(self) -> SessionInfo:
        """The session's string mode and number of messages."""
        from msgsess import session as _use
        from msgsess.results import SessionInfo

        unicode, codepage, count = _use.session_info(self._path)
        return SessionInfo(unicode, codepage, count)

    def labels(self, msg_id: str) -> tuple[list[str], list[str]]:
        """A short label for each recipient and each attachment of a message, as numbered
        (``to: bob@example.com``, ``report.pdf``, ``embedded message m2``)."""
        from msgsess.session.usecases import row_labels

        return row_labels(self._path, msg_id)

    def ids(self) -> list[str]:
        """The ids of the messages, in the order added."""
        from msgsess import session as _use

        return _use.message_ids(self._path)


def _numbered(
    specs: list[dict[str, Any]], output: str | None, msg_id: str | None, source: str, what: str
) -> list[dict[str, Any]]:
    """Imported specs with their outputs and ids: ``{n}`` in a pattern is the number from 1."""
    if not specs:
        raise InvalidParameter(f"holds no {what}").at(source)
    for name, pattern in (("OUTPUT", output), ("--id", msg_id)):
        if pattern is not None and len(specs) > 1 and "{n}" not in pattern:
            raise InvalidParameter(
                f"holds {len(specs)} items, and {name} {pattern!r} names one",
                hint=f"put {{n}} in {name} for the item's number, e.g. out/item-{{n}}.msg",
            ).at(source)
    out = []
    for n, spec in enumerate(specs, start=1):
        named = dict(spec)
        if output is not None:
            named["output"] = output.replace("{n}", str(n))
        if msg_id is not None:
            named["id"] = msg_id.replace("{n}", str(n))
        out.append(named)
    return out


def _codepage(codepage: int | str | None) -> int | None:
    """A code page by number or name (``1251``, ``"windows-1251"``, ``"koi8-r"``)."""
    if isinstance(codepage, str):
        from msgsess.oxmsg.codepages import parse_codepage

        return parse_codepage(codepage)
    return codepage


def _value_text(value: Any) -> str:
    """A Python value as text in the value syntax (docs/VALUES.md)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes | bytearray):
        return "hex:" + bytes(value).hex()
    import datetime as _dt
    import json

    if isinstance(value, _dt.datetime | _dt.date):
        return value.isoformat()
    return json.dumps(value)


# --- without a session -----------------------------------------------------------------------------


def compose(
    spec: Mapping[str, Any] | None = None,
    /,
    *,
    now: FileTime | None = None,
    unicode: bool = True,
    codepage: int = 1252,
    **fields: Any,
) -> Message:
    """Build a message from a spec, as ``add`` then ``close`` would, without a session.

    The same specs as ``add --json`` (keyword fields add to it, ``from_``/``class_`` for
    ``from``/``class``): attachment ``file``/``data``/``msg``/``msg_data``, an edited
    ``source`` and a MIME ``eml`` are read now; ``message`` (another message of a session) needs a session.
    ``now`` defaults to ``SOURCE_DATE_EPOCH`` or the current time.
    """
    from msgsess import composer
    from msgsess.session import inputs as _inputs
    from msgsess.session import jsonspec as _jsonspec
    from msgsess.session.close import reproducible_now
    from msgsess.session.usecases import is_template

    checked = _jsonspec.validate(_spec(spec, fields))
    # Named as a session names it, so that the same spec and time give the same file either way.
    label = f"message {checked['id']}" if checked.get("id") else "message"
    with located(label):
        item = _inputs.load_spec("", checked)
        blobs: dict[str, bytes] = {}
        stored = dict(checked)
        for loaded in (item.text_error, item.source, item.eml):
            if loaded is not None:
                _raise(loaded)
        if item.source is not None:
            stored["source"] = item.source.stored
            blobs.update(item.source.blobs)
        if item.eml is not None:
            stored["eml"] = item.eml.stored
            blobs.update(item.eml.blobs)
        if item.attachments is not None:
            captured = []
            for index, loaded in enumerate(item.attachments):
                stored_att = loaded.in_memory()  # files read now: no session to copy them into
                _raise(loaded, f"attachment {index}")
                captured.append(stored_att)
                blobs.update(loaded.blobs)
            stored["attachments"] = captured
    stored.pop("id", None)
    output = stored.pop("output", None)
    if is_template(output, stored):
        stored["template"] = True
    base = None
    if isinstance(stored.get("eml"), dict):
        eml = stored["eml"]
        base = _inputs.read_eml(blobs[eml["blob"]], str(eml.get("file") or "eml"))[0]
    elif isinstance(stored.get("source"), dict):
        source = stored["source"]
        base = _inputs.read_msg(
            blobs[source["blob"]], str(source.get("file") or "source"), source.get("codepage")
        )

    def embedded(att: Mapping[str, Any]) -> Message:
        if "msg_blob" in att:
            return _inputs.read_msg(
                blobs[str(att["msg_blob"])], f"embedded .msg {att.get('name', '')}".rstrip()
            )
        raise InvalidParameter(
            f"message {att.get('message')!r} is another message of a session",
            hint="embed it through a Session, or give the .msg file (msg) or its bytes (msg_data)",
        )

    return composer.compose(
        stored,
        now=now if now is not None else reproducible_now(),
        read_blob=blobs.__getitem__,
        embedded=embedded,
        label=label,
        unicode=unicode,
        codepage=codepage,
        base=base,
    )


def _raise(loaded: Loaded, *where: str) -> None:
    if loaded.error is not None:
        error = loaded.error
        for place in reversed(where):
            error.at(place)
        raise error


def read(
    source: PathLike | bytes | bytearray, *, codepage: int | str | None = None, name: str | None = None
) -> Message:
    """Read a ``.msg`` (or ``.oft``) file, from its path or its bytes: every property of every
    level, named properties by their names (``message.props["PidTagSubject"].value``).
    ``codepage`` is for ANSI strings of a file that names none; ``name`` names the file in
    errors (default: the path, or ``bytes``)."""
    from msgsess.msgfile import read_msg

    if isinstance(source, bytes | bytearray):
        return read_msg(source, name or "bytes", _codepage(codepage))
    path = os.fspath(source)
    # Streams read from the file as they are needed; only a regular file within the input limit.
    return read_msg(path, name or path, _codepage(codepage))


def _message(source: PathLike | bytes | bytearray | Message) -> Message:
    from msgsess.model import Message as _Message

    return source if isinstance(source, _Message) else read(source)


def dump(source: PathLike | bytes | bytearray | Message, *, full: bool = False) -> dict[str, Any]:
    """Every property of every level of a message (a path, bytes, or a :class:`Message`) as
    JSON-ready data, as ``msgsess dump --json`` prints it: names, tags and types as the file
    stores them, attachment bytes as size and SHA-256 unless ``full``."""
    from msgsess.dump import dump_message

    return dump_message(_message(source), full=full)


def outline(source: PathLike | bytes | bytearray | Message, *, width: int = 100) -> Level:
    """A message as a person reads it (``msgsess dump``): a :class:`~msgsess.dump.Level` per
    message, recipient and attachment, each with rows of property, tag, type, flags and value,
    every text safe to print, values cut at ``width`` columns (0: whole)."""
    from msgsess.dump import outline as _outline

    return _outline(_message(source), width=width)


def check(path: PathLike) -> CheckResult:
    """Check a ``.msg`` file against the structure rules of [MS-OXMSG] and [MS-CFB]
    (``msgsess check``). A file that cannot be read at all is a result with its ``error``,
    not an exception, so that a run over many files goes on."""
    from msgsess import cfbreader
    from msgsess.errors import MsgsessError
    from msgsess.oxmsg.check import check as _check
    from msgsess.results import CheckResult

    name = os.fspath(path)
    try:
        tree = cfbreader.read_file(name)
    except MsgsessError as exc:
        return CheckResult(name, error=exc)
    return CheckResult(name, tuple(_check(tree)))


def severities() -> tuple[str, ...]:
    """The severities of :func:`check`'s findings, worst first: error, warning, note."""
    from msgsess.oxmsg.check import SEVERITIES

    return SEVERITIES


def write(
    message: Message,
    path: PathLike,
    *,
    unicode: bool = True,
    codepage: int | str = 1252,
    template: bool | None = None,
    fsync: bool = False,
) -> None:
    """Write a message to ``path`` atomically (a temporary file renamed into place).

    ``template``: an Outlook template (``.oft``); by default one when ``path`` ends in ``.oft``,
    else what the message was read as (a new message is a message). ANSI strings
    (``unicode=False``) are in ``codepage``.
    """
    from pathlib import Path

    from msgsess import cfb, oxmsg
    from msgsess.oxmsg.codepages import check_codepage

    target = Path(path)
    cp = _codepage(codepage)
    assert cp is not None
    if not unicode:
        check_codepage(cp)
    if template is None and target.name.lower().endswith(".oft"):
        template = True
    tree = oxmsg.encode(message, unicode=unicode, codepage=cp, template=template, label=str(target))
    cfb.write_atomic(tree, target, durable=fsync)


# --- the command line's options ---------------------------------------------------------------------

#: ``add`` options given as they stand (the key from :data:`msgsess.spec.FLAG_KEYS`).
_SCALARS = (
    "msg_id",
    "output",
    "msg_class",
    "subject",
    "from_addr",
    "sender",
    "date",
    "importance",
    "sensitivity",
    "message_id",
    "flag",
    "due",
    "eml",
)
#: ``add`` options given once per value, kept as lists.
_LISTS = ("to", "cc", "bcc", "reply_to", "category", "header")


class OptionConflict(InvalidParameter):
    """Options of ``msgsess add`` that exclude or need each other (the command line: a usage error)."""


def spec_from_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The spec ``msgsess add``'s options describe (option parameter name -> value, as click
    gives them; see :data:`msgsess.spec.FLAG_KEYS`), checked against the schema: body, HTML and
    RTF files (``-`` is stdin) read now, ``--set PROP=VALUE`` parsed. Options that exclude or
    need each other are :class:`OptionConflict`, found in the order the options are read."""
    from msgsess import session as _use
    from msgsess.session import inputs as _inputs
    from msgsess.session import jsonspec as _jsonspec
    from msgsess.spec import FLAG_KEYS

    spec: dict[str, Any] = {}
    for param in _SCALARS:
        if options.get(param) is not None:
            spec[FLAG_KEYS[param]] = options[param]
    if options.get("draft") and options.get("sent"):
        raise OptionConflict("give --draft or --sent, not both")
    if options.get("draft") or options.get("sent"):
        spec["draft"] = bool(options.get("draft"))
    stdin = [f"--{k.replace('_', '-')} -" for k in ("eml", "body_file", "html_file") if options.get(k) == "-"]
    if len(stdin) > 1:
        raise OptionConflict(f"{stdin[0]} and {stdin[1]} both read stdin; give one of them a file")
    for key in ("body", "html"):
        path = options.get(f"{key}_file")
        if path is not None and options.get(key) is not None:
            raise OptionConflict(f"give --{key} or --{key}-file, not both")
        if path is not None:
            spec[key] = _inputs.read_body(path, f"--{key}-file")
        elif options.get(key) is not None:
            spec[key] = options[key]
    if options.get("rtf_file") is not None:
        if "html" in spec:
            raise OptionConflict("give --html/--html-file or --rtf-file, not both")
        spec["rtf"] = _inputs.read_rtf(options["rtf_file"])
    kind = options.get("kind") or "mail"
    if options.get("due") is not None and options.get("flag") is None and kind == "mail":
        raise OptionConflict("--due needs --flag TEXT (the follow-up flag it is the due date of)")
    spec.update(_item_options(options, kind))
    for flag in ("read_receipt", "delivery_receipt", "template"):
        if options.get(flag):
            spec[flag] = True
    for param in _LISTS:
        if options.get(param):
            spec[FLAG_KEYS[param]] = list(options[param])
    if options.get("attach"):
        spec["attachments"] = [{"file": path} for path in options["attach"]]
    if options.get("set_props"):
        _refuse_two_answers(spec, options)
        _use.add_properties(spec, list(options["set_props"]))
    return _jsonspec.validate(spec, "command line")


def add_from_options(
    session: Session, options: Mapping[str, Any], *, replace: bool = False, warn: Warn | None = None
) -> str:
    """Add the message ``msgsess add``'s options describe (:func:`spec_from_options`); return its id.

    An error about a spec key names the option the user typed (``--all-day``, not ``all_day``:
    :func:`msgsess.spec.typed_as`); a spec from JSON or the API keeps the key's name.
    """
    from msgsess.spec import typed_as

    with typed_as(options):
        try:
            return session.add(spec_from_options(options), replace=replace, warn=warn)
        except MsgsessError as exc:
            _as_typed(exc)
            raise


def _as_typed(exc: MsgsessError) -> None:
    """Rename the key ``exc`` is located at (the place after the message's, or the schema's
    ``$.key``) as the user typed it, while :func:`msgsess.spec.typed_as` holds."""
    from msgsess.spec import KEYS, spelled

    if len(exc.where) > 1:
        place = exc.where[1]
        key = place[2:].partition("[")[0].partition(".")[0] if place.startswith("$.") else place
        if key in KEYS:
            exc.where = (exc.where[0], spelled(key), *exc.where[2:])


def _flag_of(key: str, options: Mapping[str, Any]) -> str:
    """The option that gave spec key ``key``, as the user typed it."""
    from msgsess.spec import spelled, typed_as

    with typed_as(options):
        return spelled(key)


def _refuse_two_answers(spec: dict[str, Any], options: Mapping[str, Any]) -> None:
    """A flag and a --set of a property the flag writes: an option conflict naming both."""
    from msgsess.errors import MsgsessError
    from msgsess.session.props import key_setting

    for item in options["set_props"]:
        name = item.partition("=")[0].strip()
        try:
            key = key_setting(spec, name)
        except MsgsessError:
            continue  # an unknown name: --set itself says so
        if key is not None:
            raise OptionConflict(
                f"{_flag_of(key, options)} and --set {name}=… both set {name}; give one of them"
            )


def _item_options(options: Mapping[str, Any], kind: str) -> dict[str, Any]:
    """The item keys of ``add``'s options (:data:`msgsess.spec.ITEMS`); a field of another kind
    than ``--kind`` is an :class:`OptionConflict` naming the option and the kind."""
    from msgsess.spec import ITEMS

    given = [(param, key) for param, key in ITEMS.flags if options.get(param) not in (None, ())]
    if kind not in ("mail", "task") and options.get("due") is not None:
        given.insert(0, ("due", "due"))
    spec: dict[str, Any] = {}
    if not given:
        return spec  # mail: msgsess.items (and the property tables) stay unloaded
    from msgsess.items import KIND_KEYS, KINDS
    from msgsess.items.contact import MAX_EMAILS

    own = KIND_KEYS[kind] | {"kind"}
    for param, key in given:
        flag = "--" + param.replace("_", "-")
        if key not in own:
            owners = [k for k in KINDS if key in KIND_KEYS[k]]
            hint = f"; give --kind {owners[0]}" if kind == "mail" else ""
            raise OptionConflict(f"{flag} is a field of kind {', '.join(owners)}, not of kind {kind}{hint}")
        value = options[param]
        if isinstance(value, tuple):
            value = list(value)
        if key == "emails" and kind == "contact" and len(value) > MAX_EMAILS:
            raise OptionConflict(
                f"--email is given {len(value)} times; a contact holds {MAX_EMAILS} e-mail addresses: "
                f"keep {MAX_EMAILS}, or make a distribution list (--kind distlist --member ADDR)"
            )
        if key == "reminder" and kind in ("appointment", "meeting"):
            if not str(value).isdigit():
                raise OptionConflict(
                    f"--reminder takes MINUTES before the start for kind {kind}, not {value!r}"
                )
            value = int(value)
        elif key == "reminder" and str(value).isdigit():
            raise OptionConflict(
                f"--reminder takes a date and time (ISO 8601) for kind {kind}, not {value!r}"
            )
        spec[key] = value
    return spec


def stdin_bytes(what: str) -> bytes | bytearray:
    """All of stdin (``dump -``), within the limit on inputs; ``what`` names it in errors."""
    from msgsess.inputs import read_stdin

    return read_stdin(what)


def printable(text: str, *, eight_bit: bool = False) -> str:
    """Text from a file made safe to print: control and bidirectional characters, bytes that
    are no text (``eight_bit``: of an 8-bit string) and lone surrogates escaped (``\\x1b``)."""
    from msgsess.props.printable import printable as _printable

    return _printable(text, eight_bit=eight_bit)


def read_text_input(path: str, what: str) -> str:
    """UTF-8 text from a file or, for ``-``, stdin (``add --json``'s input)."""
    from msgsess.session import inputs as _inputs

    return _inputs.read_utf8(path, what)


def read_bytes_input(path: str, what: str) -> bytes:
    """The bytes of a file or, for ``-``, stdin (``add --ics``/``--vcard``'s input)."""
    from msgsess.inputs import read_input

    return read_input(path, what)


# --- what the command line needs besides sessions ----------------------------------------------------


def property_names() -> list[str]:
    """Every property name the tables know (PidTag…, PidLid…, PR_…), for completion."""
    from msgsess.props import registry

    return registry.known_names()


def named_spellings(property_set: str) -> list[str]:
    """``SET:name`` spellings of the named properties the tables know in a property set."""
    from msgsess.props import registry

    return registry.named_spellings(property_set)


def property_set_names() -> list[str]:
    """The names of the property sets (``PS_PUBLIC_STRINGS``, ``PSETID_Common``…)."""
    from msgsess.props import registry

    return registry.set_names()


def type_names() -> list[str]:
    """The property type names ``--type`` takes (PT_LONG…, single-valued first)."""
    from msgsess.props import types as t

    names = [t.type_name(code) for code in sorted(t.VALUE_TYPES)]
    names += [t.type_name(code) for code in sorted(t.MV_TYPES)]
    return list(dict.fromkeys(names))


def parse_codepage(text: str, *, ansi: bool = False) -> int:
    """A code page from its number or name (``1251``, ``windows-1251``, ``koi8-r``); with
    ``ansi``, one that ANSI strings can be written in (``utf-8`` is refused)."""
    from msgsess.oxmsg import codepages

    return codepages.parse_ansi_codepage(text) if ansi else codepages.parse_codepage(text)


def codepage_names() -> tuple[str, ...]:
    """The code page names completion offers."""
    from msgsess.oxmsg.codepages import COMMON_NAMES

    return tuple(COMMON_NAMES)


def export(
    source: PathLike, target: PathLike | None = None, *, crlf: bool = False, force: bool = False
) -> bytes:
    """A ``.msg`` file as MIME mail (RFC 5322, ``docs/EML.md``): written to ``target``
    atomically (an existing file only with ``force``), and returned."""
    from pathlib import Path

    from msgsess.convert import export_file

    return export_file(os.fspath(source), None if target is None else Path(target), crlf=crlf, force=force)


def export_items(
    sources: Iterable[PathLike], fmt: str, target: PathLike | None = None, *, force: bool = False
) -> bytes:
    """Items of ``.msg`` files as one iCalendar (``fmt`` ``"ics"``: appointments, meeting
    requests, tasks) or vCard file (``"vcard"``: contacts), UTF-8 with CRLF: written to
    ``target`` atomically (an existing file only with ``force``), and returned. A file of
    another kind is refused, naming it."""
    from pathlib import Path

    from msgsess import cfb, items
    from msgsess.errors import Collision
    from msgsess.items.ical import to_ics
    from msgsess.items.vcard import to_vcf

    if fmt not in ("ics", "vcard"):
        raise InvalidParameter(f"unknown item format {fmt!r}", hint="give ics or vcard")
    if target is not None and not force and (Path(target).exists() or Path(target).is_symlink()):
        raise Collision(f"{os.fspath(target)} exists", hint="remove it, or give --force to replace it")
    wanted = ("appointment", "meeting", "task") if fmt == "ics" else ("contact",)
    messages = []
    for source in sources:
        msg = read(source)
        kind = items.kind_of(msg)
        if kind not in wanted:
            other = "--vcard for contacts" if fmt == "ics" else "--ics for appointments, meetings and tasks"
            raise InvalidParameter(
                f"is a {kind}, not {' or '.join(wanted)}", hint=f"export it as .eml, or with {other}"
            ).at(os.fspath(source))
        messages.append(msg)
    text = to_ics(messages) if fmt == "ics" else to_vcf(messages)
    data = text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")
    if target is not None:
        cfb.write_bytes_atomic(data, Path(target))
    return data


def item_of(message: Message) -> dict[str, Any] | None:
    """An item's fields as spec keys (``kind``, ``start``, ``recurrence``…: what ``add --json``
    takes), read from its properties; None for mail."""
    if _is_mail(message):
        return None
    from msgsess import items

    return items.read(message)


def _is_mail(message: Message) -> bool:
    """A mail, not an item: known without importing :mod:`msgsess.items`."""
    from msgsess.props import ids

    return ids.kind_of_class(str(message.props.value(ids.MESSAGE_CLASS, ""))) == "mail"


def item_fields(item: Message | Mapping[str, Any]) -> list[tuple[str, str]]:
    """An item's fields for people, as (label, text): its kind, when (start and end, or all
    day, in its time zone), its recurrence in words, location, people…; ``[]`` for mail.

    ``item`` is a message (a ``.msg`` read) or a spec as a session holds it (composed without
    bodies or attachment bytes to find the words)."""
    if not isinstance(item, Mapping):
        if _is_mail(item):
            return []
        from msgsess import items

        return items.words(item)
    import json

    from msgsess.spec import ITEMS

    given = [(key, value) for key, value in item.items() if key in ITEMS.keys]
    if "source" in item:  # an edited file's changes: as given
        return [(key, value if isinstance(value, str) else json.dumps(value)) for key, value in given]
    if item.get("kind", "mail") == "mail":
        return []
    from msgsess import items
    from msgsess.composer import compose as _compose
    from msgsess.errors import MsgsessError
    from msgsess.props.types import FileTime

    light = {k: v for k, v in item.items() if k not in ("id", "output", "attachments", "photo")}
    try:
        label = f"message {item['id']}" if "id" in item else "message"  # as close names it
        words = items.words(_compose(light, now=FileTime(0), read_blob=lambda _sha: b"", label=label))
    except MsgsessError:  # a spec stored by another version: its keys as they are
        return [(key, value if isinstance(value, str) else json.dumps(value)) for key, value in given]
    # A global object id not given is made when the message is written: none to show yet.
    return [(label, text) for label, text in words if label != "uid" or "uid" in item]


def convert(
    inputs: Iterable[PathLike],
    out_dir: PathLike,
    *,
    jobs: int = 1,
    unicode: bool = True,
    codepage: int | str | None = None,
    force: bool = False,
    crlf: bool = False,
) -> Conversion:
    """Convert mail files each on its own (``msgsess convert``): ``.eml`` and mbox to ``.msg``,
    ``.msg`` to ``.eml``, into ``out_dir`` (folders searched recursively, their paths kept).

    Per-file results, not all or nothing: a failure is a result with status ``failed`` and
    the error's line, the others are written (atomically). An output that exists is
    ``skipped`` unless ``force``. ``jobs`` worker processes; ANSI outputs with
    ``unicode=False`` (``codepage`` default 1252).
    """
    from msgsess.convert import Options, plan, run
    from msgsess.oxmsg.codepages import check_codepage
    from msgsess.results import Conversion

    cp = _codepage(codepage)
    if cp is not None and unicode:
        raise InvalidParameter("a code page is for ANSI outputs", hint="pass unicode=False with it")
    if cp is not None:
        check_codepage(cp)
    options = Options(unicode=unicode, codepage=cp or 1252, force=force, crlf=crlf)
    tasks, refused = plan([os.fspath(i) for i in inputs], os.fspath(out_dir))

    def results() -> Iterator[ConvertResult]:
        yield from refused
        yield from run(tasks, options, jobs=jobs)

    return Conversion(len(tasks) + len(refused), results())


def extract(
    path: PathLike,
    directory: PathLike,
    *,
    embedded: str = "msg",
    force: bool = False,
    skipped: Callable[[Skipped], None] | None = None,
) -> tuple[Plan, list[Written]]:
    """Write every attachment of a ``.msg`` file into ``directory`` (``msgsess extract``): the
    plan (the files, and what had nothing to extract: given to ``skipped`` first) and what was
    written, all of it or (on error) none. Embedded messages as ``.msg`` files, or ``.eml``."""
    from pathlib import Path

    from msgsess import cfb
    from msgsess.extract import plan
    from msgsess.inputs import read_input
    from msgsess.savedir import save
    from msgsess.session.inputs import read_msg

    name = os.fspath(path)
    result = plan(read_msg(read_input(name, "extract"), name), embedded=embedded, storage_bytes=cfb.to_bytes)
    for entry in result.skipped:
        if skipped is not None:
            skipped(entry)
    written = save(Path(directory), [(f.filename, f.data) for f in result.files], force=force)
    return result, written
