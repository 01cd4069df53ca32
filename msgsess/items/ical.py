"""iCalendar (RFC 5545) <-> item specs, the way [MS-OXCICAL] maps them.

Import: each VEVENT becomes an appointment spec (a meeting request under
``METHOD:REQUEST``), each VTODO a task spec; the specs go through the usual
composer, so everything an item needs is checked there. Export: appointment,
meeting and task messages become one VCALENDAR. The grammar (folding, escaping,
parameters) is the ``icalendar`` package's; VTIMEZONE is written from the items' own Windows
rules, as Outlook does (yearly RRULEs, good for any year), not as a list of dates.
"""

from __future__ import annotations

import datetime as dt
import struct
import zoneinfo
from typing import Any

from msgsess.errors import CorruptFile, InvalidParameter
from msgsess.items import timezones as tz
from msgsess.items.fields import format_address
from msgsess.model import Message
from msgsess.props import ids

#: VTODO STATUS <-> task status ([MS-OXCICAL] 2.1.3.4 maps only some; the rest by meaning).
TODO_STATUS = {
    "NEEDS-ACTION": "not-started",
    "IN-PROCESS": "in-progress",
    "COMPLETED": "complete",
    "CANCELLED": "deferred",
}
STATUS_TODO = {
    "not-started": "NEEDS-ACTION",
    "in-progress": "IN-PROCESS",
    "complete": "COMPLETED",
    "deferred": "CANCELLED",
    "waiting": "NEEDS-ACTION",
}
#: X-MICROSOFT-CDO-BUSYSTATUS values ([MS-OXCICAL] 2.1.3.1.1.20.11).
CDO_BUSY = {
    "FREE": "free",
    "TENTATIVE": "tentative",
    "BUSY": "busy",
    "OOF": "oof",
    "WORKINGELSEWHERE": "elsewhere",
}
BUSY_CDO = {v: k for k, v in CDO_BUSY.items()}
SENSITIVITY = {"PRIVATE": "private", "CONFIDENTIAL": "confidential"}
#: The calendar address Outlook writes for a person without an SMTP address.
NO_ADDRESS = "invalid:nomail"


def _fail(where: tuple[str, str], what: str, problem: str, hint: str | None = None) -> InvalidParameter:
    """An error located at the file (``where[0]``), the component and the property."""
    return InvalidParameter(problem, hint=hint).at(what).at(where[1]).at(where[0])


def _zone_name(value: dt.datetime, params: Any) -> str | None:
    """The IANA name of a DTSTART's zone: the tzinfo's key, the TZID if zoneinfo or CLDR knows it."""
    key = getattr(value.tzinfo, "key", None)
    if isinstance(key, str):
        return key
    tzid = str(params.get("TZID", "")).strip('"') if params is not None else ""
    for candidate in (tzid, tz.iana_name(tzid) or ""):
        if candidate:
            try:
                zoneinfo.ZoneInfo(candidate)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                continue
            return candidate
    return None


def _iso(value: dt.datetime) -> str:
    return value.isoformat()


def _address(value: Any) -> str:
    text = str(value)
    addr = text[7:] if text.lower().startswith("mailto:") else text
    name = value.params.get("CN") if hasattr(value, "params") else None
    return format_address(str(name), addr) if name else addr


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def parse_ics(data: bytes | str, *, label: str = "ics") -> list[dict[str, Any]]:
    """The item specs of an iCalendar file, one per VEVENT or VTODO, in file order."""
    import icalendar

    try:
        calendars = icalendar.Calendar.from_ical(data, multiple=True)
    except (ValueError, KeyError, IndexError) as exc:
        raise CorruptFile(f"not iCalendar ({str(exc).splitlines()[0][:80]})").at(label) from None
    specs: list[dict[str, Any]] = []
    for cal in calendars:
        method = str(cal.get("METHOD", "")).strip().upper()
        for comp in cal.walk():
            where = (label, f"{comp.name} {len(specs) + 1}")
            if comp.name == "VEVENT":
                specs.append(_event(comp, method, where))
            elif comp.name == "VTODO":
                specs.append(_todo(comp, where))
    return specs


