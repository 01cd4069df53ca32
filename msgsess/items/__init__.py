"""Outlook items beyond mail: appointments, meeting requests, contacts, tasks, notes, lists.

Pure (no disk, no session). How a kind plugs into composing a message::

    prepared = items.prepare(spec, label=label)      # checks the item fields
    msg = compose(prepared.mail_spec, ...)           # the mail part: class, subject, people, photo
    items.apply(prepared, msg, now=now)              # the item's properties, derived ones included

and after any edit of an item, ``items.refresh(msg)`` brings its derived properties in
line (start moved -> clip, common, reminder and recurrence follow; contact e-mail
changed -> its display name and entry id follow). ``items.read(msg)`` gives an item's
fields back as spec keys (for dump, show and export).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from msgsess.errors import InvalidParameter
from msgsess.items import appointment, contact, task
from msgsess.items.fields import Fields
from msgsess.model import Message
from msgsess.props import ids
from msgsess.props import types as t
from msgsess.spec import kind_of_class

KINDS = ("mail", "appointment", "meeting", "contact", "task", "note", "distlist")
#: Spec keys each kind adds to a mail spec.
KIND_KEYS: dict[str, frozenset[str]] = {
    "mail": frozenset(),
    "appointment": appointment.KEYS,
    "meeting": appointment.KEYS,
    "contact": contact.CONTACT_KEYS,
    "task": task.TASK_KEYS,
    "note": task.NOTE_KEYS,
    "distlist": contact.DISTLIST_KEYS,
}
#: Every item key (and "kind"); a mail spec knows "due" too (a follow-up flag's date).
ITEM_KEYS = frozenset({"kind"}).union(*KIND_KEYS.values())
#: Message class prefix -> kind, for reading items back.


@dataclass
class Prepared:
    """An item spec checked and split: the mail spec for the composer and the item's own fields."""

    kind: str
    mail_spec: dict[str, Any]
    fields: Any
    digest: bytes


def kind_of_spec(spec: Mapping[str, Any], label: str = "message") -> str:
    kind = spec.get("kind", "mail")
    if kind not in KINDS:
        raise InvalidParameter(f"{kind!r} is not one of {'|'.join(KINDS)}").at("kind").at(label)
    return str(kind)


def prepare(spec: Mapping[str, Any], *, label: str = "message") -> Prepared:
    """Check a spec's item fields and split it ("one line naming the field and value" on error)."""
    kind = kind_of_spec(spec, label)
    own = KIND_KEYS[kind]
    for key in spec:
        if key in ITEM_KEYS and key not in own and key != "kind" and not (kind == "mail" and key == "due"):
            owners = [k for k in KINDS if key in KIND_KEYS[k]]
            raise (
                InvalidParameter(
                    f"is a field of kind {', '.join(owners)}, not of kind {kind}",
                    hint=f"add kind {owners[0]}" if kind == "mail" else None,
                )
                .at(key)
                .at(label)
            )
    mail = {k: v for k, v in spec.items() if k not in ITEM_KEYS or (kind == "mail" and k == "due")}
    f = Fields(spec, label)
    extra: dict[str, Any]
    fields: Any
    if kind == "mail":
        fields, extra = None, {}
    elif kind in ("appointment", "meeting"):
        fields = appointment.parse(f, kind)
        extra = appointment.mail_keys(fields, kind)
        if kind == "meeting" and not spec.get("template"):
            # A request is what an attendee received (asfReceived, not yet answered): a sent
            # message, read, with its times, not an unsent draft (a template stays a draft).
            extra["draft"] = False
    elif kind == "contact":
        fields = contact.parse_contact(f)
        extra = contact.contact_mail_keys(fields, dict(spec))
    elif kind == "distlist":
        fields = contact.parse_distlist(f)
        extra = contact.distlist_mail_keys(fields[0], dict(spec))
    elif kind == "task":
        fields = task.parse_task(f)
        extra = task.task_mail_keys(fields)
    else:
        fields = task.parse_note(f)
        extra = task.note_mail_keys(dict(spec))
    for key, value in extra.items():
        if key in ("to", "cc", "bcc"):
            given = mail.get(key) or []
            mail[key] = [*([given] if isinstance(given, (str, dict)) else given), *value]
        elif key not in mail or key == "attachments":
            mail[key] = value
    canonical = json.dumps(spec, sort_keys=True, ensure_ascii=True, default=str)
    digest = hashlib.sha256(canonical.encode() + label.encode()).digest()
    return Prepared(kind, mail, fields, digest)


def apply(prepared: Prepared, msg: Message, *, now: t.FileTime) -> None:
    """Put the item's properties on the message the composer built from ``prepared.mail_spec``."""
    kind, fields = prepared.kind, prepared.fields
    if kind in ("appointment", "meeting"):
        appointment.apply(fields, msg, kind, now=now, digest=prepared.digest)
    elif kind == "contact":
        contact.apply_contact(fields, msg)
    elif kind == "distlist":
        contact.apply_distlist(fields[0], fields[1], msg)
    elif kind == "task":
        task.apply_task(fields, msg, now=now)
    elif kind == "note":
        task.apply_note(fields, msg)


#: Item keys whose change touches the recipient table; an edit changes those through the
#: recipient commands instead (the composer owns that table).
PEOPLE_KEYS = frozenset({"organizer", "attendees", "optional", "resources"})


