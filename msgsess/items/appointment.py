"""Appointments and meeting requests, as Outlook writes them ([MS-OXOCAL]).

The fields a user gives (start, end, zone, recurrence, …) are set as the *primary*
properties; :func:`refresh` derives everything Outlook computes from them (clip and
common start/end, duration, reminder times, time-zone structures, the recurrence
blob and its words, attendee strings, icon), so that building and editing share one
rule.
"""

from __future__ import annotations

import datetime as dt
import struct
from dataclasses import dataclass, field
from typing import Any

from msgsess.errors import located
from msgsess.items import recurrence as rr
from msgsess.items import timezones as tz
from msgsess.items.fields import Fields, drop, filetime, format_address, get, moment_of, prop, put
from msgsess.model import Message, int_value
from msgsess.props import ids
from msgsess.props import types as t

KEYS = frozenset(
    {
        "start",
        "end",
        "all_day",
        "timezone",
        "location",
        "busy",
        "reminder",
        "recurrence",
        "exdate",
        "organizer",
        "attendees",
        "optional",
        "resources",
        "uid",
        "sequence",
    }
)
BUSY = {"free": 0, "tentative": 1, "busy": 2, "oof": 3, "elsewhere": 4}
BUSY_NAMES = {v: k for k, v in BUSY.items()}
APPOINTMENT_CLASS = "IPM.Appointment"
REQUEST_CLASS = "IPM.Schedule.Meeting.Request"
#: PidLidAppointmentStateFlags ([MS-OXOCAL] 2.2.1.10).
ASF_MEETING, ASF_RECEIVED = 0x1, 0x2
#: PidLidResponseStatus ([MS-OXOCAL] 2.2.1.11).
RESPONSE_NONE, RESPONSE_ORGANIZED, RESPONSE_NOT_RESPONDED = 0, 1, 5
#: PidTagRecipientFlags ([MS-OXOCAL] 2.2.4.10.1).
RECIP_SENDABLE, RECIP_ORGANIZER = 0x1, 0x2
#: PidLidMeetingType: mtgRequest, an initial request ([MS-OXOCAL] 2.2.6.5).
MEETING_TYPE_REQUEST = 0x1
#: PidTagIconIndex ([MS-OXOMSG] 2.2.1.10).
ICON_SINGLE, ICON_RECURRING, ICON_MEETING, ICON_MEETING_RECURRING, ICON_REQUEST = (
    0x400,
    0x401,
    0x402,
    0x403,
    0x404,
)
#: Byte Array ID that starts every global object id ([MS-OXOCAL] 2.2.1.27).
GOID_PREFIX = bytes.fromhex("040000008200E00074C5B7101A82E008")
#: Data of a global object id made from an iCalendar UID ([MS-OXCICAL] 2.1.3.1.1.20.26).
VCAL_UID = b"vCal-Uid" + struct.pack("<I", 1)
#: PidLidClipEnd of a series without end ([MS-OXOCAL] 2.2.1.15).
CLIP_NEVER = dt.datetime(4500, 8, 31, 23, 59, tzinfo=dt.UTC)
DEFAULT_MINUTES = 30


@dataclass
class Event:
    start: dt.datetime  # aware, in ``zone``
    end: dt.datetime
    zone: str
    all_day: bool = False
    location: str | None = None
    busy: int | None = None
    reminder: int | None = None
    recurrence: rr.Recurrence | None = None
    organizer: tuple[str, str] | None = None
    attendees: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    uid: str | None = None
    sequence: int | None = None


def _zone_for(f: Fields, moment: dt.datetime | None) -> str:
    """The IANA zone of an item: given, or UTC / Etc/GMT±N from a whole-hour offset."""
    name = f.text("timezone")
    if name is not None:
        with located(f.label):
            tz.get_zone(name)
        return name
    if moment is None or moment.utcoffset() is None:
        return "UTC"
    minutes = int((moment.utcoffset() or dt.timedelta(0)).total_seconds()) // 60
    if minutes == 0:
        return "UTC"
    if minutes % 60 == 0:
        return f"Etc/GMT{-minutes // 60:+d}"  # POSIX signs: Etc/GMT-1 is UTC+1
    raise f.fail(
        "start",
        f"offset {moment.isoformat()[-6:]} is no whole hour",
        hint=f"give {f.name('timezone')}, an IANA name such as Asia/Kolkata",
    )


