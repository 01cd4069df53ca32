"""Inputs of a command: bodies, RTF, base64, ``.msg`` bytes, specs, attachment files.

Everything a command takes in (attachment files, bodies, JSON, the ``.msg`` files ``edit`` and
``attach --msg`` take) is read by :mod:`msgsess.inputs` (the one reader of files) and decoded
here, before the session is locked where that holds little: an attachment file over
:data:`WHOLE` (or past one message's :data:`READ_AHEAD`) is copied into the session when it is
stored, in chunks (:meth:`~msgsess.session.store.Store.capture_file`), so that no process holds
a whole attachment, whatever its size; ``add --json`` reads each spec as it gets to it. A failure is
kept in a :class:`Loaded` and raised when the input is stored, in the order of the checks and
located at the message and entry it belongs to (see :meth:`msgsess.errors.MsgsessError.at`).
"""

from __future__ import annotations

import binascii
import os
import re

from msgsess.errors import InvalidParameter, MsgsessError, located
from msgsess.inputs import folder_given, open_input, read_input, read_stdin
from msgsess.records import Frozen, Record
from msgsess.session import jsonspec
from msgsess.session import props as sprops
from msgsess.spec import BASE_KEYS

TYPE_CHECKING = False  # no typing, dataclasses or the codec at run time: add imports this module
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from pathlib import Path
    from typing import Any

    from msgsess.model import Message
    from msgsess.session.store import Store


def read_msg(data: bytes | bytearray | Path, name: str, codepage: int | None = None) -> Message:
    """:func:`msgsess.msgfile.read_msg`, loaded when a ``.msg`` file is read (``add`` of a plain
    mail reads none)."""
    from msgsess.msgfile import read_msg as read

    return read(data, name, codepage)


def read_utf8(path: str, what: str) -> str:
    """A UTF-8 text input (a file, or stdin for ``-``), as it is."""
    data = read_stdin(what) if path == "-" else read_input(path, what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        name = "stdin" if path == "-" else path
        raise InvalidParameter(
            f"{name} is not UTF-8 text (byte {exc.start})", hint="convert the file to UTF-8"
        ).at(what) from None


def read_body(path: str, what: str) -> str:
    """A body from a UTF-8 file, or stdin for ``-``: as it is (CRLF kept), without a leading BOM."""
    text = read_utf8(path, what)
    return text[1:] if text.startswith("\ufeff") else text


def read_rtf(path: str, what: str = "--rtf-file") -> str:
    """An RTF file as is: its bytes as Latin-1 text, so that close writes the very same bytes."""
    data = read_input(path, what)
    if not data.lstrip().startswith(b"{\\rtf"):
        raise InvalidParameter(
            f"{path} is not an RTF file (it does not start with {{\\rtf)",
            hint="give an .rtf file, or the text with --body / --html",
        ).at(what)
    return data.decode("latin-1")


_SPACE = re.compile(r"\s")


def decode_base64(text: str) -> bytes:
    """Decode base64 text (line breaks and spaces allowed); InvalidParameter if it is not base64.

    Decoded from the str itself: ``base64.b64decode`` would first copy the text into bytes,
    another 150 MB for a 112 MB attachment given in JSON.
    """
    if _SPACE.search(text):
        text = "".join(text.split())
    try:
        return binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError):
        raise InvalidParameter("data is not valid base64", hint="give the bytes base64-encoded") from None


def sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def check_msg_bytes(data: bytes, name: str) -> None:
    """Refuse bytes that are not a readable .msg file (an embedded .msg is checked when added)."""
    read_msg(data, name)


#: Attachment bytes up to this size are read whole (a file before the session is locked, as
#: every other input) and stored in one piece; larger ones are copied into the session in
#: chunks when their spec is stored, hashed on the way (:meth:`Store.capture`).
WHOLE = 1 << 20
#: At most this many bytes of one message's attachment files are read ahead of storing it;
#: its further files are copied in when stored, whatever their size.
READ_AHEAD = 16 << 20


