"""Use cases of a session: open, add, edit, recipient, attach, detach, set, unset, show, discard.

Each function is one command: it opens the session, runs one transaction, and returns a
result; nothing here prints. Values are checked when they are given (names resolved, values
parsed, files read) so that errors come early and name the message, property and value; the
session keeps what the user wrote.
"""

from __future__ import annotations

import binascii
import os
from collections.abc import Callable

from msgsess.errors import Collision, InvalidParameter, MsgsessError, NotFound, SessionError, located
from msgsess.inputs import read_input
from msgsess.mailfields import IMPORTANCE, SENSITIVITY, parse_address
from msgsess.records import Record
from msgsess.session import edit as edit_spec
from msgsess.session import jsonspec
from msgsess.session import props as sprops
from msgsess.session.inputs import BAD_CHAR, Input, ReadAhead, check_text, load_attachment, load_specs
from msgsess.session.store import (
    Identity,
    Settings,
    Store,
    create_store,
    file_id,
    remove_store,
    transaction,
)
from msgsess.spec import ORIGINAL, RECIPIENT_KINDS, rows
from msgsess.spec import kept_originals as spec_kept
from msgsess.spec import number_of as spec_number
from msgsess.spec import row as spec_row

TYPE_CHECKING = False  # no typing, dataclasses or pathlib at run time: add imports this module
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from pathlib import Path
    from typing import Any

    from msgsess.model import Message

#: Receives one warning (a line of text naming the message) while a command runs.
Warn = Callable[[str], None]

#: PR_SUBJECT's property id.
_SUBJECT = 0x0037


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
    return None if "source" in spec else False  # a MIME message (eml) is a new .msg


def cid_warnings(msg_id: str, msg: Message) -> list[str]:
    """One warning per ``cid:`` the message's HTML refers to that no attachment's content id answers."""
    from msgsess.composer import missing_content_ids

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


def check_composable(
    spec: dict[str, Any],
    label: str,
    settings: Settings,
    *,
    from_index: dict[str, int] | None = None,
    store: Store | None = None,
) -> None:
    """Compose the spec once, without bodies and attachment bytes, to check addresses, dates…

    An edited file stands in by its table sizes; one whose item fields change (``start``…) is
    decoded from ``store``, as they are merged over the fields it has.
    """
    from msgsess.composer import compose
    from msgsess.model import Message
    from msgsess.props.types import FileTime

    light = {k: v for k, v in spec.items() if k not in _BODY_KEYS}
    msg = compose(
        light,
        now=FileTime(0),
        read_blob=lambda _sha: b"",
        embedded=lambda _att: Message(),
        label=label,
        unicode=settings.unicode,
        codepage=settings.codepage,
        base=_item_base(store, light) or edit_spec.placeholder(light),
        from_index=from_index,
    )
    from msgsess.oxmsg.nameid import MAX_NAMED, named_ids, too_many_named

    count = len(named_ids(msg))
    if count > MAX_NAMED:  # refused now, not only by close
        raise too_many_named(count).at(label)


#: Keys of a new mail whose every check in :func:`check_composable` :func:`surely_composable`
#: repeats: text, flags, choices, a date, addresses. ``body``, ``html`` and ``rtf`` are left out of
#: that check anyway. ``due`` (needs ``flag``) is not among them: a spec with it is composed.
_PLAIN_KEYS = frozenset(
    {
        "subject",
        "class",
        "body",
        "html",
        "rtf",
        "from",
        "sender",
        "to",
        "cc",
        "bcc",
        "reply_to",
        "date",
        "draft",
        "template",
        "importance",
        "sensitivity",
        "categories",
        "message_id",
        "read_receipt",
        "delivery_receipt",
        "flag",
    }
)
_PLAIN_TEXT = ("subject", "class", "message_id", "flag")
_PLAIN_FLAGS = ("draft", "template", "read_receipt", "delivery_receipt")