def _common(comp: Any, spec: dict[str, Any]) -> None:
    if comp.get("SUMMARY") is not None:
        spec["subject"] = str(comp.get("SUMMARY"))
    if comp.get("DESCRIPTION") is not None:
        spec["body"] = str(comp.get("DESCRIPTION"))
    cats: list[str] = []
    for item in _list(comp.get("CATEGORIES")):
        cats += [str(c) for c in getattr(item, "cats", [item])]
    if cats:
        spec["categories"] = cats
    klass = str(comp.get("CLASS", "")).upper()
    if klass in SENSITIVITY:
        spec["sensitivity"] = SENSITIVITY[klass]
    if comp.get("RRULE") is not None:
        rules = _list(comp.get("RRULE"))
        if len(rules) > 1:
            raise _fail(spec["_where"], "RRULE", "several rules in one component", hint="Outlook holds one")
        spec["recurrence"] = rules[0].to_ical().decode()
    for name in ("RDATE", "RECURRENCE-ID", "EXRULE"):
        if comp.get(name) is not None:
            raise _fail(
                spec["_where"],
                name,
                "extra or changed occurrences are not written yet",
                hint="msgsess writes a series by its RRULE and EXDATEs",
            )


def _value(prop: Any, name: str, where: tuple[str, str], *, spare: bool = False) -> Any:
    """A property's value; one that does not parse is an error, unless another property stands in."""
    if prop is None:
        return None
    try:
        return prop.dt
    except ValueError:  # icalendar's BrokenCalendarProperty
        if spare:
            return None
        raw = str(getattr(prop, "to_ical", lambda: b"")().decode() if hasattr(prop, "to_ical") else prop)
        raise _fail(where, name, f"{raw.strip()!r} is not a date or time") from None


def _event(comp: Any, method: str, where: tuple[str, str]) -> dict[str, Any]:
    spec: dict[str, Any] = {"kind": "meeting" if method == "REQUEST" else "appointment", "_where": where}
    start_prop = comp.get("DTSTART")
    if start_prop is None:
        raise _fail(where, "DTSTART", "is missing", hint="an appointment needs a start")
    start = _value(start_prop, "DTSTART", where)
    end = _value(comp.get("DTEND"), "DTEND", where, spare=comp.get("DURATION") is not None)
    if end is None and comp.get("DURATION") is not None:
        end = start + _value(comp.get("DURATION"), "DURATION", where)
    if not isinstance(start, dt.datetime):
        last = (end - dt.timedelta(days=1)) if isinstance(end, dt.date) and end > start else start
        spec["all_day"] = start.isoformat() + ("" if last == start else "/" + last.isoformat())
    else:
        zone = _zone_name(start, start_prop.params)
        if start.tzinfo is None:
            zone = zone or "UTC"  # floating time: read as UTC
            start = start.replace(tzinfo=zoneinfo.ZoneInfo(zone))
            end = (
                end.replace(tzinfo=start.tzinfo)
                if isinstance(end, dt.datetime) and end.tzinfo is None
                else end
            )
        elif zone is None:
            zone = "UTC"  # a zone only its VTIMEZONE knows: the same instants, in UTC
            start = start.astimezone(dt.UTC)
        spec["timezone"] = zone
        spec["start"] = _iso(start.astimezone(zoneinfo.ZoneInfo(zone)))
        if isinstance(end, dt.datetime):
            spec["end"] = _iso(end.astimezone(zoneinfo.ZoneInfo(zone)))
    _common(comp, spec)
    exdates: list[str] = []
    for item in _list(comp.get("EXDATE")):
        for value in item.dts:
            moment = value.dt
            exdates.append(moment.isoformat() if isinstance(moment, (dt.datetime, dt.date)) else str(moment))
    if exdates:
        spec["exdate"] = exdates
    if comp.get("LOCATION") is not None:
        spec["location"] = str(comp.get("LOCATION"))
    if comp.get("UID") is not None:
        spec["uid"] = str(comp.get("UID"))
    if comp.get("SEQUENCE") is not None:
        spec["sequence"] = int(comp.get("SEQUENCE"))
    busy = str(comp.get("X-MICROSOFT-CDO-BUSYSTATUS", "")).upper()
    if busy in CDO_BUSY:
        spec["busy"] = CDO_BUSY[busy]
    elif str(comp.get("TRANSP", "")).upper() == "TRANSPARENT":
        spec["busy"] = "free"
    organizer = comp.get("ORGANIZER")
    if organizer is not None and str(organizer).lower() != NO_ADDRESS:
        spec["organizer"] = _address(organizer)
    for person in _list(comp.get("ATTENDEE")):
        if str(person).lower() == NO_ADDRESS:
            continue  # a person without an e-mail address: no recipient Outlook could write to
        role = str(person.params.get("ROLE", "REQ-PARTICIPANT")).upper()
        cutype = str(person.params.get("CUTYPE", "")).upper()
        key = (
            "resources"
            if cutype in ("RESOURCE", "ROOM") or role == "NON-PARTICIPANT"
            else ("optional" if role == "OPT-PARTICIPANT" else "attendees")
        )
        spec.setdefault(key, []).append(_address(person))
    for alarm in comp.walk("VALARM"):
        before = _reminder(alarm.get("TRIGGER"), start, end)
        if before is not None:
            spec["reminder"] = before
            break
    spec.pop("_where")
    return spec