class ReadAhead(Record):
    """What is left of :data:`READ_AHEAD` for the attachment files of one message (or ``attach``)."""

    __slots__ = _fields = ("left",)

    def __init__(self, left: int = READ_AHEAD) -> None:
        self.left = left


class PendingFile(Frozen):
    """An attachment file larger than :data:`WHOLE`, copied into the session when its spec is
    stored: in place of the ``blob`` hash of the stored spec until then (:meth:`Loaded.store_into`)."""

    __slots__ = _fields = ("path",)
    path: str

    def __init__(self, path: str) -> None:
        object.__setattr__(self, "path", path)

    def read(self) -> bytes:
        """The whole file (for a spec composed without a session: :func:`msgsess.compose`)."""
        return read_input(self.path)

    def capture(self, store: Store) -> str:
        """Copy the file into the session's blobs in chunks (inside its transaction); its hash."""
        with open_input(self.path) as f:
            size = os.fstat(f.fileno()).st_size
            try:
                sha = store.capture_file(f, size)
            except OSError as exc:
                raise InvalidParameter(
                    f"cannot read {self.path}: {exc.strerror}", hint="check the file"
                ) from None
        if sha is None:
            raise InvalidParameter(
                f"{self.path} changed while it was read", hint="add it again once nothing writes to it"
            )
        return sha


class PendingData(Frozen):
    """Decoded attachment bytes larger than :data:`WHOLE` (base64 ``data``), copied into the
    session in chunks when stored: SQLite would otherwise make a copy of them to bind them."""

    __slots__ = _fields = ("data",)
    data: bytes

    def __init__(self, data: bytes) -> None:
        object.__setattr__(self, "data", data)

    def read(self) -> bytes:
        return self.data

    def capture(self, store: Store) -> str:
        view = memoryview(self.data)
        sha = store.capture(lambda: (view[i : i + WHOLE] for i in range(0, len(view), WHOLE)), len(view))
        assert sha is not None  # the bytes cannot change on the way
        return sha


class Loaded(Record):
    """An input read and decoded: what the spec stores and the bytes to put in the session (or
    large ones to copy in when stored: :class:`PendingFile`, :class:`PendingData`), or the
    error to raise (in the order of the checks) when storing. The error is located when it is
    raised, where the message and the entry are known.
    """

    __slots__ = _fields = ("stored", "blobs", "error", "warnings")

    def __init__(self) -> None:
        self.stored: dict[str, Any] = {}
        self.blobs: dict[str, bytes] = {}
        self.error: MsgsessError | None = None
        #: What reading it had to repair or guess (a MIME message's defects), for ``add`` to warn.
        self.warnings: list[str] = []

    def keep(self, data: bytes) -> str:
        sha = sha256(data)
        self.blobs[sha] = data
        return sha

    def keep_attachment(self, data: bytes) -> str | PendingData:
        """Attachment bytes: hashed and kept now if small, else copied in when stored."""
        return self.keep(data) if len(data) <= WHOLE else PendingData(data)

    def _resolve(self, value: Callable[[PendingFile | PendingData], str]) -> None:
        if self.error is None:
            try:
                for key, item in self.stored.items():
                    if isinstance(item, (PendingFile, PendingData)):
                        self.stored[key] = value(item)
            except MsgsessError as failed:
                self.error = failed

    def store_into(self, store: Store, *where: str) -> dict[str, Any]:
        """Put the bytes into the session (inside its transaction); the stored form of the input.

        Large bytes are copied in now, in chunks and hashed on the way. A read error is raised
        now, located at ``where`` (outermost first).
        """
        self._resolve(lambda pending: pending.capture(store))
        if self.error is not None:
            error = self.error
            for place in reversed(where):
                error.at(place)
            raise error
        for sha, data in self.blobs.items():
            store.put_blob(sha, data)
        return self.stored

    def in_memory(self) -> dict[str, Any]:
        """The stored form with every file read into :attr:`blobs` (no session: ``msgsess.compose``)."""
        self._resolve(lambda pending: self.keep(pending.read()))
        return self.stored


