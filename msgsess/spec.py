"""The message spec: the one description of a message that flags, JSON, sessions and the API share.

A spec is what ``add --json`` reads, ``show --json`` prints, :func:`msgsess.compose` builds a
message from and a session stores: a JSON object whose keys are listed here, once. The same
keys are in ``message.schema.json`` (a test keeps the two equal); :class:`MessageSpec` types them
for Python callers (``mypy --strict`` checks a misspelled key or a wrong value).

Kinds
    Keys come in groups, one per *kind* of content (:data:`KINDS`): the session's own keys, mail,
    and the edit of an existing file. An item kind (appointment, contact…, ``msgsess.items``) or
    an importer that gives its input as spec keys plugs in by adding one :class:`Kind`: its keys
    (also in ``message.schema.json`` and in a ``TypedDict`` that :class:`MessageSpec` inherits),
    the ``add`` flags that fill them, and the module whose ``prepare``/``apply`` steps turn them
    into properties around the mail composer. Nothing else needs to know the keys.

Numbering
    Recipients and attachments are numbered for the user as the written file holds them: an
    edited file's own rows first (in their order, without removed ones), then added recipients
    To, Cc, Bcc, or added attachments. :func:`rows` gives that order; ``edit``, ``set
    --recipient``, ``show`` and the API all number through it.

Pure data and functions: this module imports nothing of msgsess but the error classes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, Required, TypedDict, cast

from msgsess.errors import NotFound
from msgsess.props.ids import CLASS_KINDS as CLASS_KINDS
from msgsess.props.ids import kind_of_class as kind_of_class

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


# --- kinds: who owns which keys -------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """A group of spec keys with everything that must know them.

    ``keys``: the spec keys this kind adds (also in ``message.schema.json`` and in a ``TypedDict``
    that :class:`MessageSpec` inherits). ``flags``: ``add``'s options that fill them, as
    (option's parameter name, key). ``table_keys``: those of ``keys`` that change the recipient
    or attachment tables (derived values are recomputed when one is given).

    ``steps``: the module that composes these keys, imported the first time a spec uses one of
    them; None when the mail composer knows them itself. It provides (see :class:`Steps`)
    ``prepare(spec, *, label)``, which checks the kind's keys and returns a value whose
    ``mail_spec`` is the spec the mail composer builds from (the kind's keys replaced by mail
    keys: class, attendees as recipients, a photo as an attachment…), and
    ``apply(prepared, msg, *, now)``, which then puts the kind's own and derived properties on
    the composed message. An edited message (``base``) goes through ``prepare_edit(msg, spec,
    *, label)`` instead (the keys merged over the fields it has), and one changed only through
    its properties through ``refresh(msg)`` (derived values follow). ``msgsess.items`` is
    written to this shape and wired as :data:`ITEMS`.
    """

    name: str
    keys: frozenset[str]
    flags: tuple[tuple[str, str], ...] = ()
    table_keys: frozenset[str] = field(default_factory=frozenset)
    steps: str | None = None


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


def _keys(typed: Any) -> frozenset[str]:
    return frozenset(typed.__required_keys__ | typed.__optional_keys__)


SESSION = Kind(
    "session",
    _keys(SessionKeys),
    flags=(("output", "output"), ("msg_id", "id")),
)
MAIL = Kind(
    "mail",
    _keys(MailKeys),
    flags=(
        ("msg_class", "class"),
        ("subject", "subject"),
        ("body", "body"),
        ("body_file", "body"),
        ("html", "html"),
        ("html_file", "html"),
        ("rtf_file", "rtf"),
        ("from_addr", "from"),
        ("sender", "sender"),
        ("to", "to"),
        ("cc", "cc"),
        ("bcc", "bcc"),
        ("reply_to", "reply_to"),
        ("date", "date"),
        ("draft", "draft"),
        ("sent", "draft"),
        ("importance", "importance"),
        ("sensitivity", "sensitivity"),
        ("category", "categories"),
        ("header", "headers"),
        ("message_id", "message_id"),
        ("read_receipt", "read_receipt"),
        ("delivery_receipt", "delivery_receipt"),
        ("flag", "flag"),
        ("due", "due"),
        ("template", "template"),
        ("attach", "attachments"),
        ("set_props", "properties"),
    ),
    table_keys=frozenset({"to", "cc", "bcc", "attachments"}),
)
EDIT = Kind(
    "edit",
    _keys(EditKeys),
    table_keys=frozenset({"remove_recipients", "remove_attachments", "recipient_properties"}),
)

ITEMS = Kind(
    "items",
    _keys(ItemKeys),
    flags=(
        ("kind", "kind"),
        ("start", "start"),
        ("end", "end"),
        ("all_day", "all_day"),
        ("timezone", "timezone"),
        ("location", "location"),
        ("busy", "busy"),
        ("reminder", "reminder"),
        ("recurrence", "recurrence"),
        ("exdate", "exdate"),
        ("organizer", "organizer"),
        ("attendee", "attendees"),
        ("optional", "optional"),
        ("resource", "resources"),
        ("uid", "uid"),
        ("sequence", "sequence"),
        ("name", "name"),
        ("email", "emails"),
        ("phone", "phones"),
        ("address", "addresses"),
        ("company", "company"),
        ("job_title", "job_title"),
        ("birthday", "birthday"),
        ("web", "web"),
        ("photo", "photo"),
        ("status", "status"),
        ("percent", "percent"),
        ("priority", "priority"),
        ("owner", "owner"),
        ("color", "color"),
        ("member", "members"),
    ),
    steps="msgsess.items",
)

#: A message read from MIME mail; the session decodes it as the base the other keys change.
EML = Kind("eml", _keys(EmlKeys), flags=(("eml", "eml"),))

#: Every kind, in the order their compose steps run.
KINDS: tuple[Kind, ...] = (SESSION, MAIL, EDIT, ITEMS, EML)

#: Every key a message spec may have; anything else is an error.
KEYS: frozenset[str] = frozenset().union(*(kind.keys for kind in KINDS))
#: Keys ``add`` reads from its input that say what to do with a message and are not part of it
#: (never stored, never printed by ``show``).
ADD_ONLY_KEYS: frozenset[str] = frozenset({"replace"})
#: Keys that change the recipient or attachment table of an edited message (or a recipient's name).
TABLE_KEYS: frozenset[str] = frozenset().union(*(kind.table_keys for kind in KINDS))
#: Keys that change an edited message at all.
CHANGE_KEYS: frozenset[str] = KEYS - {"id", "output", "source", "eml", "template"}
#: Keys whose stored value is a captured message the others change: an edited ``.msg``, a MIME
#: message. Their bytes are no text of the spec; a spec has at most one of them.
BASE_KEYS: tuple[str, ...] = ("source", "eml")
#: Keys that change an edited file's own tables, by index in them; they need a ``source``.
EDIT_TABLE_KEYS: tuple[str, ...] = (
    "remove_recipients",
    "remove_attachments",
    "recipient_properties",
    "attachment_properties",
)
#: ``add``'s option parameter -> the spec key it fills, over every kind.
FLAG_KEYS: dict[str, str] = {param: key for kind in KINDS for param, key in kind.flags}
#: ``add``'s option parameters not spelled ``--`` + the parameter with dashes.
_OPTION_NAMES = {
    "output": "OUTPUT",
    "msg_id": "--id",
    "msg_class": "--class",
    "from_addr": "--from",
    "set_props": "--set",
}


def option_name(param: str) -> str:
    """The ``add`` option of a parameter as the user types it: ``all_day`` -> ``--all-day``."""
    return _OPTION_NAMES.get(param) or "--" + param.replace("_", "-")


#: How the keys of the spec being checked were typed (see :func:`typed_as`).
_TYPED: ContextVar[Mapping[str, str] | None] = ContextVar("msgsess_typed", default=None)


def spelled(key: str) -> str:
    """A spec key as the user typed it: the flag (``--all-day``) while a spec from ``add``'s
    options is checked (:func:`typed_as`), else the key itself (JSON, the API)."""
    names = _TYPED.get()
    return key if names is None else names.get(key, key)


@contextmanager
def typed_as(params: Mapping[str, Any]) -> Iterator[None]:
    """Within the block, errors about a key name the ``add`` option that fills it.

    ``params`` are the options as click gives them (parameter -> value); of two options for
    one key (``--body``/``--body-file``, ``--draft``/``--sent``) the one given is named. The
    checks that name keys (the item fields) call :func:`spelled`, so the map travels with the
    check down to them rather than through every layer's arguments.
    """
    names: dict[str, str] = {}
    for param, key in FLAG_KEYS.items():
        names.setdefault(key, option_name(param))
    for param, value in params.items():
        if param in FLAG_KEYS and value is not None and value != () and value is not False:
            names[FLAG_KEYS[param]] = option_name(param)
    token = _TYPED.set(names)
    try:
        yield
    finally:
        _TYPED.reset(token)


#: Recipient lists in table order: added recipients are numbered across to, cc, bcc in this order.
RECIPIENT_KINDS = ("to", "cc", "bcc")
#: Where a numbered row lives: in the edited file's own table (by index there) …
ORIGINAL = "original"

Table = Literal["recipients", "attachments"]


def kind_of_key(key: str) -> Kind | None:
    """The kind that owns a spec key."""
    return next((kind for kind in KINDS if key in kind.keys), None)


def steps_for(spec: Mapping[str, Any]) -> list[Steps]:
    """The compose steps of every kind with steps whose keys the spec uses, in :data:`KINDS` order."""
    import importlib

    used = set(spec)
    return [
        cast(Steps, importlib.import_module(kind.steps))
        for kind in KINDS
        if kind.steps is not None and used & kind.keys
    ]


def all_steps() -> list[Steps]:
    """The compose steps of every kind with steps (``refresh`` of an edited message runs them all)."""
    import importlib

    return [cast(Steps, importlib.import_module(kind.steps)) for kind in KINDS if kind.steps is not None]


# --- numbering --------------------------------------------------------------------------------------


def original_count(spec: Mapping[str, Any], table: Table) -> int:
    """How many rows the edited file's (or MIME message's) own table has (0 for a new message),
    as captured."""
    source = base_of(spec)
    if source is None:
        return 0
    return int((source.get("info") or {}).get(table, 0))


def base_of(spec: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The stored base a spec changes (its ``source`` or ``eml``), None for a new message."""
    for key in BASE_KEYS:
        value = spec.get(key)
        if isinstance(value, Mapping):
            return value
    return None