def surely_composable(spec: dict[str, Any]) -> bool:
    """Whether :func:`check_composable` surely passes for a new message's spec, found without
    composing it (a fraction of the time, for ``add --json`` of many messages).

    True only for a spec of :data:`_PLAIN_KEYS` whose every value passes the checks the composer
    makes of it, made with the composer's own functions (:func:`~msgsess.mailfields.parse_address`,
    the date parser). Any doubt (another key, a value of the wrong type, an address or date
    that does not parse, a recipient with properties) is False, and the caller composes the
    spec: every error still comes from the composer, with its words and place.
    """
    if not spec.keys() <= _PLAIN_KEYS:
        return False
    bad = BAD_CHAR.search
    for key in _PLAIN_TEXT:
        value = spec.get(key)
        if value is not None and (not isinstance(value, str) or bad(value)):
            return False
    for key in _PLAIN_FLAGS:
        flag = spec.get(key)
        if flag is not None and not isinstance(flag, bool):  # 1 == True, but no flag
            return False
    if spec.get("template") and spec.get("draft") is False:
        return False  # a template is an unsent draft: the composer says so
    for key, table in (("importance", IMPORTANCE), ("sensitivity", SENSITIVITY)):
        value = spec.get(key)
        if value is not None and (not isinstance(value, str) or value.lower() not in table):
            return False
    categories = spec.get("categories")
    if categories is not None and not (
        isinstance(categories, list) and all(isinstance(c, str) and not bad(c) for c in categories)
    ):
        return False
    addresses = [spec[key] for key in ("from", "sender") if spec.get(key) is not None]
    for key in ("reply_to", *RECIPIENT_KINDS):
        entries = spec.get(key)
        if entries is None:
            continue
        if not isinstance(entries, list):
            return False
        for entry in entries:
            if isinstance(entry, dict) and key != "reply_to" and not entry.keys() - {"address", "properties"}:
                if entry.get("properties"):
                    return False  # composed: its properties are values to parse
                entry = entry.get("address")
            addresses.append(entry)
    try:
        for address in addresses:
            if not isinstance(address, str) or bad(address):
                return False
            parse_address(address)
        date = spec.get("date")
        if date is not None:
            if not isinstance(date, str) or bad(date):
                return False
            from msgsess.props import values
            from msgsess.props.types import PT_SYSTIME

            values.parse_json(PT_SYSTIME, date, prop="date")
    except MsgsessError:
        return False
    return True


def _item_base(store: Store | None, spec: dict[str, Any]) -> Message | None:
    """The decoded source of an edit that changes item fields (None otherwise)."""
    from msgsess.spec import ITEMS

    if store is None or "source" not in spec or not set(spec) & ITEMS.keys:
        return None
    return edit_spec.base_message(store, spec)


def check_added(spec: dict[str, Any], key: str, first: int, label: str, settings: Settings) -> None:
    """Compose only the entries of ``spec[key]`` from ``first`` on (recipients or attachments just
    added), so that adding one to a message costs the same however many it has already.

    The entries before them were checked when they were added, and nothing in one recipient or
    attachment depends on the others (the limit of 2048 is :func:`check_room`'s). Errors name
    each entry by its index in the whole list, as a check of the whole message would.
    """
    check_composable({key: spec[key]}, label, settings, from_index={key: first})


def _save_edit(store: Store, msg_id: str, spec: dict[str, Any]) -> None:
    """Check an edited spec as a whole (text, addresses, values…) and store it."""
    try:
        check_text(spec)
    except MsgsessError as exc:
        exc.at(f"message {msg_id}")
        raise
    check_composable(spec, f"message {msg_id}", store.settings(), store=store)
    store.update_spec(msg_id, spec)


def added_label(spec: dict[str, Any]) -> str:
    """How errors name a message being added: what the user typed, ``message ID`` for an id it
    gives, else its OUTPUT as given; never an id assigned before the add succeeded. Empty for a
    message with neither (the one message of a command line; ``add --json`` names its line)."""
    if spec.get("id"):
        return f"message {spec['id']}"
    output = str(spec.get("output") or "")
    return repr(output) if BAD_CHAR.search(output) else output  # NUL, half a surrogate: escaped