def load(read: Callable[[Loaded], dict[str, Any]]) -> Loaded:
    """Run ``read(loaded)`` now, outside any transaction; keep its error for later."""
    loaded = Loaded()
    try:
        loaded.stored = read(loaded)
    except MsgsessError as exc:
        loaded.error = exc
    return loaded


def _no_folder(path: str) -> None:
    """A folder given to attach is no file to attach: NotFound (exit 4), as a missing file is."""
    try:
        folder = os.path.isdir(path)
    except (ValueError, TypeError):
        return  # no file name at all: read_input says so
    if folder:
        shown = path.rstrip("/\\") or path
        raise folder_given(path, hint=f"attach the files in it, e.g. {shown}/*, one by one")


def load_attachment(att: dict[str, Any], *, validate: bool = False, ahead: ReadAhead | None = None) -> Loaded:
    """An attachment spec as stored: file and base64 sources become blobs of the session.

    With ``validate`` the spec is first checked against the schema (``attach``'s input). A
    small file is read now while ``ahead`` (shared by the attachments of one message) allows;
    any other is copied in when the spec is stored.
    """
    budget = ahead if ahead is not None else ReadAhead()

    def read(loaded: Loaded) -> dict[str, Any]:
        if validate:
            jsonspec.validate_part(att, "#/$defs/attachment", "")
        rest = {k: v for k, v in att.items() if k not in ("file", "data", "msg", "msg_data", "message")}
        if "file" in att:
            path = att["file"]
            _no_folder(path)
            source: dict[str, Any] = {"blob": _attachment_file(loaded, path, budget)}
            rest.setdefault("name", os.path.basename(path))
        elif "data" in att:
            source = {"blob": loaded.keep_attachment(decode_base64(att["data"]))}
        elif "msg" in att:
            data = read_input(att["msg"])
            check_msg_bytes(data, att["msg"])
            source = {"msg_blob": loaded.keep(data)}
        elif "msg_data" in att:
            data = decode_base64(att["msg_data"])
            check_msg_bytes(data, "msg_data")
            source = {"msg_blob": loaded.keep(data)}
        else:
            source = {"message": att["message"]}
        return {**source, **rest}

    return load(read)


def _attachment_file(loaded: Loaded, path: str, ahead: ReadAhead) -> str | PendingFile | PendingData:
    """A small attachment file (or stdin) read now; a larger one left to copy in when stored."""
    if path != "-":
        with open_input(path) as f:  # the same refusals (missing, no regular file…) as a read
            size = os.fstat(f.fileno()).st_size
        if size > min(WHOLE, ahead.left):
            return PendingFile(path)
        ahead.left -= size
    return loaded.keep_attachment(read_input(path))


#: A character no text of a spec may hold: NUL, or half of a surrogate pair.
BAD_CHAR = re.compile("[\x00\ud800-\udfff]")


def has_bad_text(value: Any) -> bool:
    """Whether a string of the spec (keys too; not the captured source) holds a NUL or surrogate."""
    if isinstance(value, str):
        return BAD_CHAR.search(value) is not None
    if isinstance(value, dict):
        return any(
            has_bad_text(key) or (key not in BASE_KEYS and has_bad_text(item)) for key, item in value.items()
        )
    if isinstance(value, list):
        return any(has_bad_text(item) for item in value)
    return False


def check_text(spec: dict[str, Any]) -> None:
    """Refuse a spec with a NUL or an unpaired surrogate in any text — bodies, output and id
    included — naming the field (``body: NUL at character 3``).

    Run on every spec before it is stored: such text could not be stored (a surrogate is no
    UTF-8), or would only fail at ``close``. A fast scan first; the precise error from compose.
    """
    if has_bad_text(spec):
        from msgsess.composer import check_text as precise

        precise(spec)