def parse(f: Fields, kind: str) -> Event:
    """The event fields of a spec (start is required)."""
    with located(f.label):
        given_zone = tz.get_zone(f.text("timezone") or "UTC")
    all_day = f.text("all_day")
    if all_day is not None:
        if f.has("start") or f.has("end"):
            day = f.name("all_day")
            raise f.fail(
                "all_day",
                f"give either {day} or {f.name('start')}/{f.name('end')}",
                hint=f"{day} takes DATE or DATE/DATE",
            )
        first_text, _, last_text = all_day.partition("/")
        first = f.date("all_day", first_text)
        last = f.date("all_day", last_text) if last_text else first
        assert first is not None and last is not None
        if last < first:
            raise f.fail("all_day", f"{all_day!r} ends before it starts")
        zone_name = f.text("timezone") or "UTC"
        zone = tz.get_zone(zone_name)
        start = dt.datetime.combine(first, dt.time(), zone)
        end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), zone)
    else:
        start_in = f.moment("start", given_zone if f.has("timezone") else None)
        if start_in is None:
            raise f.fail(
                "start",
                f"an {kind} needs a start",
                hint=f"give {f.name('start')} (ISO 8601) or {f.name('all_day')} DATE",
            )
        zone_name = _zone_for(f, start_in)
        zone = tz.get_zone(zone_name)
        start = start_in.astimezone(zone)
        end_in = f.moment("end", zone)
        end = end_in.astimezone(zone) if end_in is not None else start + dt.timedelta(minutes=DEFAULT_MINUTES)
        if end < start:
            raise f.fail("end", f"{f.spec.get('end')!r} is before the start")
    event = Event(start, end, zone_name, all_day is not None)
    event.location = f.text("location")
    event.busy = f.choice("busy", BUSY)
    event.reminder = f.integer("reminder", 0, 525600)
    event.uid = f.text("uid")
    event.sequence = f.integer("sequence", 0, 2**31 - 1)
    organizer = f.text("organizer")
    event.organizer = f.address("organizer", organizer) if organizer is not None else None
    for key in ("attendees", "optional", "resources"):
        event.attendees[key] = f.addresses(key)
    rule = f.text("recurrence")
    exdates = [_exdate(f, text, zone) for text in f.text_list("exdate")]
    if exdates and rule is None:
        raise f.fail("exdate", "needs a recurrence", hint=f"give {f.name('recurrence')} RRULE")
    if rule is not None:
        local = start.replace(tzinfo=None)
        with located(f.label):
            # The zoned start: an UNTIL in UTC ("…Z") is an instant, read in the item's zone.
            event.recurrence = rr.parse_rrule(rule, start, exdates=exdates)
            first, _last, _n = rr.first_and_last(event.recurrence, local)
        if first != local:  # Outlook's series starts on its first occurrence
            duration = end - start
            event.start = first.replace(tzinfo=zone)
            event.end = event.start + duration
    return event


def _exdate(f: Fields, text: str, zone: dt.tzinfo) -> dt.date:
    if "T" in text:
        moment = f.moment("exdate", zone, text)
        assert moment is not None
        return moment.astimezone(zone).date()
    day = f.date("exdate", text)
    assert day is not None
    return day


def mail_keys(event: Event, kind: str) -> dict[str, Any]:
    """What the mail composer builds for an event: class, organizer as sender, attendees as recipients."""
    out: dict[str, Any] = {"class": REQUEST_CLASS if kind == "meeting" else APPOINTMENT_CLASS}
    flags = {"PidTagRecipientFlags": RECIP_SENDABLE, "PidTagRecipientTrackStatus": 0}
    rows: dict[str, list[Any]] = {"to": [], "cc": [], "bcc": []}
    meeting = any(event.attendees.values())
    if event.organizer is not None:
        out["from"] = _formatted(event.organizer)
        if kind == "appointment" and meeting:
            # The organizer's own meeting object lists the organizer first ([MS-OXOCAL] 2.2.4.10).
            rows["to"].append(
                {
                    "address": _formatted(event.organizer),
                    "properties": {"PidTagRecipientFlags": RECIP_SENDABLE | RECIP_ORGANIZER},
                }
            )
    for key, target in (("attendees", "to"), ("optional", "cc"), ("resources", "bcc")):
        for person in event.attendees.get(key, []):
            rows[target].append({"address": _formatted(person), "properties": dict(flags)})
    out.update({k: v for k, v in rows.items() if v})
    return out