def _replace_target(store: Store, spec: dict[str, Any]) -> str | None:
    """The message ``add --replace`` replaces: the one with the spec's id if it gives one, else
    the one whose output is the spec's (an edited file's own path when it gives none)."""
    given = spec.get("id")
    if given is not None:
        return str(given) if store.exists(given) else None
    output = spec.get("output")
    if output is None and isinstance(spec.get("source"), dict):
        output = spec["source"].get("file")
    if not output:
        return None
    owner = store.output_owner(os.path.abspath(output))
    return None if owner is None else owner[0]


def output_taken(store: Store, output: str, owner: tuple[str, str], command: str) -> Collision:
    """Exit 10 for an output another message has, with the way out that fits ``command``:
    ``add``, ``add --replace`` (replacing by id) or ``output``."""
    other_id, other_output = owner
    same = "" if other_output == output else f" (as {other_output}: the same file)"
    rm = f"`msgsess rm {store.path} {other_id}`"
    if command == "import":
        hint = f"--replace replaces message {other_id} with the input, {rm} removes it; or use --out-dir"
    elif command == "add --replace":
        hint = f"replace that message with --id {other_id}, or remove it first with {rm}"
    elif command == "output":
        hint = f"remove that message with {rm}, or first give it another output with `msgsess output`"
    else:
        hint = f"`msgsess add --replace` replaces message {other_id}, {rm} removes it; or change the output"
    return Collision(f"output {output} is already the output of message {other_id}{same}", hint=hint)


class _Stored(Record):
    """One message ``add`` stored: its id, its output as given and as kept, the ids it embeds."""

    __slots__ = _fields = ("id", "given_output", "output", "children")

    def __init__(self, id: str, given_output: str | None, output: str | None, children: list[str]) -> None:
        self.id = id
        self.given_output = given_output
        self.output = output
        self.children = children


def _store_spec(
    store: Store, item: Input, settings: Settings, warn: Warn | None = None, *, replace: bool = False
) -> _Stored:
    """Insert one validated spec whose files were read (or, with ``replace`` or its own
    ``"replace": true``, replace the message with its id or output whole).

    Errors are located at the message as the user named it (:func:`added_label`).
    """
    label = added_label(item.spec)
    try:
        return _insert_spec(store, item, settings, label, warn, replace)
    except MsgsessError as exc:
        exc.at(label)
        raise


def _insert_spec(
    store: Store, item: Input, settings: Settings, label: str, warn: Warn | None, replace: bool
) -> _Stored:
    spec = dict(item.spec)
    replace = bool(spec.pop("replace", False)) or replace
    given_id = spec.pop("id", None)
    if item.text_error is not None:
        item.text_error.store_into(store)  # raises it
    target = _replace_target(store, item.spec) if replace else None
    output = spec.pop("output", None)
    if item.source is not None:
        spec["source"] = item.source.store_into(store)  # an edited message: its file's bytes
    if item.eml is not None:
        spec["eml"] = item.eml.store_into(store)  # a MIME message the spec changes
    output = given_output = edit_spec.prepare(spec, output)
    edit_spec.check_room(spec, "recipients", 0)
    edit_spec.check_room(spec, "attachments", 0)
    if "html" in spec and "rtf" in spec:
        raise InvalidParameter(
            "give an HTML body or an RTF body, not both",
            hint="Outlook keeps HTML inside the RTF body itself: give the HTML alone",
        )
    if output is not None:
        output = os.path.abspath(output)
        check_text({"output": output})  # an edited file's own path, written back to
        owner = store.output_owner(output)
        if owner is not None and owner[0] != target:
            raise output_taken(store, output, owner, "add --replace" if replace else "add")
    children: list[str] = []
    if item.attachments is not None:
        captured = []
        for i, (att, loaded) in enumerate(zip(spec["attachments"], item.attachments, strict=True)):
            captured.append(loaded.store_into(store, f"attachment {i}"))
            if "message" in att:
                children.append(att["message"])
        spec["attachments"] = captured
    if item.photo is not None:
        spec["photo"] = item.photo.store_into(store, "photo")
    checked = {**spec, "template": True} if is_template(output, spec) else spec
    if not surely_composable(checked):
        check_composable(checked, label, settings, store=store)
    msg_id = target or given_id or store.new_id()
    if target is None:
        store.insert(msg_id, output, spec)
    else:
        store.replace(msg_id, output, spec)
    if warn is not None:
        if item.eml is not None:
            for text in item.eml.warnings:
                warn(f"{msg_id}: {text}")
        for text in _spec_cid_warnings(msg_id, spec):
            warn(text)
    for child in children:
        store.add_embed(msg_id, child)
    return _Stored(msg_id, given_output, output, children)


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


