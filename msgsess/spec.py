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

Pure data and functions: this module imports nothing of msgsess but the error and record classes
(its types from :mod:`msgsess.spectypes` and the kinds of message classes on first use).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar

from msgsess.errors import NotFound
from msgsess.records import Frozen

TYPE_CHECKING = False  # the types live in msgsess.spectypes: commands never import typing
if TYPE_CHECKING:
    from types import TracebackType
    from typing import Any

    from msgsess.props.ids import CLASS_KINDS as CLASS_KINDS
    from msgsess.props.ids import kind_of_class as kind_of_class
    from msgsess.spectypes import AttachmentSpec as AttachmentSpec
    from msgsess.spectypes import EditKeys as EditKeys
    from msgsess.spectypes import EmlKeys as EmlKeys
    from msgsess.spectypes import EmlSpec as EmlSpec
    from msgsess.spectypes import ItemKeys as ItemKeys
    from msgsess.spectypes import ItemName as ItemName
    from msgsess.spectypes import MailKeys as MailKeys
    from msgsess.spectypes import MessageSpec as MessageSpec
    from msgsess.spectypes import PhotoSpec as PhotoSpec
    from msgsess.spectypes import PostalAddress as PostalAddress
    from msgsess.spectypes import Prepared as Prepared
    from msgsess.spectypes import Properties as Properties
    from msgsess.spectypes import Recipient as Recipient
    from msgsess.spectypes import RecipientSpec as RecipientSpec
    from msgsess.spectypes import SessionKeys as SessionKeys
    from msgsess.spectypes import SourceSpec as SourceSpec
    from msgsess.spectypes import Steps as Steps
    from msgsess.spectypes import Table as Table
    from msgsess.spectypes import TypedValue as TypedValue
else:
    #: Names given on first use: the spec's types (``msgsess.spectypes``), the kinds of message
    #: classes (``msgsess.props.ids``).
    _TYPES = """AttachmentSpec EditKeys EmlKeys EmlSpec ItemKeys ItemName MailKeys MessageSpec
        PhotoSpec PostalAddress Prepared Properties Recipient RecipientSpec SessionKeys SourceSpec
        Steps Table TypedValue"""
    _LAZY = dict.fromkeys(_TYPES.split(), "msgsess.spectypes") | {
        "CLASS_KINDS": "msgsess.props.ids",
        "kind_of_class": "msgsess.props.ids",
    }

    def __getattr__(name: str) -> Any:
        module = _LAZY.get(name)
        if module is None:  # ``__path__`` (asked by every ``from msgsess.spec import …``) among others
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        import importlib

        return getattr(importlib.import_module(module), name)


# --- kinds: who owns which keys -------------------------------------------------------------------


class Kind(Frozen):
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

    __slots__ = _fields = ("name", "keys", "flags", "table_keys", "steps")
    name: str
    keys: frozenset[str]
    flags: tuple[tuple[str, str], ...]
    table_keys: frozenset[str]
    steps: str | None

    def __init__(
        self,
        name: str,
        keys: frozenset[str],
        flags: tuple[tuple[str, str], ...] = (),
        table_keys: frozenset[str] = frozenset(),
        steps: str | None = None,
    ) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "keys", keys)
        object.__setattr__(self, "flags", flags)
        object.__setattr__(self, "table_keys", table_keys)
        object.__setattr__(self, "steps", steps)


def _keys(typed: Any) -> frozenset[str]:
    """The keys of a ``TypedDict`` (tests compare them with the kinds' keys)."""
    return frozenset(typed.__required_keys__ | typed.__optional_keys__)


SESSION = Kind(
    "session",
    frozenset({"id", "output"}),
    flags=(("output", "output"), ("msg_id", "id")),
)
MAIL = Kind(
    "mail",
    frozenset(
        {"class", "subject", "body", "html", "rtf", "from", "sender", "to", "cc", "bcc", "reply_to"}
        | {"date", "draft", "importance", "sensitivity", "categories", "headers", "message_id"}
        | {"read_receipt", "delivery_receipt", "flag", "due", "template", "attachments", "properties"}
    ),
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
    frozenset(
        {"source", "remove_recipients", "remove_attachments", "recipient_properties"}
        | {"attachment_properties"}
    ),
    table_keys=frozenset({"remove_recipients", "remove_attachments", "recipient_properties"}),
)

ITEMS = Kind(
    "items",
    frozenset(
        {"kind", "start", "end", "all_day", "timezone", "location", "busy", "reminder", "recurrence"}
        | {"exdate", "organizer", "attendees", "optional", "resources", "uid", "sequence", "name"}
        | {"display_name", "file_as", "emails", "phones", "addresses", "company", "job_title"}
        | {"birthday", "web", "photo", "status", "percent", "priority", "owner", "color", "members"}
    ),
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
EML = Kind("eml", frozenset({"eml"}), flags=(("eml", "eml"),))

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


class typed_as:  # lower case: used as a function, ``with typed_as(params):``
    """Within the block, errors about a key name the ``add`` option that fills it.

    ``params`` are the options as click gives them (parameter -> value); of two options for
    one key (``--body``/``--body-file``, ``--draft``/``--sent``) the one given is named. The
    checks that name keys (the item fields) call :func:`spelled`, so the map travels with the
    check down to them rather than through every layer's arguments.
    """

    __slots__ = ("names", "token")

    def __init__(self, params: Mapping[str, Any]) -> None:
        names: dict[str, str] = {}
        for param, key in FLAG_KEYS.items():
            names.setdefault(key, option_name(param))
        for param, value in params.items():
            if param in FLAG_KEYS and value is not None and value != () and value is not False:
                names[FLAG_KEYS[param]] = option_name(param)
        self.names = names

    def __enter__(self) -> None:
        self.token = _TYPED.set(self.names)

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        _TYPED.reset(self.token)


#: Recipient lists in table order: added recipients are numbered across to, cc, bcc in this order.
RECIPIENT_KINDS = ("to", "cc", "bcc")
#: Where a numbered row lives: in the edited file's own table (by index there) …
ORIGINAL = "original"


def kind_of_key(key: str) -> Kind | None:
    """The kind that owns a spec key."""
    return next((kind for kind in KINDS if key in kind.keys), None)


def steps_for(spec: Mapping[str, Any]) -> list[Steps]:
    """The compose steps of every kind with steps whose keys the spec uses, in :data:`KINDS` order."""
    import importlib

    used = set(spec)
    found: list[Any] = [
        importlib.import_module(kind.steps) for kind in KINDS if kind.steps is not None and used & kind.keys
    ]
    return found


def all_steps() -> list[Steps]:
    """The compose steps of every kind with steps (``refresh`` of an edited message runs them all)."""
    import importlib

    found: list[Any] = [importlib.import_module(kind.steps) for kind in KINDS if kind.steps is not None]
    return found


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
