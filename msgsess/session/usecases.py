"""Use cases of a session: open, add, recipient, attach, set, unset, show, discard.

Each function is one command: it opens the session, runs one transaction, and returns a
result; nothing here prints. Values are checked when they are given (names resolved, values
parsed, files read) so that errors come early and name the message, property and value; the
session keeps what the user wrote.
"""

from __future__ import annotations

import base64
import binascii
import functools
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from msgsess.errors import Collision, InvalidParameter, MsgsessError, NotFound
from msgsess.props.types import FileTime
from msgsess.session import jsonspec
from msgsess.session import props as sprops
from msgsess.session.store import Settings, Store, create_store, remove_store, transaction

if TYPE_CHECKING:
    from msgsess.model import Message

#: Receives one warning (a line of text naming the message) while a command runs.
Warn = Callable[[str], None]

#: Recipient lists in table order: recipients are numbered across to, cc, bcc in this order.
RECIPIENT_KINDS = ("to", "cc", "bcc")
#: PR_SUBJECT's property id.
_SUBJECT = 0x0037


def _read_file(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise NotFound(f"{what}: file {path} does not exist", hint="check the path") from None
    except IsADirectoryError:
        raise InvalidParameter(f"{what}: {path} is a folder, not a file", hint="give a file") from None
    except OSError as exc:
        raise InvalidParameter(
            f"{what}: cannot read {path}: {exc.strerror}", hint="check permissions"
        ) from None


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidParameter(
            f"{what}: data is not valid base64", hint="give the bytes base64-encoded"
        ) from None


def _put_blob(store: Store, data: bytes) -> str:
    import hashlib

    sha = hashlib.sha256(data).hexdigest()
    store.put_blob(sha, data)
    return sha


def check_msg_bytes(data: bytes, name: str) -> None:
    """Refuse bytes that are not a readable .msg file (an embedded .msg is checked when added)."""
    from msgsess.session.edit import read_msg

    read_msg(data, name)


def _capture_attachment(store: Store, att: dict[str, Any], what: str) -> dict[str, Any]:
    """An attachment spec as stored: file and base64 sources become blobs of the session."""
    rest = {k: v for k, v in att.items() if k not in ("file", "data", "msg", "msg_data", "message")}
    if "file" in att:
        data = _read_file(att["file"], what)
        source: dict[str, Any] = {"blob": _put_blob(store, data)}
        rest.setdefault("name", os.path.basename(att["file"]))
    elif "data" in att:
        source = {"blob": _put_blob(store, _b64(att["data"], what))}
    elif "msg" in att:
        data = _read_file(att["msg"], what)
        check_msg_bytes(data, att["msg"])
        source = {"msg_blob": _put_blob(store, data)}
    elif "msg_data" in att:
        data = _b64(att["msg_data"], what)
        check_msg_bytes(data, f"{what} msg_data")
        source = {"msg_blob": _put_blob(store, data)}
    else:
        source = {"message": att["message"]}
    return {**source, **rest}


#: Spec keys left out when checking a new spec by composing it: plain text the schema has
#: checked already, whose conversion (HTML to RTF…) would only cost time.
_BODY_KEYS = ("body", "html", "rtf")


def is_template(output: str | None, spec: dict[str, Any]) -> bool | None:
    """Whether a message is written as an Outlook template: ``"template"`` if given, else OUTPUT.oft.

    None for an edited file that nothing says to change: it keeps what it was.
    """
    if spec.get("template") is not None:
        return bool(spec["template"])
    if output is not None and output.lower().endswith(".oft"):
        return True
    return None if "source" in spec else False


def cid_warnings(msg_id: str, msg: Message) -> list[str]:
    """One warning per ``cid:`` the message's HTML refers to that no attachment's content id answers."""
    from msgsess.compose import missing_content_ids

    return [
        f"{msg_id}: HTML refers to cid:{cid} but no attachment has that content id "
        "(attach it with --content-id)"
        for cid in missing_content_ids(msg)
    ]


def _spec_cid_warnings(msg_id: str, spec: dict[str, Any]) -> list[str]:
    """The cid warnings ``add`` can give already: for a message added with its attachments.

    A message added without attachments may still get its inline images from
    ``attach --content-id``; ``close`` warns about it if it does not.
    """
    html, atts = spec.get("html"), spec.get("attachments")
    if not html or not atts or "cid:" not in html.lower():
        return []
    from msgsess.model import Attachment, Message
    from msgsess.props import ids
    from msgsess.props import types as t

    msg = Message()
    msg.props.set(ids.HTML, t.PT_BINARY, html.encode("utf-8", "surrogatepass"))
    for att in atts:
        entry = Attachment()
        if att.get("content_id"):
            entry.props.set(ids.ATTACH_CONTENT_ID, t.PT_UNICODE, str(att["content_id"]).strip().strip("<>"))
        msg.attachments.append(entry)
    return cid_warnings(msg_id, msg)


def check_composable(spec: dict[str, Any], label: str, settings: Settings) -> None:
    """Compose the spec once, without bodies and attachment bytes, to check addresses, dates…"""
    from msgsess.compose import compose
    from msgsess.model import Message
    from msgsess.session.edit import placeholder

    light = {k: v for k, v in spec.items() if k not in _BODY_KEYS}
    try:
        compose(
            light,
            now=FileTime(0),
            read_blob=lambda _sha: b"",
            embedded=lambda _att: Message(),
            label=label,
            unicode=settings.unicode,
            codepage=settings.codepage,
            base=placeholder(light),
        )
    except MsgsessError as exc:
        if label in exc.message:
            raise
        raise sprops.located(exc, label) from None


def _save_edit(store: Store, msg_id: str, spec: dict[str, Any]) -> None:
    """Check an edited spec as a whole (addresses, values…) and store it."""
    check_composable(spec, f"message {msg_id}", store.settings())
    store.update_spec(msg_id, spec)


def _store_spec(
    store: Store, spec: dict[str, Any], settings: Settings, warn: Warn | None = None
) -> tuple[str, list[str]]:
    """Insert one validated spec; return its id and the ids it embeds."""
    spec = dict(spec)
    msg_id = spec.pop("id", None) or store.new_id()
    label = f"message {msg_id}"
    output = spec.pop("output", None)
    from msgsess.session.edit import prepare

    output = prepare(store, spec, output, label)  # an edited message: capture its source file
    from msgsess.session.edit import check_room

    check_room(spec, "recipients", 0, label)
    check_room(spec, "attachments", 0, label)
    if "html" in spec and "rtf" in spec:
        raise InvalidParameter(
            f"{label}: give an HTML body or an RTF body, not both",
            hint="Outlook keeps HTML inside the RTF body itself: give the HTML alone",
        )
    if output is not None:
        output = os.path.abspath(output)
        owner = store.output_owner(output)
        if owner is not None:
            raise Collision(
                f"{label}: output {output} is already the output of message {owner}",
                hint="give each message its own output file",
            )
    children: list[str] = []
    if "attachments" in spec:
        captured = []
        for i, att in enumerate(spec["attachments"]):
            captured.append(_capture_attachment(store, att, f"{label}: attachment {i}"))
            if "message" in att:
                children.append(att["message"])
        spec["attachments"] = captured
    check_composable({**spec, "template": True} if is_template(output, spec) else spec, label, settings)
    store.insert(msg_id, output, spec)
    if warn is not None:
        for text in _spec_cid_warnings(msg_id, spec):
            warn(text)
    for child in children:
        store.add_embed(msg_id, child)
    return msg_id, children


def _embed_path(store: Store, parent: str, child: str) -> list[str] | None:
    """A chain child → … → parent through embedded messages, if one exists (a cycle to be)."""
    stack: list[tuple[str, list[str]]] = [(child, [child])]
    seen: set[str] = set()
    while stack:
        node, chain = stack.pop()
        if node == parent:
            return chain
        if node in seen:
            continue
        seen.add(node)
        stack.extend((c, [*chain, c]) for c in store.children(node))
    return None


def _check_embed(store: Store, parent: str, child: str, what: str) -> None:
    if not store.exists(child):
        raise NotFound(
            f"{what}: no message with id {child!r} to embed",
            hint=f"add it first, or list the ids with `msgsess show {store.path}`",
        )
    chain = _embed_path(store, parent, child)
    if chain is not None:
        cycle = " → ".join([parent, *chain])
        raise InvalidParameter(
            f"{what}: embedding {child} in {parent} makes a cycle: {cycle}",
            hint="a message cannot contain itself; embed a copy instead",
        )


# --- open / discard --------------------------------------------------------------------------


def open_session(path: str | os.PathLike[str], *, ansi: bool, codepage: int | None, force: bool) -> Path:
    """Create a session file (Unicode unless ``ansi``; code page 1252 unless given)."""
    if codepage is not None and not ansi:
        raise InvalidParameter("--codepage needs --ansi", hint="add --ansi, or leave --codepage out")
    cp = 1252 if codepage is None else codepage
    if ansi:
        check_codepage(cp)
    return create_store(path, unicode=not ansi, codepage=cp, force=force)


def check_codepage(codepage: int) -> None:
    import codecs

    from msgsess.oxmsg import codepages

    try:
        codecs.lookup(codepages.codec(codepage))
    except (LookupError, MsgsessError):
        raise InvalidParameter(
            f"code page {codepage} is not one msgsess can write", hint="give e.g. 1252, 1251, 932 or 65001"
        ) from None


def discard(path: str | os.PathLike[str]) -> None:
    """Remove a session without writing anything (waits for running commands)."""
    with transaction(path, write=True) as store:
        store.mark_closed()
    remove_store(path)


# --- add -------------------------------------------------------------------------------------


def add(
    path: str | os.PathLike[str],
    specs: Iterable[tuple[str, dict[str, Any]]],
    *,
    warn: Warn | None = None,
) -> list[str]:
    """Add messages (``(where, spec)`` pairs, specs valid for the schema); return their ids.

    One transaction: if any spec is refused, none is added. Paths are read relative to the
    current folder; outputs are kept as absolute paths. ``warn`` receives warnings about
    messages that are added all the same (HTML referring to a missing ``cid:``).
    """
    ids: list[str] = []
    warnings: list[str] = []
    with transaction(path, write=True) as store:
        pending: list[tuple[str, str, str]] = []
        settings = store.settings()
        for where, spec in specs:
            try:
                msg_id, children = _store_spec(store, spec, settings, warnings.append)
            except MsgsessError as exc:
                raise sprops.located(exc, where) if where else exc from None
            ids.append(msg_id)
            pending.extend((where, msg_id, child) for child in children)
        for where, parent, child in pending:
            try:
                _check_embed(store, parent, child, f"message {parent}")
            except MsgsessError as exc:
                raise sprops.located(exc, where) if where else exc from None
    if warn is not None:
        for text in warnings:
            warn(text)
    return ids


# --- recipients and attachments --------------------------------------------------------------


def add_recipients(path: str | os.PathLike[str], msg_id: str, kind: str, addresses: list[str]) -> list[int]:
    """Append recipients of one kind (to, cc, bcc); return their numbers in table order.

    More than a .msg holds (2048, the edited file's own included) is refused: TooBig.
    """
    if kind not in RECIPIENT_KINDS:
        raise InvalidParameter(f"unknown recipient kind {kind!r}", hint="give to, cc or bcc")
    with transaction(path, write=True) as store:
        row = store.get(msg_id)
        spec = row.spec
        from msgsess.session.edit import check_room, kept_originals

        check_room(spec, "recipients", len(addresses), f"message {msg_id}")
        for i, addr in enumerate(addresses):
            jsonspec.validate_part(addr, "#/$defs/address", f"message {msg_id}", f"$.{kind}[{i}]")
        spec[kind] = [*spec.get(kind, []), *addresses]
        _save_edit(store, msg_id, spec)

        before = kept_originals(spec, "recipients")
        before += sum(len(spec.get(k, [])) for k in RECIPIENT_KINDS[: RECIPIENT_KINDS.index(kind)])
        end = before + len(spec[kind])
        return list(range(end - len(addresses), end))


def attach(path: str | os.PathLike[str], msg_id: str, attachments: list[dict[str, Any]]) -> list[int]:
    """Append attachments (specs of the schema's attachment form); return their numbers.

    More than a .msg holds (2048, the edited file's own included) is refused: TooBig.
    """
    with transaction(path, write=True) as store:
        spec = store.get(msg_id).spec
        from msgsess.session.edit import check_room, kept_originals

        check_room(spec, "attachments", len(attachments), f"message {msg_id}")
        current = spec.setdefault("attachments", [])
        kept = kept_originals(spec, "attachments")
        numbers = []
        for att in attachments:
            number = kept + len(current)
            what = f"message {msg_id}: attachment {number}"
            jsonspec.validate_part(att, "#/$defs/attachment", what)
            if "message" in att:
                _check_embed(store, msg_id, att["message"], f"message {msg_id}")
            current.append(_capture_attachment(store, att, what))
            if "message" in att:
                store.add_embed(msg_id, att["message"])
            numbers.append(number)
        _save_edit(store, msg_id, spec)
        return numbers


# --- properties ------------------------------------------------------------------------------


def _property_bag(spec: dict[str, Any], recipient: int | None, attachment: int | None, label: str) -> Any:
    """The ``properties`` object to edit: the message's, a recipient's or an attachment's."""
    if recipient is not None and attachment is not None:
        raise InvalidParameter("give --recipient or --attachment, not both")
    from msgsess.session import edit

    # Numbers as `show` gives them; in an edited message the file's own rows come first.
    if recipient is not None:
        kind, index = edit.row(spec, "recipients", recipient, label)
        if kind == edit.ORIGINAL:
            return edit.original_properties(spec, "recipients", index)
        entry = spec[kind][index]
        if isinstance(entry, str):
            entry = spec[kind][index] = {"address": entry}
        return entry.setdefault("properties", {})
    if attachment is not None:
        kind, index = edit.row(spec, "attachments", attachment, label)
        if kind == edit.ORIGINAL:
            return edit.original_properties(spec, "attachments", index)
        return spec["attachments"][index].setdefault("properties", {})
    return spec.setdefault("properties", {})


def _drop_spellings(bag: dict[str, Any], name: str) -> None:
    """Remove every key of ``bag`` that names the same property as ``name``."""
    target = sprops.identity(name)
    for key in [k for k in bag if k == name or sprops.identity(k) == target]:
        del bag[key]


def _tidy(spec: dict[str, Any]) -> None:
    """Drop empty ``properties`` objects; a recipient without properties is its address again."""
    if spec.get("properties") == {}:
        del spec["properties"]
    for kind in RECIPIENT_KINDS:
        for i, entry in enumerate(spec.get(kind, ())):
            if isinstance(entry, dict) and not entry.get("properties"):
                spec[kind][i] = entry["address"]
    for att in spec.get("attachments", ()):
        if att.get("properties") == {}:
            del att["properties"]
    from msgsess.session.edit import tidy

    tidy(spec)


def _is_subject(key: str, value: Any) -> bool:
    """PR_SUBJECT as text: kept as the spec's ``subject`` so that its prefix, normalized form and
    conversation topic follow it (also when an edited message gets a new subject)."""
    return isinstance(value, str) and sprops.identity(key) == _SUBJECT


def set_property(
    path: str | os.PathLike[str],
    msg_id: str,
    prop: str,
    text: str,
    *,
    type_name: str | None = None,
    recipient: int | None = None,
    attachment: int | None = None,
) -> str:
    """Set one property from command-line text; return the key the spec keeps it under."""
    label = f"message {msg_id}"
    with transaction(path, write=True) as store:
        spec = store.get(msg_id).spec
        bag = _property_bag(spec, recipient, attachment, label)
        try:
            key, value = sprops.text_entry(prop, text, type_name, lambda p: _read_file(p, f"property {prop}"))
        except MsgsessError as exc:
            raise sprops.located(exc, label) from None
        _drop_spellings(bag, key)
        if recipient is None and attachment is None and _is_subject(key, value):
            spec["subject"] = value
            _tidy(spec)
            _save_edit(store, msg_id, spec)
            return "subject"
        bag[key] = value
        _save_edit(store, msg_id, spec)
        return key


def unset_property(
    path: str | os.PathLike[str],
    msg_id: str,
    prop: str,
    *,
    recipient: int | None = None,
    attachment: int | None = None,
) -> None:
    """Remove a property: any value given for it, and the default msgsess would set (``null``)."""
    label = f"message {msg_id}"
    with transaction(path, write=True) as store:
        spec = store.get(msg_id).spec
        bag = _property_bag(spec, recipient, attachment, label)
        try:
            _drop_spellings(bag, prop)
        except MsgsessError as exc:
            raise sprops.located(exc, label) from None
        bag[prop] = None
        if recipient is None and attachment is None and sprops.identity(prop) == _SUBJECT:
            spec.pop("subject", None)
        _tidy(spec)
        _save_edit(store, msg_id, spec)


def add_properties(spec: dict[str, Any], assignments: list[str]) -> None:
    """Apply ``PROP=VALUE`` texts (``add --set``) to a spec's ``properties``."""
    bag: dict[str, Any] = spec.setdefault("properties", {})
    for item in assignments:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise InvalidParameter(
                f"--set {item!r}: expected PROP=VALUE", hint="e.g. --set PidTagImportance=2"
            )
        option = f"--set {item}"
        try:
            key, value = sprops.text_entry(
                name.strip(), text, None, functools.partial(_read_file, what=option)
            )
            _drop_spellings(bag, key)
        except MsgsessError as exc:
            raise sprops.located(exc, option) from None
        bag[key] = value


# --- show ------------------------------------------------------------------------------------


def _export(
    store: Store, msg_id: str, output: str | None, spec: dict[str, Any], data: bool
) -> dict[str, Any]:
    out: dict[str, Any] = {"id": msg_id}
    if output is not None:
        out["output"] = output
    out.update(spec)
    if "source" in spec:
        from msgsess.session.edit import export_source

        out["source"] = export_source(store, spec["source"], data)
    if "attachments" in spec:
        atts = []
        for att in spec["attachments"]:
            att = dict(att)
            for key, public in (("blob", "data"), ("msg_blob", "msg_data")):
                if key in att:
                    blob = store.blob(att.pop(key))
                    if data:
                        att = {public: base64.b64encode(blob).decode("ascii"), **att}
                    else:
                        att = {public: None, "size": len(blob), **att}
            atts.append(att)
        out["attachments"] = atts
    return out


def show(
    path: str | os.PathLike[str], msg_id: str | None = None, *, data: bool = True
) -> Iterator[dict[str, Any]]:
    """Each message (or one) in the schema ``add --json`` reads, in the order added.

    With ``data=False`` attachment bytes are left out (``"data": null`` and a ``size``).
    One read transaction while the caller iterates.
    """
    with transaction(path, write=False) as store:
        if msg_id is not None:
            row = store.get(msg_id)
            yield _export(store, row.id, row.output, row.spec, data)
            return
        for row in store.rows():
            yield _export(store, row.id, row.output, row.spec, data)


def session_info(path: str | os.PathLike[str]) -> tuple[bool, int, int]:
    """(unicode, codepage, number of messages) of a session."""
    with transaction(path, write=False) as store:
        settings = store.settings()
        return settings.unicode, settings.codepage, store.count()


def message_ids(path: str | os.PathLike[str]) -> list[str]:
    """Ids of a session's messages (for shell completion)."""
    with transaction(path, write=False) as store:
        return store.ids()