def _check_embed(store: Store, parent: str, child: str) -> None:
    if not store.exists(child):
        raise NotFound(
            f"no message with id {child!r} to embed",
            hint=f"add it first, or list the ids with `msgsess show {store.path}`",
        )
    chain = _embed_path(store, parent, child)
    if chain is not None:
        cycle = " → ".join([parent, *chain])
        raise InvalidParameter(
            f"embedding {child} in {parent} makes a cycle: {cycle}",
            hint="a message cannot contain itself; embed a copy instead",
        )


# --- open / discard --------------------------------------------------------------------------


def open_session(path: str | os.PathLike[str], *, ansi: bool, codepage: int | None, force: bool) -> Path:
    """Create a session file (Unicode unless ``ansi``; code page 1252 unless given)."""
    if codepage is not None and not ansi:
        raise InvalidParameter("--codepage needs --ansi", hint="add --ansi, or leave --codepage out")
    cp = 1252 if codepage is None else codepage
    if ansi:
        from msgsess.oxmsg.codepages import check_codepage

        check_codepage(cp)
    return create_store(path, unicode=not ansi, codepage=cp, force=force)


def discard(path: str | os.PathLike[str]) -> None:
    """Remove a session without writing anything (waits for running commands).

    A session already marked closed (a ``close`` killed before it removed the file) is removed
    too. The file is removed only if it is still the one discarded: a session that
    ``open --force`` put at the path meanwhile stays.
    """
    with transaction(path, write=True, allow_closed=True) as store:
        store.mark_closed()
        opened = store.identity()
    remove_store(path, None if opened is None else opened[:2])


# --- add -------------------------------------------------------------------------------------


def add(
    path: str | os.PathLike[str],
    specs: Iterable[tuple[str, dict[str, Any]]],
    *,
    warn: Warn | None = None,
    replace: bool = False,
) -> list[str]:
    """Add messages (``(where, spec)`` pairs, specs valid for the schema); return their ids.

    One transaction: if any spec is refused, none is added. Paths are read relative to the
    current folder; outputs are kept as absolute paths. With ``replace`` (or ``"replace": true``
    in a spec) a spec whose id, or else output, is a message's already replaces that message
    whole: same id and place, new content only; without a match it is added. ``warn`` receives
    warnings about messages that are added all the same: HTML referring to a missing ``cid:``,
    an output that is no ``.msg``/``.oft`` or whose folder is not writable now, no output at all.
    """
    ids: list[str] = []
    warnings: list[str] = []
    late: list[str] = []  # warnings known once every spec is in, in the order of the messages
    # The first spec (the only one of a command line) is read before the session is locked;
    # each further one as add gets to it. Large files are copied into the session in chunks:
    # the memory of add grows with neither the number of messages nor the size of their files.
    inputs = load_specs(specs)
    items = _first_then(next(inputs, None), inputs)
    with transaction(path, write=True) as store:
        #: (where, label, parent, child) of each embedding, checked once every spec is in.
        pending: list[tuple[str, str, str, str]] = []
        #: Messages without an output, warned about unless a later one embeds them.
        unembedded: list[tuple[int, str]] = []
        #: What each output folder was found to be (the warnings of messages sharing one).
        folders: dict[str, tuple[str, str] | None] = {}
        settings = store.settings()
        for item in items:
            if item.error is not None:
                raise item.error
            try:
                one = _store_spec(store, item, settings, warnings.append, replace=replace)
            except MsgsessError as exc:
                exc.at(item.where)
                raise
            ids.append(one.id)
            label = added_label(item.spec)
            pending.extend((item.where, label, one.id, child) for child in one.children)
            if one.output is not None and one.given_output is not None:
                late.extend(output_warnings(store.path, one.id, one.given_output, one.output, folders))
            elif one.output is None:
                unembedded.append((len(late), one.id))
                late.append("")  # its place among the warnings, if it gets one
        for where, label, parent, child in pending:
            if child not in store.children(parent):
                continue  # the parent was replaced later in this input: that edge is gone
            try:
                _check_embed(store, parent, child)
            except MsgsessError as exc:
                exc.at(label).at(where)
                raise
        for place, msg_id in unembedded:  # once every spec is in: a later one may embed it
            if store.exists(msg_id) and not store.has_parent(msg_id):
                late[place] = no_output_warning(store.path, msg_id)
    if warn is not None:
        for text in dict.fromkeys(w for w in (*warnings, *late) if w):  # a message replaced twice: once
            warn(text)
    return ids