def _formatted(person: tuple[str, str]) -> str:
    return format_address(*person)


def global_object_id(uid: str | None, fallback: bytes, created: t.FileTime) -> bytes:
    """PidLidGlobalObjectId of a series ([MS-OXOCAL] 2.2.1.27; [MS-OXCICAL] 2.1.3.1.1.20.26)."""
    if uid is not None:
        try:
            raw = bytes.fromhex(uid)
        except ValueError:
            raw = b""
        if raw.startswith(GOID_PREFIX) and len(raw) >= 40:
            return raw[:16] + bytes(4) + raw[20:]  # the series, not one instance
        # A third-party UID has no creation time: the id is the same whenever (and by whom)
        # the UID is imported, so a later request or update of that meeting matches it
        # (Exchange writes it so: [MS-ASEMAIL] 4.3, example 2).
        data = VCAL_UID + uid.encode("utf-8") + b"\0"
        created = t.FileTime(0)
    else:
        data = fallback[:16]
    return (
        GOID_PREFIX
        + bytes(4)
        + struct.pack("<Q", int(created))
        + bytes(8)
        + struct.pack("<I", len(data))
        + data
    )


def uid_of(goid: bytes) -> str:
    """The iCalendar UID of a global object id: the vCal-Uid text, else the id in hex."""
    data = goid[40:]
    if data.startswith(VCAL_UID):
        return data[len(VCAL_UID) :].rstrip(b"\0").decode("utf-8", "replace")
    return goid.hex().upper()


def apply(event: Event, msg: Message, kind: str, *, now: t.FileTime, digest: bytes) -> None:
    """Set the event's primary properties on a composed message, then derive the rest."""
    p = msg.props
    request = kind == "meeting"
    meeting = request or any(event.attendees.values())
    put(p, "PidLidAppointmentStartWhole", filetime(event.start))
    put(p, "PidLidAppointmentEndWhole", filetime(event.end))
    put(p, "PidLidAppointmentSubType", event.all_day)
    busy = event.busy if event.busy is not None else (BUSY["free"] if event.all_day else BUSY["busy"])
    if request:
        # The invitee's calendar holds a request as tentative until answered; the organizer's wish
        # travels as the intended status ([MS-OXOCAL] 2.2.1.2, 2.2.6.4).
        put(p, "PidLidBusyStatus", BUSY["tentative"])
        put(p, "PidLidIntendedBusyStatus", busy)
    else:
        put(p, "PidLidBusyStatus", busy)
        put(p, "PidLidIntendedBusyStatus", busy)
    if event.location is not None:
        put(p, "PidLidLocation", event.location)
    put(p, "PidLidReminderSet", event.reminder is not None)
    if event.reminder is not None:
        put(p, "PidLidReminderDelta", event.reminder)
    if zone_of(msg) != event.zone:
        # What described the zone the item had before goes; refresh() writes it for the new one.
        drop(
            p,
            "PidLidTimeZoneDescription",
            "PidLidTimeZoneStruct",
            "PidLidAppointmentTimeZoneDefinitionRecur",
        )
    # What refresh() keeps when it finds it (Outlook's localised words, a later occurrence's
    # reminder) is derived anew for fields given here.
    drop(p, "PidLidRecurrencePattern", "PidLidReminderSignalTime")
    definition = tz.tz_definition(event.zone, event.start.year)
    put(p, "PidLidAppointmentTimeZoneDefinitionStartDisplay", definition)
    put(p, "PidLidAppointmentTimeZoneDefinitionEndDisplay", definition)
    if event.recurrence is not None:
        local = event.start.replace(tzinfo=None)
        put(
            p,
            "PidLidAppointmentRecur",
            rr.appointment_blob(event.recurrence, local, event.end.replace(tzinfo=None)),
        )
    else:
        drop(p, "PidLidAppointmentRecur")
    goid = global_object_id(event.uid, digest, now)
    kept = get(p, "PidLidGlobalObjectId")
    if isinstance(kept, bytes) and len(kept) >= 40 and event.uid is not None and uid_of(kept) == event.uid:
        goid = kept  # an edited item keeps its id (and the creation time in it)
    put(p, "PidLidGlobalObjectId", goid)
    put(p, "PidLidCleanGlobalObjectId", goid)
    put(p, "PidLidAppointmentSequence", event.sequence or 0)
    put(p, "PidLidAppointmentStateFlags", (ASF_MEETING if meeting else 0) | (ASF_RECEIVED if request else 0))
    put(
        p,
        "PidLidResponseStatus",
        RESPONSE_NOT_RESPONDED if request else (RESPONSE_ORGANIZED if meeting else RESPONSE_NONE),
    )
    if meeting:
        put(p, "PidLidFInvited", request)
        put(p, "PidLidOwnerCriticalChange", now)
        put(p, "PidLidAttendeeCriticalChange", now)
    if request:
        put(p, "PidLidMeetingType", MEETING_TYPE_REQUEST)
        put(p, "PidLidAppointmentMessageClass", APPOINTMENT_CLASS)
        put(p, "PidTagResponseRequested", True)
        put(p, "PidTagReplyRequested", True)
    refresh(msg)