def prepare_edit(msg: Message, spec: Mapping[str, Any], *, label: str = "message") -> Prepared:
    """Check the item fields an edit changes on an existing item, merged over its current ones.

    Then ``compose(prepared.mail_spec, base=msg)`` applies the mail keys of the edit and
    ``items.apply(prepared, msg, now=now)`` the item's; what was not named stays as it was.
    """
    kind = kind_of(msg)
    given = spec.get("kind")
    if given is not None and given != kind:
        raise (
            InvalidParameter(f"the message is of kind {kind}; {given!r} would be a new item")
            .at("kind")
            .at(label)
        )
    changes = {k: v for k, v in spec.items() if k in ITEM_KEYS and k != "kind"}
    people = sorted(PEOPLE_KEYS & set(changes))
    if people:
        raise (
            InvalidParameter(
                "the people of an existing meeting change in its recipient table",
                hint="add or remove recipients (to = required, cc = optional, bcc = resources)",
            )
            .at(people[0])
            .at(label)
        )
    current = read(msg)
    current.pop("kind")
    default_subject = _default_subject(kind, current)
    for key in PEOPLE_KEYS:
        current.pop(key, None)
    if kind == "contact" and "name" in changes:
        contact.forget_derived(current)
    if "all_day" in changes:
        current.pop("start", None)
        current.pop("end", None)
    elif ("start" in changes or "end" in changes) and "all_day" in current:
        current.pop("all_day")
    keep_duration = "start" in changes and "end" not in changes and "end" in current
    if keep_duration:  # a moved start moves the end too, as in Outlook
        import datetime as dt

        duration = dt.datetime.fromisoformat(current["end"]) - dt.datetime.fromisoformat(current["start"])
        current.pop("end")
    merged = {**current, **changes, "kind": kind}
    checked = prepare(merged, label=label)
    if keep_duration:
        checked.fields.end = checked.fields.start + duration
    mail = {k: v for k, v in spec.items() if k not in ITEM_KEYS or (kind == "mail" and k == "due")}
    # A contact's or list's subject that showed its old name shows the new one.
    followed = msg.props.value(ids.SUBJECT) == default_subject
    if (
        kind in ("contact", "distlist")
        and "subject" not in spec
        and "subject" in checked.mail_spec
        and followed
    ):
        mail["subject"] = checked.mail_spec["subject"]
    return Prepared(kind, mail, checked.fields, checked.digest)


def _default_subject(kind: str, fields: dict[str, Any]) -> str | None:
    """The subject a contact or list gets from its fields when none is given."""
    if kind == "contact":
        parts = fields.get("name")
        return contact.email_name(parts if isinstance(parts, dict) else {}, fields.get("display_name", ""))
    if kind == "distlist":
        return fields.get("name")
    return None


def kind_of(msg: Message) -> str:
    """The kind of a message, by its class (``mail`` for anything else)."""
    return kind_of_class(str(msg.props.value(ids.MESSAGE_CLASS, "")))


def refresh(msg: Message) -> None:
    """Bring an item's derived properties in line with its own after an edit (mail: nothing)."""
    kind = kind_of(msg)
    if kind in ("appointment", "meeting"):
        appointment.refresh(msg)
    elif kind == "contact":
        contact.refresh_contact(msg)
    elif kind == "task":
        task.refresh_task(msg)
    elif kind == "note":
        task.refresh_note(msg)


def read(msg: Message) -> dict[str, Any]:
    """An item's fields as spec keys, with its kind (for dump, show and export)."""
    kind = kind_of(msg)
    out: dict[str, Any] = {"kind": kind}
    if kind in ("appointment", "meeting"):
        out.update(appointment.read(msg))
    elif kind == "contact":
        out.update(contact.read_contact(msg))
    elif kind == "distlist":
        out.update(contact.read_distlist(msg))
    elif kind == "task":
        out.update(task.read_task(msg))
    elif kind == "note":
        out.update(task.read_note(msg))
    return out


def words(msg: Message) -> list[tuple[str, str]]:
    """An item's fields as (label, text) lines for people: start and end, recurrence in words."""
    import datetime as dt

    from msgsess.items.fields import get

    fields = read(msg)
    out: list[tuple[str, str]] = [("kind", fields.pop("kind"))]
    if "start" in fields:
        start = dt.datetime.fromisoformat(fields.pop("start"))
        end = dt.datetime.fromisoformat(fields.pop("end"))
        until = f"{end:%H:%M}" if end.date() == start.date() else f"{end:%a %d %b %Y %H:%M}"
        out.append(("when", f"{start:%a %d %b %Y %H:%M} to {until} ({fields.pop('timezone')})"))
    elif "all_day" in fields:
        out.append(
            ("when", f"all day {fields.pop('all_day').replace('/', ' to ')} ({fields.pop('timezone')})")
        )
    if "recurrence" in fields:
        text = get(msg.props, "PidLidRecurrencePattern")
        rule = fields.pop("recurrence")
        out.append(("recurs", f"{text} ({rule})" if text else rule))
    for key, value in fields.items():
        if isinstance(value, list):
            text = ", ".join(str(v) for v in value)
        elif isinstance(value, dict):
            text = "; ".join(f"{k}: {v}" for k, v in value.items() if k != "data") or "(picture)"
        else:
            text = str(value)
        out.append((key, text))
    return out