def _reminder(trigger: Any, start: Any, end: Any) -> int | None:
    """Minutes before the start of an alarm's TRIGGER: relative to the start, to the end
    (RELATED=END) or an absolute time (RFC 5545 3.8.6.3); Outlook reminds before the start only."""
    if trigger is None:
        return None
    when = trigger.dt
    if isinstance(when, dt.timedelta):
        if str(trigger.params.get("RELATED", "START")).upper() == "END":
            if not isinstance(end, type(start)):
                return None
            when += end - start
        before = -when
    elif isinstance(when, dt.datetime) and isinstance(start, dt.datetime) and when.tzinfo and start.tzinfo:
        before = start - when
    else:
        return None
    return max(0, int(before.total_seconds()) // 60)


def _todo(comp: Any, where: tuple[str, str]) -> dict[str, Any]:
    spec: dict[str, Any] = {"kind": "task", "_where": where}
    for key, name in (("start", "DTSTART"), ("due", "DUE")):
        value = _value(comp.get(name), name, where)
        if value is not None:
            spec[key] = (value.date() if isinstance(value, dt.datetime) else value).isoformat()
    _common(comp, spec)
    status = str(comp.get("STATUS", "")).upper()
    if status in TODO_STATUS:
        spec["status"] = TODO_STATUS[status]
    if comp.get("PERCENT-COMPLETE") is not None:
        spec["percent"] = int(comp.get("PERCENT-COMPLETE"))
    # Outlook's task is complete exactly when it is 100 % done; RFC 5545 lets the two differ.
    if spec.get("status") == "complete":
        spec["percent"] = 100
    elif spec.get("percent") == 100:
        spec["status"] = "complete"
    priority = int(comp.get("PRIORITY", 0))
    if priority:
        spec["priority"] = "high" if priority <= 4 else ("normal" if priority == 5 else "low")
    spec.pop("_where")
    return spec


# --- export ------------------------------------------------------------------------------------


def to_ics(messages: list[Message], *, now: dt.datetime | None = None) -> str:
    """One VCALENDAR with a VEVENT per appointment or meeting request and a VTODO per task."""
    import icalendar

    from msgsess.items import read

    cal = icalendar.Calendar()
    cal.add("prodid", "-//msgsess//Outlook items//EN")
    cal.add("version", "2.0")
    stamp = now or dt.datetime.now(dt.UTC)
    if any(read(m)["kind"] == "meeting" for m in messages):
        cal.add("method", "REQUEST")
    zones: dict[str, tz.RuleZone] = {}
    components = []
    for index, msg in enumerate(messages, start=1):
        fields = read(msg)
        if fields["kind"] in ("appointment", "meeting"):
            components.append(_vevent(msg, fields, stamp, zones, stamp.year))
        elif fields["kind"] == "task":
            components.append(_vtodo(msg, fields, stamp, index))
        else:
            raise InvalidParameter(
                f"is a {fields['kind']}, not an appointment or task", hint="export contacts with --vcard"
            ).at(f"message {index}")
    for tzid, zone in zones.items():
        cal.add_component(_vtimezone(tzid, zone.rules))
    for component in components:
        cal.add_component(component)
    return str(cal.to_ical().decode())


# --- VTIMEZONE from Windows rules ([MS-OXCICAL] 2.1.3.1.1.19) ------------------------------------

#: RRULE BYDAY names by SYSTEMTIME day of week (Sunday = 0).
_DAYS = ("SU", "MO", "TU", "WE", "TH", "FR", "SA")
#: Named properties holding an item's zone as a TZDEFINITION, by preference: a series is
#: defined in its recurrence's zone, a single item in its start's ([MS-OXCICAL] 2.1.3.2.1).
_DEFINITIONS = {
    True: ("PidLidAppointmentTimeZoneDefinitionRecur", "PidLidAppointmentTimeZoneDefinitionStartDisplay"),
    False: ("PidLidAppointmentTimeZoneDefinitionStartDisplay",),
}


def _zone(msg: Message, name: str, recurring: bool, year: int) -> tz.RuleZone:
    """The rules of an item's zone ``name``: the item's own time-zone definition when it is one
    of that zone, else the zone's rules from the tz database up to ``year`` (the last one in
    force ever after: Outlook's rules have no end)."""
    from msgsess.items.fields import get

    for prop in _DEFINITIONS[recurring]:
        data = get(msg.props, prop)
        if not isinstance(data, bytes):
            continue
        try:
            key, found = tz.parse_definition(data)
        except (ValueError, struct.error):
            continue
        if found and tz.iana_name(key) == name and all(map(tz.usable, found)):
            return tz.RuleZone(found)
    return tz.RuleZone(tz.rules(tz.get_zone(name), year))


def _vtimezone(tzid: str, rules: list[tz.Rule]) -> Any:
    """A VTIMEZONE as Outlook writes one: per rule a STANDARD and a DAYLIGHT observance that
    recur yearly (``RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU``) from the rule's first year, up to
    the next rule's; a zone without daylight time is one STANDARD observance."""
    import icalendar

    zone = icalendar.Timezone()
    zone.add("tzid", tzid)
    for number, rule in enumerate(rules):
        standard, daylight = tz.offsets(rule)
        year = max(rule.year, 1601)
        following = rules[number + 1].year if number + 1 < len(rules) else None
        # The last instant before the next rule's year, in UTC (as RFC 5545 asks of UNTIL).
        until = (
            dt.datetime(following, 1, 1, tzinfo=dt.UTC) - dt.timedelta(minutes=standard, seconds=1)
            if following is not None
            else None
        )
        if not tz.has_daylight(rule):
            only = icalendar.TimezoneStandard()
            only.add("dtstart", dt.datetime(year, 1, 1))
            only.add("tzoffsetfrom", dt.timedelta(minutes=standard))
            only.add("tzoffsetto", dt.timedelta(minutes=standard))
            zone.add_component(only)
            continue
        observances: list[tuple[Any, tz.SystemTime, int, int]] = [
            (icalendar.TimezoneStandard(), rule.standard_date, daylight, standard),
            (icalendar.TimezoneDaylight(), rule.daylight_date, standard, daylight),
        ]
        for part, date, before, after in observances:
            first = tz.switch_time(date, year)
            assert first is not None
            nth = -1 if date[3] >= 5 else date[3]
            recur: dict[str, Any] = {
                "FREQ": "YEARLY",
                "BYMONTH": date[1],
                "BYDAY": f"{nth}{_DAYS[date[2] % 7]}",
            }
            if until is not None:
                recur["UNTIL"] = until
            part.add("dtstart", first)
            part.add("rrule", recur)
            part.add("tzoffsetfrom", dt.timedelta(minutes=before))
            part.add("tzoffsetto", dt.timedelta(minutes=after))
            zone.add_component(part)
    return zone


def _common_out(comp: Any, msg: Message, fields: dict[str, Any], stamp: dt.datetime) -> None:
    import icalendar

    comp.add("dtstamp", stamp)
    subject = msg.props.value(ids.SUBJECT)
    if subject:
        comp.add("summary", str(subject))
    body = msg.props.value(ids.BODY)
    if body:
        comp.add("description", str(body).replace("\r\n", "\n"))
    from msgsess.items.fields import get

    cats = get(msg.props, "PidNameKeywords")
    if cats:
        comp.add("categories", list(cats))
    sensitivity = msg.props.value(ids.SENSITIVITY)
    if sensitivity in (2, 3):
        comp.add("class", "PRIVATE" if sensitivity == 2 else "CONFIDENTIAL")
    if "recurrence" in fields:
        comp.add("rrule", icalendar.vRecur.from_ical(fields["recurrence"]))


def _person(text: str, role: str | None = None, cutype: str | None = None) -> Any:
    import icalendar

    from msgsess.items.fields import Fields

    try:
        name, addr = Fields({}, "export").address("attendee", text)
        person = icalendar.vCalAddress(f"mailto:{addr}")
    except InvalidParameter:
        # No SMTP address (an Exchange DN, "Unknown" in Outlook's own items): Outlook exports
        # such a person by name at invalid:nomail, and so do we.
        import email.utils

        name, addr = email.utils.parseaddr(text)[0] or text, ""
        person = icalendar.vCalAddress(NO_ADDRESS)
    if name != addr:
        person.params["CN"] = name
    if role:
        person.params["ROLE"] = role
    if cutype:
        person.params["CUTYPE"] = cutype
    return person


def _vevent(
    msg: Message, fields: dict[str, Any], stamp: dt.datetime, zones: dict[str, tz.RuleZone], year: int
) -> Any:
    """A VEVENT; a zone other than UTC is written as local times with a TZID, whose VTIMEZONE
    (from ``zones``, the first item of a zone giving its rules) the times are computed with."""
    import icalendar

    ev = icalendar.Event()
    ev.add("uid", fields.get("uid") or msg.props.value(ids.SEARCH_KEY, b"").hex())
    name = fields.get("timezone", "UTC")
    start: dt.datetime | None = None
    if "all_day" in fields:
        first, _, last = fields["all_day"].partition("/")
        ev.add("dtstart", dt.date.fromisoformat(first))
        ev.add("dtend", dt.date.fromisoformat(last or first) + dt.timedelta(days=1))
    elif name in ("UTC", "Etc/UTC"):
        start = dt.datetime.fromisoformat(fields["start"]).astimezone(dt.UTC)
        ev.add("dtstart", start)
        ev.add("dtend", dt.datetime.fromisoformat(fields["end"]).astimezone(dt.UTC))
    else:
        begin = dt.datetime.fromisoformat(fields["start"])
        zone = zones.get(name) or zones.setdefault(
            name, _zone(msg, name, "recurrence" in fields, max(begin.year, year))
        )
        start = begin.astimezone(zone)
        local = {"TZID": name}
        ev.add("dtstart", start.replace(tzinfo=None), parameters=local)
        end = dt.datetime.fromisoformat(fields["end"]).astimezone(zone)
        ev.add("dtend", end.replace(tzinfo=None), parameters=local)
    _common_out(ev, msg, fields, stamp)
    for day in fields.get("exdate", []):
        when = dt.date.fromisoformat(day)
        if start is None:
            ev.add("exdate", when)
        elif start.tzinfo is dt.UTC:
            ev.add("exdate", dt.datetime.combine(when, start.timetz()))
        else:
            ev.add("exdate", dt.datetime.combine(when, start.time()), parameters={"TZID": name})
    if fields.get("location"):
        ev.add("location", fields["location"])
    if fields.get("sequence") is not None:
        ev.add("sequence", fields["sequence"])
    busy = fields.get("busy")
    if busy:
        ev.add("transp", "TRANSPARENT" if busy == "free" else "OPAQUE")
        ev.add("x-microsoft-cdo-busystatus", BUSY_CDO[busy])
    if fields.get("organizer"):
        ev.add("organizer", _person(fields["organizer"]))
    for key, role, cutype in (
        ("attendees", "REQ-PARTICIPANT", None),
        ("optional", "OPT-PARTICIPANT", None),
        ("resources", "NON-PARTICIPANT", "RESOURCE"),
    ):
        for text in fields.get(key, []):
            ev.add("attendee", _person(text, role, cutype))
    if fields.get("reminder") is not None:
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", "Reminder")
        alarm.add("trigger", -dt.timedelta(minutes=int(fields["reminder"])))
        ev.add_component(alarm)
    return ev


def _vtodo(msg: Message, fields: dict[str, Any], stamp: dt.datetime, index: int) -> Any:
    import icalendar

    todo = icalendar.Todo()
    todo.add("uid", msg.props.value(ids.SEARCH_KEY, b"").hex() or f"msgsess-task-{index}")
    for key, name in (("start", "dtstart"), ("due", "due")):
        if key in fields:
            todo.add(name, dt.date.fromisoformat(fields[key]))
    _common_out(todo, msg, fields, stamp)
    todo.add("status", STATUS_TODO[fields.get("status", "not-started")])
    if "percent" in fields:
        todo.add("percent-complete", fields["percent"])
    priority = {"high": 1, "normal": 5, "low": 9}.get(fields.get("priority", ""))
    if priority:
        todo.add("priority", priority)
    return todo