class Input(Record):
    """A spec to add with its files read: the source of an edited message, each attachment.

    ``error``: an error reading the input itself (JSON syntax…), raised after the specs before
    it. ``text_error``: text the spec cannot hold (NUL…), raised once its label is known; its
    files are not read. ``photo``: a contact's picture (``photo``) given as a file or base64,
    captured as a blob. ``eml``: the MIME message a message starts from, read and parsed.
    """

    __slots__ = _fields = ("where", "spec", "source", "attachments", "error", "text_error", "photo", "eml")

    def __init__(
        self,
        where: str,
        spec: dict[str, Any],
        source: Loaded | None,
        attachments: list[Loaded] | None,
        error: MsgsessError | None = None,
        text_error: Loaded | None = None,
        photo: Loaded | None = None,
        eml: Loaded | None = None,
    ) -> None:
        self.where = where
        self.spec = spec
        self.source = source
        self.attachments = attachments
        self.error = error
        self.text_error = text_error
        self.photo = photo
        self.eml = eml


def load_spec(where: str, spec: dict[str, Any]) -> Input:
    # Text first: a NUL in a path is no file to read, and the error names the field.

    def read_text(_loaded: Loaded) -> dict[str, Any]:
        check_text(spec)
        return {}

    text = load(read_text)
    if text.error is not None:
        return Input(where, spec, None, None, text_error=text)
    captured = load(lambda _loaded: sprops.capture_spec_files(spec, read_input))  # `@path` values
    if captured.error is not None:
        return Input(where, spec, None, None, text_error=captured)
    spec = captured.stored
    source = None
    if "source" in spec:
        source = load_source(spec["source"])
    photo = load_photo(spec["photo"]) if "photo" in spec else None
    eml = None
    if "eml" in spec:
        eml = load_eml(spec["eml"])
        if isinstance(spec["eml"], dict) and "data" in spec["eml"]:
            spec = {**spec, "eml": {}}  # its bytes are in `eml` now
    atts = spec.get("attachments")
    if not isinstance(atts, list):
        return Input(where, spec, source, None, photo=photo, eml=eml)
    ahead = ReadAhead()
    loaded = [load_attachment(att, ahead=ahead) for att in atts]
    if any("data" in att or "msg_data" in att for att in atts):
        # Their bytes are in `loaded` now: the base64 text (as large again) need not stay.
        light = [{k: v for k, v in att.items() if k not in ("data", "msg_data")} for att in atts]
        spec = {**spec, "attachments": light}
    return Input(where, spec, source, loaded, photo=photo, eml=eml)


def load_photo(photo: Any) -> Loaded:
    """A contact picture (``photo``: a path or ``{"file"|"data": …}``) as stored: ``{"blob": sha}``."""

    def read(loaded: Loaded) -> dict[str, Any]:
        if isinstance(photo, str):
            return {"blob": loaded.keep(read_input(photo))}
        if isinstance(photo, dict) and "file" in photo:
            return {"blob": loaded.keep(read_input(str(photo["file"])))}
        if isinstance(photo, dict) and isinstance(photo.get("data"), str):
            return {"blob": loaded.keep(decode_base64(photo["data"]))}
        return dict(photo)  # already captured (a stored spec given back)

    return load(read)


def load_specs(specs: Iterable[tuple[str, dict[str, Any]]]) -> Iterator[Input]:
    """Each spec with its inputs read, as it comes (one at a time: ``add --json`` of any number
    of messages holds one); an input error (JSON syntax…) ends them."""
    try:
        for where, spec in specs:
            item = load_spec(where, spec)
            del spec  # its base64 data is decoded in `item`: the text is not held while it is stored
            yield item
    except MsgsessError as exc:
        yield Input("", {}, None, None, exc)


def source_info(msg: Message, fallback: int | None) -> dict[str, Any]:
    """String mode and table sizes of a decoded file (the ``info`` of a stored source)."""
    from msgsess.oxmsg import codepages
    from msgsess.props import ids

    info: dict[str, Any] = {
        "unicode": bool(msg.source_unicode),
        "codepage": None,
        "codepage_from": None,
        "recipients": len(msg.recipients),
        "attachments": len(msg.attachments),
    }
    if not msg.source_unicode:

        def long(pid: int) -> int | None:
            value = msg.props.value(pid)
            return value if isinstance(value, int) and not isinstance(value, bool) else None

        cp, reason = codepages.explain_ansi_codepage(
            long(ids.MESSAGE_CODEPAGE), long(ids.INTERNET_CODEPAGE), fallback
        )
        info["codepage"] = msg.source_codepage or cp
        info["codepage_from"] = reason if cp == info["codepage"] else "the decoder"
    return info