def _first_then(first: Input | None, rest: Iterator[Input]) -> Iterator[Input]:
    if first is not None:
        yield first
        del first  # not held while the rest are stored
    yield from rest


def output_warnings(
    session: str | os.PathLike[str],
    msg_id: str,
    given: str,
    output: str,
    folders: dict[str, tuple[str, str] | None] | None = None,
) -> list[str]:
    """What may be wrong with an output, though it is no error (``add`` and ``output`` warn):
    no ``.msg``/``.oft`` ending (often a word of an unquoted text, ``--subject Hello world``),
    or a folder that is not writable now (``close`` creates missing folders: the nearest
    existing one counts). ``folders`` keeps what each folder was found to be, for a command
    that adds many messages to a few folders."""
    found: list[str] = []
    if not output.lower().endswith((".msg", ".oft")):
        found.append(
            f"{msg_id}: output {given} does not end in .msg or .oft (was it a word of an unquoted "
            f"text? `msgsess output {session} {msg_id} PATH` changes it)"
        )
    head = os.path.dirname(output)
    if folders is None or head not in folders:
        problem = _folder_problem(head)
        if folders is not None:
            if len(folders) >= _MOST_FOLDERS:
                folders.clear()  # outputs in ever new folders: memory stays flat
            folders[head] = problem
    else:
        problem = folders[head]
    if problem is not None and problem[0] == "not a folder":
        found.append(f"{msg_id}: {problem[1]}, on the way to output {given}, is not a folder (close fails)")
    elif problem is not None:
        found.append(
            f"{msg_id}: folder {problem[1]} of output {given} is not writable now "
            "(close fails unless that changes)"
        )
    return found


#: Output folders whose state :func:`output_warnings` keeps at a time.
_MOST_FOLDERS = 4096


def _folder_problem(folder: str) -> tuple[str, str] | None:
    """Why ``close`` could not make a file in ``folder`` as things are: ("not a folder" or "not
    writable", the nearest existing folder on the way), or None."""
    while folder and not os.path.lexists(folder) and os.path.dirname(folder) != folder:
        folder = os.path.dirname(folder)
    if folder and not os.path.isdir(folder):
        return "not a folder", folder
    if folder and not os.access(folder, os.W_OK | os.X_OK):
        return "not writable", folder
    return None


def no_output_warning(session: str | os.PathLike[str], msg_id: str) -> str:
    """The warning for a message that has no output and that no message embeds."""
    return (
        f"{msg_id} has no output and no message embeds it: close refuses it until it has one "
        f"(give it one with `msgsess output {session} {msg_id} PATH`, or embed it with "
        f"`msgsess attach {session} OTHER_ID --message {msg_id}`)"
    )


# --- edit, and removing rows ----------------------------------------------------------------