def rows(spec: Mapping[str, Any], table: Table, originals: int | None = None) -> list[tuple[str, int]]:
    """Each row of a table in the order users number them (from 0).

    A row is (:data:`ORIGINAL`, index in the edited file's table) or (key, index in
    ``spec[key]``): ``"to"``/``"cc"``/``"bcc"`` for recipients, ``"attachments"``. ``originals``
    is the size of the file's own table when the spec does not carry it (``show``'s form).
    """
    count = original_count(spec, table) if originals is None else originals
    removed = set(spec.get(f"remove_{table}") or ())
    out = [(ORIGINAL, i) for i in range(count) if i not in removed]
    for key in RECIPIENT_KINDS if table == "recipients" else ("attachments",):
        out.extend((key, j) for j in range(len(spec.get(key) or ())))
    return out


def kept_originals(spec: Mapping[str, Any], table: Table) -> int:
    """How many of the edited file's own recipients or attachments are still there."""
    return sum(1 for where, _ in rows(spec, table) if where == ORIGINAL)


def row(spec: Mapping[str, Any], table: Table, number: int) -> tuple[str, int]:
    """Where recipient or attachment ``number`` (as numbered for the user) lives in the spec;
    NotFound when there is none."""
    found = rows(spec, table)
    if not 0 <= number < len(found):
        what = table[:-1]
        order = "across the file's own, then to, cc and bcc" if table == "recipients" else "in table order"
        raise NotFound(
            f"no {what} {number} (it has {len(found)})",
            hint=f"{what}s are numbered from 0 {order}; see `msgsess show`",
        )
    return found[number]


def number_of(spec: Mapping[str, Any], key: str, index: int) -> int:
    """The number users see for entry ``index`` of ``spec[key]`` (``to``, ``cc``, ``bcc``,
    ``attachments``)."""
    table: Table = "attachments" if key == "attachments" else "recipients"
    return rows(spec, table).index((key, index))