def load_source(source: dict[str, Any]) -> Loaded:
    """A source as ``add --json`` gives it -> the stored form: bytes read, decoded and hashed now,
    before the transaction that stores them (:meth:`Loaded.store_into`)."""

    def read(loaded: Loaded) -> dict[str, Any]:
        # Its path (and any other text but the bytes) is stored and printed: no NUL or unpaired
        # surrogate (a file name that is no UTF-8, `edit $'e\\xff.msg'`), as in any spec.
        text = {k: v for k, v in source.items() if k not in ("data", "blob")}
        if has_bad_text(text):
            from msgsess.composer import check_text

            check_text(text, "source")
        codepage = source.get("codepage")
        if isinstance(codepage, str):
            from msgsess.oxmsg.codepages import parse_codepage

            codepage = parse_codepage(codepage)  # a name, such as "windows-1251" or "koi8-r"
        if codepage is not None:
            from msgsess.oxmsg.codepages import check_codepage

            check_codepage(int(codepage))
        file = source.get("file")
        if source.get("data") is not None:
            with located("source"):
                data = decode_base64(str(source["data"]))
            name = str(file) if file else "source data"
        elif file:
            data = read_input(str(file))
            name = str(file)
        else:
            raise InvalidParameter(
                "give the .msg file's bytes (data) or its path (file)",
                hint='e.g. {"source": {"file": "old.msg"}}',
            ).at("source")
        msg = read_msg(data, name, codepage)
        stored: dict[str, Any] = {"blob": loaded.keep(data), "codepage": codepage}
        stored["info"] = source_info(msg, codepage)
        if file:
            stored["file"] = os.path.abspath(str(file))
        return stored

    return load(read)


def read_eml(data: bytes, name: str) -> tuple[Message, list[str]]:
    """Parse MIME mail bytes into a message; warnings say what was repaired or guessed.

    Only bytes that are not mail at all are refused (:class:`~msgsess.errors.CorruptFile`).
    """
    from msgsess.mime import eml_to_message

    return eml_to_message(data, label=name)


def eml_info(msg: Message) -> dict[str, Any]:
    """The sizes of a MIME message's tables as read (the ``info`` of a stored ``eml``)."""
    return {"recipients": len(msg.recipients), "attachments": len(msg.attachments)}


def load_eml(given: str | dict[str, Any], data: bytes | None = None, name: str | None = None) -> Loaded:
    """An ``eml`` as a spec gives it (a path, ``{"file"}`` or ``{"data"}``) -> the stored form:
    the bytes read (or ``data``, already read), parsed once to refuse what is no mail and to
    collect the warnings (each starting with ``name``, by default the file's), and hashed,
    before the transaction that stores them."""

    def read(loaded: Loaded) -> dict[str, Any]:
        eml = {"file": given} if isinstance(given, str) else given
        file = eml.get("file")
        if has_bad_text(file):
            from msgsess.composer import check_text

            check_text({"file": file}, "eml")
        raw = data
        if raw is None and eml.get("data") is not None:
            with located("eml"):
                raw = decode_base64(str(eml["data"]))
        elif raw is None and file:
            raw = read_input(str(file), "eml")  # "-": stdin
        elif raw is None:
            raise InvalidParameter(
                "give the MIME message's bytes (data) or its path (file)",
                hint='e.g. {"eml": "mail.eml"}',
            ).at("eml")
        label = name or ("stdin" if file == "-" else str(file) if file else "eml data")
        msg, warnings = read_eml(raw, label)
        loaded.warnings = [f"{label}: {text}" for text in warnings]
        stored: dict[str, Any] = {"blob": loaded.keep(raw), "info": eml_info(msg)}
        if file and file != "-":
            stored["file"] = os.path.abspath(str(file))
        return stored

    return load(read)