def edit_file(
    path: str | os.PathLike[str],
    file: str,
    *,
    output: str | None = None,
    msg_id: str | None = None,
    codepage: int | None = None,
) -> str:
    """Add an existing ``.msg`` file to the session as a message to change; return its id.

    The file's bytes are read and checked now. ``close`` writes it back to ``file`` unless an
    ``output`` is given; ``codepage`` is used for ANSI strings of a file that names no code page.
    """
    source: dict[str, Any] = {"file": file}
    if codepage is not None:
        source["codepage"] = codepage
    spec: dict[str, Any] = {"source": source}
    if output is not None:
        spec["output"] = output
    if msg_id is not None:
        spec["id"] = msg_id
    return add(path, [("", jsonspec.validate(spec, "command line"))])[0]


def remove_recipient(path: str | os.PathLike[str], msg_id: str, number: int) -> None:
    """Remove recipient ``number`` (as ``show`` numbers them) of a new or edited message."""
    with transaction(path, write=True) as store:
        spec = store.get(msg_id).spec
        with located(f"message {msg_id}"):
            edit_spec.remove_row(spec, "recipients", number)
        _save_edit(store, msg_id, spec)


def detach(path: str | os.PathLike[str], msg_id: str, number: int) -> None:
    """Remove attachment ``number`` of a new or edited message."""
    with transaction(path, write=True) as store:
        spec = store.get(msg_id).spec
        with located(f"message {msg_id}"):
            kind, entry = edit_spec.remove_row(spec, "attachments", number)
        if kind != ORIGINAL and "message" in entry:
            child = entry["message"]
            if not any(att.get("message") == child for att in spec.get("attachments", ())):
                store.remove_embed(msg_id, child)
        _save_edit(store, msg_id, spec)


# --- recipients and attachments --------------------------------------------------------------


def add_recipients(path: str | os.PathLike[str], msg_id: str, kind: str, addresses: list[str]) -> list[int]:
    """Append recipients of one kind (to, cc, bcc); return their numbers in table order.

    More than a .msg holds (2048, the edited file's own included) is refused: TooBig. Only the
    new recipients are checked (composed): the cost does not grow with the message.
    """
    if kind not in RECIPIENT_KINDS:
        raise InvalidParameter(f"unknown recipient kind {kind!r}", hint="give to, cc or bcc")
    with transaction(path, write=True) as store:
        row = store.get(msg_id)
        spec = row.spec
        label = f"message {msg_id}"
        with located(label):
            edit_spec.check_room(spec, "recipients", len(addresses))
            for i, addr in enumerate(addresses):
                jsonspec.validate_part(addr, "#/$defs/address", "", f"$.{kind}[{i}]")
            first = len(spec.get(kind, []))
            spec[kind] = [*spec.get(kind, []), *addresses]
            check_added(spec, kind, first, label, store.settings())
        store.update_spec(msg_id, spec)
        return [spec_number(spec, kind, index) for index in range(first, len(spec[kind]))]


def attach(path: str | os.PathLike[str], msg_id: str, attachments: list[dict[str, Any]]) -> list[int]:
    """Append attachments (specs of the schema's attachment form); return their numbers.

    More than a .msg holds (2048, the edited file's own included) is refused: TooBig. Small files
    are read, decoded and hashed before the session is locked, larger ones copied in chunks into
    it (:data:`~msgsess.session.inputs.WHOLE`); only the new attachments are checked
    (composed), so the cost does not grow with the number the message has already.
    """
    ahead = ReadAhead()
    loaded = [load_attachment(att, validate=True, ahead=ahead) for att in attachments]
    with transaction(path, write=True) as store:
        spec = store.get(msg_id).spec
        label = f"message {msg_id}"
        with located(label):
            edit_spec.check_room(spec, "attachments", len(attachments))
            current = spec.setdefault("attachments", [])
            kept = spec_kept(spec, "attachments")
            first = len(current)
            numbers = []
            for att, item in zip(attachments, loaded, strict=True):
                number = kept + len(current)
                if "message" in att and item.error is None:
                    _check_embed(store, msg_id, att["message"])
                current.append(item.store_into(store, f"attachment {number}"))
                if "message" in att:
                    store.add_embed(msg_id, att["message"])
                numbers.append(number)
            check_added(spec, "attachments", first, label, store.settings())
        store.update_spec(msg_id, spec)
        return numbers