def zone_of(msg: Message) -> str:
    """The IANA zone an item was written in (from its start-display definition), UTC if none."""
    data = get(msg.props, "PidLidAppointmentTimeZoneDefinitionStartDisplay")
    if isinstance(data, bytes):
        try:
            key, _rules = tz.parse_definition(data)
        except (ValueError, struct.error):
            return "UTC"
        return tz.iana_name(key) or "UTC"
    return "UTC"


def recurrence_of(msg: Message) -> rr.Decoded | None:
    data = get(msg.props, "PidLidAppointmentRecur")
    if not isinstance(data, bytes):
        return None
    try:
        return rr.parse_blob(data)
    except ValueError:
        return None


def refresh(msg: Message) -> None:
    """Derive what Outlook computes from an item's start, end, zone, recurrence, reminder and people."""
    p = msg.props
    start_utc = moment_of(get(p, "PidLidAppointmentStartWhole"))
    end_utc = moment_of(get(p, "PidLidAppointmentEndWhole"))
    if start_utc is None:
        return
    if end_utc is None or end_utc < start_utc:
        end_utc = start_utc + dt.timedelta(minutes=DEFAULT_MINUTES)
    zone_name = zone_of(msg)
    zone = tz.get_zone(zone_name)
    start, end = start_utc.astimezone(zone), end_utc.astimezone(zone)
    all_day = bool(get(p, "PidLidAppointmentSubType", False))
    decoded = recurrence_of(msg)
    flags = int_value(p, prop("PidLidAppointmentStateFlags")[0], 0)
    clip_start, clip_end = start_utc, end_utc
    if decoded is not None:
        rec = decoded.recurrence
        local, duration = start.replace(tzinfo=None), end - start
        first, last, _n = rr.first_and_last(rec, local)
        if first != local:  # a start moved off the pattern: the series starts on its next occurrence
            start = first.replace(tzinfo=zone)
            end = start + duration
            start_utc, end_utc = start.astimezone(dt.UTC), end.astimezone(dt.UTC)
        same = (decoded.start_date, decoded.start_offset, decoded.end_offset) == (
            first.date(),
            first.hour * 60 + first.minute,
            first.hour * 60 + first.minute + int(duration.total_seconds()) // 60,
        )
        if not same:
            # The series moved: its pattern is written anew. Changed single occurrences do not
            # survive that (Outlook drops them too when a series moves).
            put(p, "PidLidAppointmentRecur", rr.appointment_blob(rec, first, first + duration))
        put(p, "PidLidRecurring", True)
        put(p, "PidLidRecurrenceType", rr.RECURRENCE_TYPE[rr.WEEKLY if rec.every_weekday else rec.freq])
        if not same or not get(p, "PidLidRecurrencePattern"):  # Outlook's own (localised) words stay
            put(p, "PidLidRecurrencePattern", rr.describe(rec, start, end, all_day=all_day))
        # The zone's structures are written when missing: an unchanged zone keeps Outlook's bytes.
        if get(p, "PidLidTimeZoneStruct") is None:
            put(p, "PidLidTimeZoneStruct", tz.tz_struct(zone_name, start.year))
        if get(p, "PidLidAppointmentTimeZoneDefinitionRecur") is None:
            put(p, "PidLidAppointmentTimeZoneDefinitionRecur", tz.tz_definition(zone_name, start.year))
        clip_start = dt.datetime.combine(first.date(), dt.time(), zone).astimezone(dt.UTC)
        # Clip end: midnight of the series' end date, the end-by date itself when it has one
        # (as Outlook writes it), else the last occurrence's.
        end_day = (
            rec.until if rec.until is not None and rec.count is None else (last.date() if last else None)
        )
        clip_end = (
            CLIP_NEVER
            if end_day is None
            else dt.datetime.combine(end_day, dt.time(), zone).astimezone(dt.UTC)
        )
    else:
        put(p, "PidLidRecurring", False)
        put(p, "PidLidRecurrenceType", 0)
        if get(p, "PidLidRecurrencePattern"):
            drop(p, "PidLidRecurrencePattern")  # words of a series the item no longer has
    if get(p, "PidLidIsRecurring") is not None or flags & ASF_MEETING:
        put(p, "PidLidIsRecurring", decoded is not None)
    for name, value in (
        ("PidLidAppointmentStartWhole", start_utc),
        ("PidLidAppointmentEndWhole", end_utc),
        ("PidTagStartDate", start_utc),
        ("PidTagEndDate", end_utc),
        ("PidLidCommonStart", start_utc),
        ("PidLidCommonEnd", end_utc),
        ("PidLidClipStart", clip_start),
        ("PidLidClipEnd", clip_end),
    ):
        put(p, name, filetime(value))
    put(p, "PidLidAppointmentDuration", int((end_utc - start_utc).total_seconds()) // 60)
    for name in (
        "PidLidAppointmentTimeZoneDefinitionStartDisplay",
        "PidLidAppointmentTimeZoneDefinitionEndDisplay",
    ):
        if get(p, name) is None:
            put(p, name, tz.tz_definition(zone_name, start.year))
    if not get(p, "PidLidTimeZoneDescription"):  # Outlook writes it on every item; its own name stays
        put(p, "PidLidTimeZoneDescription", tz.description(zone_name, start.year))
    if get(p, "PidLidReminderSet", False):
        delta = get(p, "PidLidReminderDelta", 15)
        delta = delta if isinstance(delta, int) else 15
        put(p, "PidLidReminderDelta", delta)
        put(p, "PidLidReminderTime", filetime(start_utc))
        signal = start_utc - dt.timedelta(minutes=delta)
        kept = moment_of(get(p, "PidLidReminderSignalTime"))
        # A series' reminder may already be set for a later occurrence: Outlook's stays while it
        # lies within the series.
        if decoded is None or kept is None or not signal <= kept <= clip_end:
            put(p, "PidLidReminderSignalTime", filetime(signal))
    else:
        drop(p, "PidLidReminderTime", "PidLidReminderSignalTime")
    location = get(p, "PidLidLocation")
    if flags & ASF_MEETING:
        put(p, "PidLidWhere", location)
        _attendee_strings(msg)
    recurring = decoded is not None
    if flags & ASF_RECEIVED:
        icon = ICON_REQUEST
    elif flags & ASF_MEETING:
        icon = ICON_MEETING_RECURRING if recurring else ICON_MEETING
    else:
        icon = ICON_RECURRING if recurring else ICON_SINGLE
    p.set(ids.ICON_INDEX, t.PT_LONG, icon)


def _attendee_strings(msg: Message) -> None:
    """PidLidToAttendeesString and friends from the recipient table ([MS-OXOCAL] 2.2.1.16-18)."""
    people: dict[int, list[str]] = {ids.MAPI_TO: [], ids.MAPI_CC: [], ids.MAPI_BCC: []}
    for rcpt in msg.recipients:
        flags = int_value(rcpt.props, ids.RECIPIENT_FLAGS, 0)
        if flags & RECIP_ORGANIZER:
            continue
        people.setdefault(rcpt.kind, []).append(rcpt.display_name)
    p = msg.props
    put(p, "PidLidToAttendeesString", "; ".join(people[ids.MAPI_TO]))
    put(p, "PidLidCcAttendeesString", "; ".join(people[ids.MAPI_CC]))
    put(p, "PidLidAllAttendeesString", "; ".join(people[ids.MAPI_TO] + people[ids.MAPI_CC]))
    put(p, "PidLidRequiredAttendees", "; ".join(people[ids.MAPI_TO]))
    put(p, "PidLidOptionalAttendees", "; ".join(people[ids.MAPI_CC]))
    put(p, "PidLidResourceAttendees", "; ".join(people[ids.MAPI_BCC]))


def read(msg: Message) -> dict[str, Any]:
    """The event's fields as spec keys (for dump, show and export)."""
    p = msg.props
    out: dict[str, Any] = {}
    start_utc = moment_of(get(p, "PidLidAppointmentStartWhole"))
    end_utc = moment_of(get(p, "PidLidAppointmentEndWhole"))
    zone_name = zone_of(msg)
    zone = tz.get_zone(zone_name)
    if start_utc is not None and end_utc is not None:
        start, end = start_utc.astimezone(zone), end_utc.astimezone(zone)
        if get(p, "PidLidAppointmentSubType", False):
            last = (end - dt.timedelta(days=1)).date() if end > start else start.date()
            out["all_day"] = start.date().isoformat() + (
                "" if last == start.date() else "/" + last.isoformat()
            )
        else:
            out["start"], out["end"] = start.isoformat(), end.isoformat()
        out["timezone"] = zone_name
        decoded = recurrence_of(msg)
        if decoded is not None:
            out["recurrence"] = rr.to_rrule(decoded.recurrence, start)
            if decoded.recurrence.exdates:
                out["exdate"] = [d.isoformat() for d in decoded.recurrence.exdates]
    location = get(p, "PidLidLocation")
    if location:
        out["location"] = location
    flags = int_value(p, prop("PidLidAppointmentStateFlags")[0], 0)
    busy = get(p, "PidLidIntendedBusyStatus" if flags & ASF_RECEIVED else "PidLidBusyStatus")
    if isinstance(busy, int) and busy in BUSY_NAMES:
        out["busy"] = BUSY_NAMES[busy]
    if get(p, "PidLidReminderSet", False):
        out["reminder"] = get(p, "PidLidReminderDelta", 15)
    name, addr = (
        p.value(ids.SENT_REPRESENTING_NAME),
        p.value(ids.SENT_REPRESENTING_SMTP_ADDRESS) or p.value(ids.SENT_REPRESENTING_EMAIL_ADDRESS),
    )
    if addr:
        out["organizer"] = _formatted((str(name or addr), str(addr)))
    for kind, key in ((ids.MAPI_TO, "attendees"), (ids.MAPI_CC, "optional"), (ids.MAPI_BCC, "resources")):
        found = []
        for rcpt in msg.recipients:
            if rcpt.kind != kind or int_value(rcpt.props, ids.RECIPIENT_FLAGS, 0) & RECIP_ORGANIZER:
                continue
            address = rcpt.props.value(ids.SMTP_ADDRESS) or rcpt.props.value(ids.EMAIL_ADDRESS)
            if address:
                found.append(_formatted((rcpt.display_name, str(address))))
        if found:
            out[key] = found
    goid = get(p, "PidLidGlobalObjectId")
    if isinstance(goid, bytes) and len(goid) >= 40:
        out["uid"] = uid_of(goid)
    sequence = get(p, "PidLidAppointmentSequence")
    if isinstance(sequence, int) and sequence:
        out["sequence"] = sequence
    return out


def check_kind(msg: Message) -> bool:
    cls = str(msg.props.value(ids.MESSAGE_CLASS, ""))
    return cls.lower().startswith(("ipm.appointment", "ipm.schedule.meeting"))
