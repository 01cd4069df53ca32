"""The message model: plain classes holding property bags.

A ``Message`` is what one ``.msg`` (or one embedded message) holds: its own
properties, a recipient table, an attachment table, and, for lossless editing,
any storages or streams that no property accounts for. Values computed from
others (display lists, attachment flags, subject parts) are derived in one
place: :func:`refresh_derived`.
"""

from __future__ import annotations

from msgsess.props import ids
from msgsess.props import types as t
from msgsess.props.keys import PropId
from msgsess.records import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from msgsess.storage import Entry, Storage

# The classes below were dataclasses; they are plain classes with the same constructor, repr and
# equality (msgsess.records), because every command that reads a file imports this module and
# dataclasses cost more than such a command's own work (issue 11's start-up).


class Property(Record):
    """One property value with its type and its property-stream flags ([MS-OXMSG] 2.4.2.1)."""

    # Slots: tens are made for every message composed or read, and slots make them quicker to
    # make and to read.
    __slots__ = _fields = __match_args__ = ("type", "value", "flags", "stored")
    #: ``stored``: the type as the file stores it, for a property read from a file (PT_STRING8
    #: where the model says PT_UNICODE); None for a property set since. Not part of equality.
    _hidden = frozenset({"stored"})

    def __init__(
        self, type: int, value: Any, flags: int = ids.DEFAULT_FLAGS, stored: int | None = None
    ) -> None:
        self.type = type
        self.value = value
        self.flags = flags
        self.stored = stored


def identity(key: PropId | str) -> PropId:
    """A property's identity from an id, a NamedId, or any name the command line takes
    (``"PidTagSubject"``, ``"PR_SUBJECT_W"``, ``"0x0037001F"``, ``"PS_PUBLIC_STRINGS:Keywords"``).

    An unknown name is :class:`~msgsess.errors.NotFound`, with close matches as a hint.
    """
    if isinstance(key, str):
        from msgsess.props import registry

        return registry.resolve(key).pid
    return key


_NOT_MV = ~t.MV_FLAG
_PT_STRING8 = t.PT_STRING8
_DEFAULT_FLAGS = ids.DEFAULT_FLAGS
_get = dict.get
_put = dict.__setitem__
_getitem = dict.__getitem__
_delitem = dict.__delitem__
_contains = dict.__contains__
_pop = dict.pop


class PropertyBag(dict[PropId, Property]):
    """Properties keyed by identity (tagged id or NamedId); one type per identity.

    Every access also takes a property's name as the command line does
    (``bag["PidTagSubject"].value``, ``bag.value("PR_IMPORTANCE")``, ``"PidLidReminderSet" in bag``);
    keys stay identities.
    """

    # Called tens of times per message read or composed: a name is resolved only when one is
    # given, and the dict is reached without super() (the same methods, looked up once).

    def __getitem__(self, key: PropId | str) -> Property:
        return _getitem(self, identity(key) if isinstance(key, str) else key)

    def __delitem__(self, key: PropId | str) -> None:
        _delitem(self, identity(key) if isinstance(key, str) else key)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            from msgsess.errors import MsgsessError

            try:
                key = identity(key)
            except MsgsessError:
                return False  # no such name: no such property
        return _contains(self, key)

    def get(self, key: PropId | str, default: Any = None) -> Any:
        return _get(self, identity(key) if isinstance(key, str) else key, default)

    def pop(self, key: PropId | str, *default: Any) -> Any:
        return _pop(self, identity(key) if isinstance(key, str) else key, *default)

    def discard(self, *keys: PropId | str) -> None:
        """Remove these properties where they are (a group that must go together)."""
        for key in keys:
            _pop(self, identity(key) if isinstance(key, str) else key, None)

    def set(self, pid: PropId | str, ptype: int, value: Any, flags: int | None = None) -> None:
        if isinstance(pid, str):
            pid = identity(pid)
        if ptype & _NOT_MV == _PT_STRING8:
            # Model strings are always Unicode; the encoder picks the file's form.
            ptype = t.PT_MV_UNICODE if ptype & t.MV_FLAG else t.PT_UNICODE
        if flags is None:
            old = _get(self, pid)
            flags = _DEFAULT_FLAGS if old is None else old.flags
        _put(self, pid, Property(ptype, value, flags))

    def value(self, pid: PropId | str, default: Any = None) -> Any:
        prop = _get(self, identity(pid) if isinstance(pid, str) else pid)
        return default if prop is None else prop.value

    def setdefault_value(self, pid: PropId, ptype: int, value: Any, flags: int | None = None) -> None:
        if pid not in self:
            self.set(pid, ptype, value, flags)


