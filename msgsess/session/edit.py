"""Edited messages: existing ``.msg`` files changed in a session (``msgsess edit``), like ``OpenIMsgOnIStg``.

An edited message is a spec like any other, plus a ``source``: the file's bytes, captured as a
blob of the session when the message is added, so later changes to the file do not leak in.
At ``close`` the blob is decoded and every other key of the spec is applied to it as a change
(:func:`msgsess.composer.compose` with ``base=``). Stored form of the source::

    {"blob": SHA-256, "file": "/abs/path.msg", "codepage": CP or null, "info": {...}}

``codepage`` is the user's fallback for ANSI files that name no code page (``edit --codepage``);
``info`` is what the file holds, found when it was captured, so that commands need not decode it
again: its string mode, the code page of its 8-bit strings and where that choice came from, and
the sizes of its recipient and attachment tables. ``show --json`` prints the source as
``{"data": base64, "file": …, "codepage": …}``; ``add --json`` reads that form (or ``{"file": …}``).

Numbering
    The recipients of an edited message are numbered as the written file will hold them
    (:func:`msgsess.spec.rows`): the file's own recipients in their order, without removed
    ones, then added To, Cc and Bcc ones. Attachments likewise. Internally a change to an
    original row is kept by its index in the original table (``recipient_properties``,
    ``remove_recipients``…), so numbers the user sees may shift when a row is removed, as they
    do in Outlook, but a change always stays with its row.
"""

from __future__ import annotations

import binascii

from msgsess.errors import InvalidParameter, TooBig
from msgsess.session.inputs import read_eml, read_msg
from msgsess.spec import EDIT_TABLE_KEYS, ORIGINAL, RECIPIENT_KINDS, base_of, original_count, row
from msgsess.spec import rows as spec_rows

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from msgsess.model import Message
    from msgsess.session.store import Store
    from msgsess.spec import Table


def describe_mode(info: dict[str, Any]) -> str:
    """The string mode for people: Unicode, or ANSI with its code page and where that came from."""
    if info.get("unicode"):
        return "Unicode"
    return f"ANSI, code page {info['codepage']} (from {info['codepage_from']})"


def prepare(spec: dict[str, Any], output: str | None) -> str | None:
    """The output of a spec being added (its source, if any, stored already).

    An edited message is written back to its source file unless it has an output of its own.
    Edit keys without a source are refused.
    """
    if "source" in spec and "eml" in spec:
        raise InvalidParameter(
            "a message starts from an edited .msg (source) or from a MIME message (eml), not both",
            hint="give one of them",
        )
    if "source" not in spec:
        given = [key for key in EDIT_TABLE_KEYS if key in spec]
        if given and "eml" not in spec:
            raise InvalidParameter(
                f"{given[0]} changes a message read from a file, and this one has no source",
                hint="edit a .msg file with `msgsess edit`, or give a source",
            )
        return output
    if output is None:
        output = spec["source"].get("file")
        if output is None:
            raise InvalidParameter(
                "an edited message given as data needs an output",
                hint='add "output", or give the source\'s "file"',
            )
    return output


def placeholder(spec: dict[str, Any]) -> Message | None:
    """A stand-in for an edited message's source with its table sizes, to check a spec cheaply."""
    source = base_of(spec)
    if source is None:
        return None
    from msgsess.model import Attachment, Message, Recipient

    info = source.get("info") or {}
    return Message(
        recipients=[Recipient() for _ in range(int(info.get("recipients", 0)))],
        attachments=[Attachment() for _ in range(int(info.get("attachments", 0)))],
    )


def base_message(store: Store, spec: dict[str, Any]) -> Message | None:
    """The decoded source of an edited message, or the MIME message a message starts from
    (None for a new one), for ``close``."""
    eml = spec.get("eml")
    if isinstance(eml, dict):
        # Its warnings were given when it was added.
        return read_eml(store.blob(str(eml["blob"])), str(eml.get("file") or "eml"))[0]
    source = spec.get("source")
    if not isinstance(source, dict):
        return None
    name = str(source.get("file") or "source")
    return read_msg(store.blob(str(source["blob"])), name, source.get("codepage"))