def row_labels(path: str | os.PathLike[str], msg_id: str) -> tuple[list[str], list[str]]:
    """A short label for each recipient and each attachment of a message, in the numbering
    users give (``recipient --remove N``, ``detach``, ``--attachment N``): for shell completion."""
    with transaction(path, write=False) as store:
        spec = store.get(msg_id).spec
    recipients = []
    for kind, index in rows(spec, "recipients"):
        if kind == ORIGINAL:
            recipients.append(f"the file's recipient {index}")
        else:
            entry = spec[kind][index]
            address = entry if isinstance(entry, str) else str(entry.get("address", ""))
            recipients.append(f"{kind}: {address}")
    attachments = []
    for kind, index in rows(spec, "attachments"):
        if kind == ORIGINAL:
            attachments.append(f"the file's attachment {index}")
            continue
        att = spec["attachments"][index]
        if "message" in att:
            attachments.append(f"embedded message {att['message']}")
        else:
            attachments.append(str(att.get("name") or "(no name)"))
    return recipients, attachments


# --- properties ------------------------------------------------------------------------------


def _property_bag(spec: dict[str, Any], recipient: int | None, attachment: int | None) -> Any:
    """The ``properties`` object to edit: the message's, a recipient's or an attachment's."""
    if recipient is not None and attachment is not None:
        raise InvalidParameter("give --recipient or --attachment, not both")
    # Numbers as `show` gives them; in an edited message the file's own rows come first.
    if recipient is not None:
        kind, index = spec_row(spec, "recipients", recipient)
        if kind == ORIGINAL:
            return edit_spec.original_properties(spec, "recipients", index)
        entry = spec[kind][index]
        if isinstance(entry, str):
            entry = spec[kind][index] = {"address": entry}
        return entry.setdefault("properties", {})
    if attachment is not None:
        kind, index = spec_row(spec, "attachments", attachment)
        if kind == ORIGINAL:
            return edit_spec.original_properties(spec, "attachments", index)
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
    edit_spec.tidy(spec)


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
    # Names resolved, value parsed and @files read before the lock; errors raised in order below.
    entry: tuple[str, Any] | None = None
    error: MsgsessError | None = None
    try:
        entry = sprops.entry(
            prop, text, text=True, type_name=type_name, read_file=lambda p: read_input(p, f"property {prop}")
        )
    except MsgsessError as exc:
        error = exc
    with transaction(path, write=True) as store:
        spec = store.get(msg_id).spec
        with located(label):
            bag = _property_bag(spec, recipient, attachment)
        if error is not None:
            raise error.at(label)
        assert entry is not None
        key, value = entry
        _drop_spellings(bag, key)
        if recipient is None and attachment is None and _is_subject(key, value):
            spec["subject"] = value[1:] if value.startswith("@@") else value  # plain text, not a value
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
        with located(label):
            bag = _property_bag(spec, recipient, attachment)
            _drop_spellings(bag, prop)
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
        with located(option):
            key, value = sprops.entry(name.strip(), text, text=True, read_file=read_input)
            _drop_spellings(bag, key)
        bag[key] = value


# --- show ------------------------------------------------------------------------------------


#: A read transaction of ``show`` ends after this many messages or bytes of attachments.
_SHOW_BATCH = 64
_SHOW_BATCH_BYTES = 8 << 20