def int_value(bag: PropertyBag, pid: PropId, default: int) -> int:
    """An integer property, or ``default`` when it is missing or (in a damaged file) not an integer."""
    value = bag.value(pid, default)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


class Recipient(Record):
    """A row of the recipient table; ``extra``: streams of the recipient storage that no
    property accounts for (lossless editing)."""

    _fields = __match_args__ = ("props", "extra")

    def __init__(self, props: PropertyBag | None = None, extra: dict[str, Entry] | None = None) -> None:
        self.props = PropertyBag() if props is None else props
        self.extra: dict[str, Entry] = {} if extra is None else extra

    @property
    def kind(self) -> int:
        return int_value(self.props, ids.RECIPIENT_TYPE, ids.MAPI_TO) & 0x0FFFFFFF

    @property
    def display_name(self) -> str:
        name = self.props.value(ids.DISPLAY_NAME)
        if name is None:
            name = self.props.value(ids.RECIPIENT_DISPLAY_NAME)
        if name is None:
            name = self.props.value(ids.EMAIL_ADDRESS, "")
        return str(name)


class Attachment(Record):
    """An attachment: by value (bytes in PR_ATTACH_DATA_BIN), embedded message, or custom storage.

    ``custom``: the content of a method-6 (OLE/custom) attachment storage, carried verbatim;
    ``extra``: streams of the attachment storage that no property accounts for (lossless editing).
    """

    _fields = __match_args__ = ("props", "embedded", "custom", "extra")

    def __init__(
        self,
        props: PropertyBag | None = None,
        embedded: Message | None = None,
        custom: Storage | None = None,
        extra: dict[str, Entry] | None = None,
    ) -> None:
        self.props = PropertyBag() if props is None else props
        self.embedded = embedded
        self.custom = custom
        self.extra: dict[str, Entry] = {} if extra is None else extra

    @property
    def method(self) -> int:
        value = self.props.value(ids.ATTACH_METHOD, ids.ATTACH_BY_VALUE)
        # A damaged file may give the method another type; treat that as "no method".
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    @property
    def data(self) -> bytes | None:
        value = self.props.value(ids.ATTACH_DATA)
        return value if isinstance(value, bytes) else None

    @property
    def name(self) -> str:
        for pid in (ids.ATTACH_LONG_FILENAME, ids.DISPLAY_NAME, ids.ATTACH_FILENAME):
            value = self.props.value(pid)
            if value:
                return str(value)
        if self.embedded is not None:
            return str(self.embedded.props.value(ids.SUBJECT, ""))
        return ""


class Message(Record):
    """One message: its properties, recipient and attachment tables.

    ``extra``: storages and streams of this message's storage that no property accounts for;
    ``source_unicode``, ``source_codepage``: how the message was stored when decoded (None for
    new messages); ``clsid``: the CLSID of the root storage (top level) when decoded, None
    meaning "the default".
    """

    _fields = __match_args__ = (
        "props",
        "recipients",
        "attachments",
        "extra",
        "source_unicode",
        "source_codepage",
        "clsid",
    )

    def __init__(
        self,
        props: PropertyBag | None = None,
        recipients: list[Recipient] | None = None,
        attachments: list[Attachment] | None = None,
        extra: dict[str, Entry] | None = None,
        source_unicode: bool | None = None,
        source_codepage: int | None = None,
        clsid: bytes | None = None,
    ) -> None:
        self.props = PropertyBag() if props is None else props
        self.recipients: list[Recipient] = [] if recipients is None else recipients
        self.attachments: list[Attachment] = [] if attachments is None else attachments
        self.extra: dict[str, Entry] = {} if extra is None else extra
        self.source_unicode = source_unicode
        self.source_codepage = source_codepage
        self.clsid = clsid

    def walk(self) -> Iterator[Message]:
        """This message and every embedded message below it, depth first."""
        yield self
        for att in self.attachments:
            if att.embedded is not None:
                yield from att.embedded.walk()