# --- the tables as the user sees them (numbered by msgsess.spec.rows) ------------------------------

#: ``msgsess.oxmsg.layout.MAX_OBJECTS`` (a test keeps them equal), here so that ``add`` does not
#: load the codec's layout to count a few recipients.
MAX_OBJECTS = 2048


def check_room(spec: dict[str, Any], table: Table, adding: int) -> None:
    """Refuse more recipients or attachments than a .msg can hold ([MS-OXMSG] 2.2.1, 2.2.2: 2048).

    Counts the rows as numbered for the user (an edited file's own ones included) plus
    ``adding`` new ones, so that the command adding them fails, not ``close``.
    """
    keys = RECIPIENT_KINDS if table == "recipients" else ("attachments",)
    most = original_count(spec, table) + sum(len(spec.get(key) or ()) for key in keys) + adding
    if most <= MAX_OBJECTS:
        return  # at most this many rows (removed ones counted): room enough, no need to number them
    rows = spec_rows(spec, table)
    total = len(rows) + adding
    if total > MAX_OBJECTS:
        advice = (
            "split them over several messages"
            if table == "recipients"
            else "put the files in an archive, or split them over several messages"
        )
        raise TooBig(
            f"{total} {table}; MS-OXMSG allows at most {MAX_OBJECTS} per message",
            hint=f"it has {len(rows)}; {advice}" if adding else advice,
        )


def original_properties(spec: dict[str, Any], table: Table, index: int) -> dict[str, Any]:
    """The ``properties`` object that changes original recipient or attachment ``index``."""
    key = "recipient_properties" if table == "recipients" else "attachment_properties"
    bag: dict[str, Any] = spec.setdefault(key, {}).setdefault(str(index), {})
    return bag


def tidy(spec: dict[str, Any]) -> None:
    """Drop empty edit keys."""
    for key in ("recipient_properties", "attachment_properties"):
        changes = spec.get(key)
        if isinstance(changes, dict):
            for index in [i for i, props in changes.items() if not props]:
                del changes[index]
            if not changes:
                del spec[key]
    for key in ("remove_recipients", "remove_attachments"):
        if key in spec and not spec[key]:
            del spec[key]


def remove_row(spec: dict[str, Any], table: Table, number: int) -> tuple[str, Any]:
    """Remove one row; return (kind, the removed spec entry or the original index)."""
    kind, index = row(spec, table, number)
    if kind == ORIGINAL:
        gone = "remove_recipients" if table == "recipients" else "remove_attachments"
        spec[gone] = sorted({*spec.get(gone, ()), index})
        changes = "recipient_properties" if table == "recipients" else "attachment_properties"
        spec.get(changes, {}).pop(str(index), None)
        tidy(spec)
        return kind, index
    entry = spec[kind].pop(index)
    if not spec[kind]:
        del spec[kind]
    return kind, entry


# --- show ------------------------------------------------------------------------------------


def export_source(store: Store, source: dict[str, Any], data: bool) -> dict[str, Any]:
    """A stored source in the form ``add --json`` reads; without ``data``, a summary instead."""
    blob = store.blob(str(source["blob"]))
    out: dict[str, Any] = {}
    if data:
        out["data"] = binascii.b2a_base64(blob, newline=False).decode("ascii")
    else:
        out["data"] = None
        out["size"] = len(blob)
    if source.get("file"):
        out["file"] = source["file"]
    if source.get("codepage") is not None:
        out["codepage"] = source["codepage"]
    if not data:
        name = str(source.get("file") or "source")
        out["original"] = summary(read_msg(blob, name, source.get("codepage")), source.get("info") or {})
    return out


