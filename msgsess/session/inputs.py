"""Inputs of a command, captured before its transaction: bodies, RTF, base64, ``.msg`` bytes, specs.

Everything a command takes in (attachment files, bodies, JSON, the ``.msg`` files ``edit`` and
``attach --msg`` take) is read (by :mod:`msgsess.inputs`, the one reader of files), decoded and
hashed here, before the session is locked, so that a slow disk or a big file never keeps other
commands waiting. A failure is kept in a
:class:`Loaded` and raised when the input is stored, in the order of the checks and located at
the message and entry it belongs to (see :meth:`msgsess.errors.MsgsessError.at`).
"""

from __future__ import annotations

import binascii
import hashlib
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from msgsess.errors import InvalidParameter, MsgsessError, NotFound, located, out_of_memory
from msgsess.inputs import read_input, read_stdin
from msgsess.oxmsg.codepages import check_codepage
from msgsess.session import jsonspec
from msgsess.session import props as sprops

if TYPE_CHECKING:
    from msgsess.model import Message
    from msgsess.session.store import Store


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
    return hashlib.sha256(data).hexdigest()


def check_msg_bytes(data: bytes, name: str) -> None:
    """Refuse bytes that are not a readable .msg file (an embedded .msg is checked when added)."""
    read_msg(data, name)


@dataclass
class Loaded:
    """Input read, decoded and hashed before the write transaction: what the spec stores and the
    bytes to put in the session, or the error to raise (in the order of the checks) when storing.
    The error is located when it is raised, where the message and the entry are known.
    """

    stored: dict[str, Any] = field(default_factory=dict)
    blobs: dict[str, bytes] = field(default_factory=dict)
    error: MsgsessError | None = None

    def keep(self, data: bytes) -> str:
        sha = sha256(data)
        self.blobs[sha] = data
        return sha

    def store_into(self, store: Store, *where: str) -> dict[str, Any]:
        """Put the bytes into the session (inside its transaction); the stored form of the input.

        A read error is raised now, located at ``where`` (outermost first).
        """
        if self.error is not None:
            exc = self.error
            for place in reversed(where):
                exc.at(place)
            raise exc
        for sha, data in self.blobs.items():
            store.put_blob(sha, data)
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
        raise NotFound(
            f"{path} is a folder, not a file",
            hint=f"attach the files in it, e.g. {shown}/*, one by one",
        )


def load_attachment(att: dict[str, Any], *, validate: bool = False) -> Loaded:
    """An attachment spec as stored: file and base64 sources become blobs of the session.

    With ``validate`` the spec is first checked against the schema (``attach``'s input).
    """

    def read(loaded: Loaded) -> dict[str, Any]:
        if validate:
            jsonspec.validate_part(att, "#/$defs/attachment", "")
        rest = {k: v for k, v in att.items() if k not in ("file", "data", "msg", "msg_data", "message")}
        if "file" in att:
            _no_folder(att["file"])
            source: dict[str, Any] = {"blob": loaded.keep(read_input(att["file"]))}
            rest.setdefault("name", os.path.basename(att["file"]))
        elif "data" in att:
            source = {"blob": loaded.keep(decode_base64(att["data"]))}
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


#: A character no text of a spec may hold: NUL, or half of a surrogate pair.
BAD_CHAR = re.compile("[\x00\ud800-\udfff]")


def has_bad_text(value: Any) -> bool:
    """Whether a string of the spec (keys too; not the captured source) holds a NUL or surrogate."""
    if isinstance(value, str):
        return BAD_CHAR.search(value) is not None
    if isinstance(value, dict):
        return any(
            has_bad_text(key) or (key != "source" and has_bad_text(item)) for key, item in value.items()
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


@dataclass
class Input:
    """A spec to add with its files read: the source of an edited message, each attachment."""

    where: str
    spec: dict[str, Any]
    source: Loaded | None
    attachments: list[Loaded] | None
    #: An error reading the input itself (JSON syntax…), raised after the specs before it.
    error: MsgsessError | None = None
    #: Text the spec cannot hold (NUL…), raised once its label is known; its files are not read.
    text_error: Loaded | None = None
    #: A contact's picture (``photo``) given as a file or base64, captured as a blob.
    photo: Loaded | None = None


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
    atts = spec.get("attachments")
    if not isinstance(atts, list):
        return Input(where, spec, source, None, photo=photo)
    loaded = [load_attachment(att) for att in atts]
    if any("data" in att or "msg_data" in att for att in atts):
        # Their bytes are in `loaded` now: the base64 text (as large again) need not stay.
        light = [{k: v for k, v in att.items() if k not in ("data", "msg_data")} for att in atts]
        spec = {**spec, "attachments": light}
    return Input(where, spec, source, loaded, photo=photo)


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


def load_specs(specs: Iterable[tuple[str, dict[str, Any]]]) -> list[Input]:
    """Every spec with its files read, before the transaction; an input error ends the list."""
    inputs: list[Input] = []
    try:
        for where, spec in specs:
            inputs.append(load_spec(where, spec))
    except MsgsessError as exc:
        inputs.append(Input("", {}, None, None, exc))
    return inputs


def read_msg(data: bytes | bytearray | Path, name: str, codepage: int | None = None) -> Message:
    """Decode a ``.msg`` file, its bytes or its path; damaged input is one error naming ``name``.

    The one import path of ``edit``, ``attach --msg``, ``dump`` and ``close``: the compound file
    is read with the limits for hostile input (:func:`msgsess.cfb.read_bytes`, or for a path
    :func:`msgsess.cfb.read_file`, which reads the streams without holding the whole file),
    then decoded.
    """
    from msgsess import cfb, oxmsg

    tree = cfb.read_file(data) if isinstance(data, Path) else cfb.read_bytes(data, name)
    try:
        return oxmsg.decode(tree, codepage=codepage, label=name)
    except MemoryError:
        del tree
        raise out_of_memory(f"decode {name}") from None


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