# --- derived values ------------------------------------------------------------------------


def is_inline(att: Attachment) -> bool:
    """An attachment shown inside the body (content id and hidden), not in the attachment list."""
    return bool(att.props.value(ids.ATTACH_CONTENT_ID)) and att.props.value(ids.ATTACHMENT_HIDDEN) is True


def split_subject(subject: str) -> tuple[str, str]:
    """(prefix, normalized subject) per [MS-OXCMSG] 2.2.1.9-10.

    The prefix is one to three non-digit characters followed by a colon and a
    space ("RE: ", "FW: ", "AW: "); the rest is the normalized subject.
    """
    head, sep, _rest = subject.partition(": ")
    if sep and 1 <= len(head) <= 3 and not any(c.isdigit() or c.isspace() for c in head):
        return head + sep, subject[len(head) + len(sep) :]
    return "", subject


def set_subject(msg: Message, subject: str) -> None:
    """Set PR_SUBJECT and keep its prefix, normalized form and conversation topic true."""
    prefix, normalized = split_subject(subject)
    msg.props.set(ids.SUBJECT, t.PT_UNICODE, subject)
    if prefix:
        msg.props.set(ids.SUBJECT_PREFIX, t.PT_UNICODE, prefix)
    else:
        msg.props.pop(ids.SUBJECT_PREFIX, None)
    msg.props.set(ids.NORMALIZED_SUBJECT, t.PT_UNICODE, normalized, ids.PROPATTR_READABLE)
    msg.props.set(ids.CONVERSATION_TOPIC, t.PT_UNICODE, normalized)


def display_list(msg: Message, kind: int) -> str:
    """Display names of one recipient kind joined by "; " (PR_DISPLAY_TO/CC/BCC)."""
    return "; ".join(_names_by_kind(msg).get(kind, ()))


def _names_by_kind(msg: Message) -> dict[int, list[str]]:
    """The recipients' display names by kind, in table order: one pass for every list."""
    names: dict[int, list[str]] = {}
    for r in msg.recipients:
        kind = r.kind
        found = names.get(kind)
        if found is None:
            names[kind] = [r.display_name]
        else:
            found.append(r.display_name)
    return names


#: The display list of each recipient kind ([MS-OXOMSG] 2.2.1.7-9).
_DISPLAY_LISTS = (
    (ids.DISPLAY_TO, ids.MAPI_TO),
    (ids.DISPLAY_CC, ids.MAPI_CC),
    (ids.DISPLAY_BCC, ids.MAPI_BCC),
)


def refresh_derived(msg: Message) -> None:
    """Recompute what other properties imply, after any change to the message.

    Display lists from recipients; attachment flags and PidLidSmartNoAttach;
    recipient row ids and attachment numbers in table order. Embedded messages
    are left alone: each was complete when it was composed or read.
    """
    names = _names_by_kind(msg)
    for pid, kind in _DISPLAY_LISTS:
        text = "; ".join(names.get(kind, ()))
        if text:
            msg.props.set(pid, t.PT_UNICODE, text, ids.PROPATTR_READABLE)
        else:
            msg.props.pop(pid, None)
    has = bool(msg.attachments)
    if has or ids.HAS_ATTACHMENTS in msg.props:
        msg.props.set(ids.HAS_ATTACHMENTS, t.PT_BOOLEAN, has, ids.PROPATTR_READABLE)
    if has and all(is_inline(a) for a in msg.attachments):
        msg.props.set(ids.SMART_NO_ATTACH, t.PT_BOOLEAN, True)
    elif ids.SMART_NO_ATTACH in msg.props:
        msg.props.set(ids.SMART_NO_ATTACH, t.PT_BOOLEAN, False)
    flags = int_value(msg.props, ids.MESSAGE_FLAGS, ids.MSGFLAG_UNSENT)
    flags = flags | ids.MSGFLAG_HASATTACH if has else flags & ~ids.MSGFLAG_HASATTACH
    msg.props.set(ids.MESSAGE_FLAGS, t.PT_LONG, flags)
    for row, rcpt in enumerate(msg.recipients):
        rcpt.props.set(ids.ROWID, t.PT_LONG, row)
    for num, att in enumerate(msg.attachments):
        att.props.set(ids.ATTACH_NUM, t.PT_LONG, num, ids.PROPATTR_READABLE)
