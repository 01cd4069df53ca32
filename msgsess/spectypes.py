r"""The message spec's types, for type checkers and Python callers: ``MessageSpec`` and the
other ``TypedDict``\ s, the protocols of a kind's compose steps.

Kept apart from :mod:`msgsess.spec` so that the commands, which only need the keys, never
import ``typing`` at run time (issue 11's start-up); ``msgsess.spec`` and ``msgsess`` give
these names on first use. A test keeps each kind's keys in ``spec`` equal to its ``TypedDict``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Protocol, Required, TypedDict

# --- the keys, typed ------------------------------------------------------------------------------

#: ``properties``: a property name (PidTag…, PR_…, hex tag, named property) -> JSON value, ``None``
#: to remove a property msgsess would set, or a :class:`TypedValue`.
Properties = dict[str, Any]


class TypedValue(TypedDict):
    """A property value with the type the name cannot tell: ``{"type": "PT_I8", "value": 5}``."""

    type: str
    value: Any


class RecipientSpec(TypedDict, total=False):
    """A recipient with properties of its own; a plain ``"Name <addr>"`` string is one too."""

    address: Required[str]
    properties: Properties


#: A recipient in ``to``/``cc``/``bcc``: ``"Name <addr>"``, ``"addr"`` or a :class:`RecipientSpec`.
Recipient = str | RecipientSpec


class AttachmentSpec(TypedDict, total=False):
    """An attachment with exactly one source: ``file``, ``data``, ``message``, ``msg``, ``msg_data``.

    A session keeps captured bytes by SHA-256 (``blob``, ``msg_blob``); ``show`` without the data
    gives ``None`` for ``data``/``msg_data`` and the ``size``.
    """

    file: str
    data: str | None
    message: str
    msg: str
    msg_data: str | None
    blob: str
    msg_blob: str
    size: int
    name: str
    mime: str
    content_id: str
    hidden: bool
    properties: Properties


class SourceSpec(TypedDict, total=False):
    """The existing ``.msg`` an edited message changes: its bytes (``data``) or path (``file``)."""

    data: str | None
    file: str
    codepage: int | str | None
    blob: str
    info: dict[str, Any]
    size: int
    original: dict[str, Any]


class EmlSpec(TypedDict, total=False):
    """A MIME message (``.eml``) a new message starts from (``add --eml``, ``import``): its bytes
    (``data``, base64) or path (``file``). A session keeps the bytes by SHA-256 (``blob``) with
    the sizes of its tables (``info``); ``show`` without the data gives ``size`` and ``original``."""

    data: str | None
    file: str
    blob: str
    info: dict[str, Any]
    size: int
    original: dict[str, Any]


#: Keys of the session: which message it is and where ``close`` writes it.
class SessionKeys(TypedDict, total=False):
    id: str
    output: str


#: Keys of a mail message (``IPM.Note``, the default kind).
MailKeys = TypedDict(
    "MailKeys",
    {
        "class": str,
        "subject": str,
        "body": str,
        "html": str,
        "rtf": str,
        "from": str,
        "sender": str,
        "to": list[Recipient],
        "cc": list[Recipient],
        "bcc": list[Recipient],
        "reply_to": list[str],
        "date": str,
        "draft": bool,
        "importance": Literal["low", "normal", "high"],
        "sensitivity": Literal["normal", "personal", "private", "confidential"],
        "categories": list[str],
        "headers": list[str],
        "message_id": str,
        "read_receipt": bool,
        "delivery_receipt": bool,
        "flag": str,
        "due": str,
        "template": bool,
        "attachments": list[AttachmentSpec],
        "properties": Properties,
    },
    total=False,
)


class EditKeys(TypedDict, total=False):
    """Keys of an edited file (``msgsess edit``): its source and changes to its own tables,
    by index in the file's tables (see :func:`rows` for the numbers users see)."""

    source: SourceSpec
    remove_recipients: list[int]
    remove_attachments: list[int]
    recipient_properties: dict[str, Properties]
    attachment_properties: dict[str, Properties]


class ItemName(TypedDict, total=False):
    """A contact's name in parts (``name`` as an object)."""

    prefix: str
    given: str
    middle: str
    surname: str
    suffix: str


class PostalAddress(TypedDict, total=False):
    """A contact's postal address (a value of the ``addresses`` object)."""

    street: str
    city: str
    state: str
    postal_code: str
    country: str
    po_box: str


class PhotoSpec(TypedDict, total=False):
    """A contact picture: a file, base64 ``data``, or the session's captured ``blob``."""

    file: str
    data: str
    blob: str


#: Keys of Outlook items beyond mail (``msgsess.items``; docs/ITEMS.md says which kind takes
#: which). ``due`` is mail's key too (a follow-up flag's date): a task's due date.
class ItemKeys(TypedDict, total=False):
    kind: Literal["mail", "appointment", "meeting", "contact", "task", "note", "distlist"]
    start: str
    end: str
    all_day: str
    timezone: str
    location: str
    busy: Literal["free", "tentative", "busy", "oof", "elsewhere"]
    reminder: int | str
    recurrence: str
    exdate: list[str]
    organizer: str
    attendees: list[str]
    optional: list[str]
    resources: list[str]
    uid: str
    sequence: int
    name: str | ItemName
    display_name: str
    file_as: str
    emails: list[str]
    phones: list[str] | dict[str, str]
    addresses: list[str] | dict[str, PostalAddress]
    company: str
    job_title: str
    birthday: str
    web: str
    photo: str | PhotoSpec
    status: Literal["not-started", "in-progress", "complete", "waiting", "deferred"]
    percent: int
    priority: Literal["low", "normal", "high"]
    owner: str
    color: Literal["blue", "green", "pink", "yellow", "white"]
    members: list[str]


class EmlKeys(TypedDict, total=False):
    """The MIME message a message starts from: a path (``"mail.eml"``) or an :class:`EmlSpec`.
    The spec's other keys then change it, as they change an edited file."""

    eml: str | EmlSpec


class MessageSpec(SessionKeys, MailKeys, EditKeys, ItemKeys, EmlKeys, total=False):
    """One message, as ``add --json`` reads it; every key optional.

    Keys that are Python keywords are given with a dict literal (``{"from": …, "class": …}``).
    """


class Prepared(Protocol):
    """What a kind's ``prepare`` returns: at least the spec left for the mail composer."""

    @property
    def mail_spec(self) -> Mapping[str, Any]: ...


class Steps(Protocol):
    """The module of a :class:`Kind` with ``steps``."""

    def prepare(self, spec: Mapping[str, Any], *, label: str) -> Prepared: ...

    def apply(self, prepared: Any, msg: Any, *, now: Any) -> None: ...

    def prepare_edit(self, msg: Any, spec: Mapping[str, Any], *, label: str) -> Prepared: ...

    def refresh(self, msg: Any) -> None: ...


#: A recipient or attachment table of a message (:func:`msgsess.spec.rows`).
Table = Literal["recipients", "attachments"]