def export_eml(store: Store, eml: dict[str, Any], data: bool) -> dict[str, Any]:
    """A stored MIME message in the form ``add --json`` reads; without ``data``, a summary."""
    blob = store.blob(str(eml["blob"]))
    out: dict[str, Any] = {"data": binascii.b2a_base64(blob, newline=False).decode("ascii") if data else None}
    if not data:
        out["size"] = len(blob)
    if eml.get("file"):
        out["file"] = eml["file"]
    if not data:
        msg = read_eml(blob, str(eml.get("file") or "eml"))[0]
        out["original"] = summary(msg, {"unicode": True})
        out["original"].pop("mode")
    return out


def _address(props: Any, name_id: int, addr_ids: tuple[int, ...]) -> str:
    name = props.value(name_id)
    addr = next((props.value(a) for a in addr_ids if props.value(a)), None)
    if name and addr and name != addr:
        return f"{name} <{addr}>"
    return str(name or addr or "")


def summary(msg: Message, info: dict[str, Any]) -> dict[str, Any]:
    """What a person wants to see of an edited file: mode, class, subject, from, tables."""
    from msgsess.props import ids

    kinds = {ids.MAPI_TO: "to", ids.MAPI_CC: "cc", ids.MAPI_BCC: "bcc"}
    out: dict[str, Any] = {"mode": describe_mode(info)}
    for key, pid in (("class", ids.MESSAGE_CLASS), ("subject", ids.SUBJECT)):
        value = msg.props.value(pid)
        if isinstance(value, str):
            out[key] = value
    sender = _address(
        msg.props,
        ids.SENT_REPRESENTING_NAME,
        (ids.SENT_REPRESENTING_SMTP_ADDRESS, ids.SENT_REPRESENTING_EMAIL_ADDRESS),
    )
    if sender:
        out["from"] = sender
    out["recipients"] = [
        f"{kinds.get(r.kind, 'other')}: "
        + _address(r.props, ids.DISPLAY_NAME, (ids.SMTP_ADDRESS, ids.EMAIL_ADDRESS))
        for r in msg.recipients
    ]
    atts = []
    for att in msg.attachments:
        if att.embedded is not None:
            atts.append(f"{att.name or '(no name)'} (embedded message)")
        elif att.custom is not None:
            atts.append(f"{att.name or '(no name)'} (OLE object)")
        else:
            size = len(att.data) if att.data is not None else 0
            atts.append(f"{att.name or '(no name)'} ({size} bytes)")
    out["attachments"] = atts
    return out


# --- close -----------------------------------------------------------------------------------


def string_mode(
    spec: dict[str, Any], unicode: bool | None, codepage: int | None, default_unicode: bool, default_cp: int
) -> tuple[bool, int]:
    """(Unicode?, ANSI code page) a message is written in.

    ``unicode``/``codepage`` are what ``close`` was told (None: not forced). A new message takes
    the session's mode; an edited one keeps its file's own mode and code page unless forced.
    """
    source = spec.get("source")
    if not isinstance(source, dict):
        return (
            default_unicode if unicode is None else unicode,
            codepage if codepage is not None else default_cp,
        )
    info = source.get("info") or {}
    source_unicode = bool(info.get("unicode", True))
    use_unicode = source_unicode if unicode is None else unicode
    cp = codepage if codepage is not None else int(info.get("codepage") or default_cp)
    return use_unicode, cp


def conversion_note(msg_id: str, spec: dict[str, Any], unicode: bool, codepage: int) -> str | None:
    """One line saying how an edited message's strings change mode, or None if they do not."""
    source = spec.get("source")
    if not isinstance(source, dict):
        return None
    info = source.get("info") or {}
    if info.get("unicode", True):
        if unicode:
            return None
        return f"{msg_id}: Unicode strings written as ANSI code page {codepage}"
    read = f"{msg_id}: ANSI strings read as code page {info['codepage']} (from {info['codepage_from']})"
    if unicode:
        return f"{read}, written as Unicode"
    if codepage != info["codepage"]:
        return f"{read}, written as code page {codepage}"
    return None