def _export(
    store: Store, msg_id: str, output: str | None, spec: dict[str, Any], data: bool
) -> tuple[dict[str, Any], int]:
    """One message as ``show`` gives it, and how many bytes of attachments it holds."""
    out: dict[str, Any] = {"id": msg_id}
    if output is not None:
        out["output"] = output
    out.update(spec)
    size = 0
    if "source" in spec:
        out["source"] = edit_spec.export_source(store, spec["source"], data)
        size += int(out["source"].get("size") or len(out["source"].get("data") or ""))
    if "eml" in spec:
        out["eml"] = edit_spec.export_eml(store, spec["eml"], data)
        size += int(out["eml"].get("size") or len(out["eml"].get("data") or ""))
    if "attachments" in spec:
        atts = []
        for att in spec["attachments"]:
            att = dict(att)
            for key, public in (("blob", "data"), ("msg_blob", "msg_data")):
                if key in att:
                    sha = att.pop(key)
                    if data:
                        blob = store.blob(sha)
                        size += len(blob)
                        att = {public: binascii.b2a_base64(blob, newline=False).decode("ascii"), **att}
                    else:  # the size from SQL: the bytes stay on disk
                        att = {public: None, "size": store.blob_size(sha), **att}
            atts.append(att)
        out["attachments"] = atts
    photo = spec.get("photo")
    if isinstance(photo, dict) and "blob" in photo:  # a contact's picture, as attachments are
        if data:
            blob = store.blob(photo["blob"])
            size += len(blob)
            out["photo"] = {"data": binascii.b2a_base64(blob, newline=False).decode("ascii")}
        else:
            out["photo"] = {"data": None, "size": store.blob_size(photo["blob"])}
    return out, size


def show(
    path: str | os.PathLike[str], msg_id: str | None = None, *, data: bool = True
) -> Iterator[dict[str, Any]]:
    """Each message (or one) in the schema ``add --json`` reads, in the order added.

    With ``data=False`` attachment bytes are left out (``"data": null`` and a ``size``).
    Messages are read in short read transactions (a batch of messages at a time) and given to
    the caller after each ends: a caller that prints slowly does not keep writers waiting.
    Each batch checks that it reads the same session file as the first (device, inode and the
    session's token): a session replaced (``open --force``) or closed between two batches ends
    the listing with :class:`SessionError` instead of mixing two sessions or stopping silently.
    """
    if msg_id is not None:
        with transaction(path, write=False) as store:
            row = store.get(msg_id)
            one, _size = _export(store, row.id, row.output, row.spec, data)
        yield one
        return
    since = 0
    first: Identity | None = None
    while True:
        batch: list[dict[str, Any]] = []
        try:
            with transaction(path, write=False) as store:
                identity = store.identity()
                if first is None:
                    first = identity
                if identity is None or identity != first:
                    raise _changed_while_shown(path)
                since = _show_batch(store, since, data, batch)
        except SessionError as exc:
            if first is None or isinstance(exc, ChangedWhileShown):
                raise
            raise _changed_while_shown(path) from None  # gone, or marked closed, since the last batch
        if not batch:
            return
        yield from batch


class ChangedWhileShown(SessionError):
    """The session ``show`` lists was replaced or closed between two of its batches."""


def _changed_while_shown(path: str | os.PathLike[str]) -> SessionError:
    what = "replaced (open --force) or closed" if file_id(path) is not None else "closed"
    return ChangedWhileShown(
        f"session {path} was {what} while it was shown: the messages printed are only part of it",
        hint="run show again",
    )


def _show_batch(store: Store, since: int, data: bool, batch: list[dict[str, Any]]) -> int:
    """Read the next batch of ``show`` into ``batch``; return the last ``seq`` read."""
    total = 0
    for row in store.rows(since, _SHOW_BATCH):
        out, size = _export(store, row.id, row.output, row.spec, data)
        batch.append(out)
        since = row.seq
        total += size
        if len(batch) >= _SHOW_BATCH or total >= _SHOW_BATCH_BYTES:
            break
    return since


def session_info(path: str | os.PathLike[str]) -> tuple[bool, int, int]:
    """(unicode, codepage, number of messages) of a session."""
    with transaction(path, write=False) as store:
        settings = store.settings()
        return settings.unicode, settings.codepage, store.count()


def message_ids(path: str | os.PathLike[str]) -> list[str]:
    """Ids of a session's messages (for shell completion)."""
    with transaction(path, write=False) as store:
        return store.ids()
