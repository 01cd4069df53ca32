"""iCalendar and vCard files from two projects' test suites, imported and exported.

Each file (tests/data/items, with its source and licence) is read into item specs,
built into messages the way a session would, written as .msg and read back with
msgsess's decoder, exported again, and compared with the original through the same
parsers (icalendar, vobject): start/end in UTC, summary, location, people, the first
20 occurrences of the rule (dateutil), names and e-mail addresses.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path
from typing import Any

import icalendar
import pytest
import vobject
from dateutil import rrule as du

from msgsess import cfb, items
from msgsess.composer import compose
from msgsess.items import ical, vcard
from msgsess.model import Message
from msgsess.oxmsg import decode, encode
from msgsess.props.types import FileTime

DATA = Path(__file__).resolve().parents[1] / "data" / "items"
NOW = FileTime.from_datetime(dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC))
ICS = sorted(DATA.glob("*/*.ics"))
VCF = sorted(DATA.glob("*/*.vcf"))


def through_msg(spec: dict[str, Any], tmp_path: Path, name: str) -> Message:
    prepared = items.prepare(spec, label=name)
    msg = compose(prepared.mail_spec, now=NOW, label=name)
    items.apply(prepared, msg, now=NOW)
    path = tmp_path / f"{name}.msg"
    cfb.write_atomic(encode(msg), path)
    return decode(cfb.read_file(path))


def utc(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return value


def people(comp: Any, name: str) -> list[tuple[str, str]]:
    found = comp.get(name)
    found = found if isinstance(found, list) else ([] if found is None else [found])
    return sorted((str(p).lower().removeprefix("mailto:"), str(p.params.get("CN", ""))) for p in found)


def occurrences(comp: Any) -> list[dt.datetime]:
    rule = comp.get("RRULE")
    if rule is None:
        return []
    start = comp.get("DTSTART").dt
    found = []
    skip = set()
    exdates = comp.get("EXDATE")
    for ex in exdates if isinstance(exdates, list) else ([] if exdates is None else [exdates]):
        skip |= {utc(d.dt) for d in ex.dts}
    for moment in du.rrulestr(rule.to_ical().decode(), dtstart=start):
        if utc(moment) not in skip:
            found.append(utc(moment))
        if len(found) == 20:
            break
    return found


def broken(prop: Any) -> bool:
    """A property icalendar could not parse (vobject_0050.ics has "DTEND: 2024…" with a space)."""
    try:
        prop.dt  # noqa: B018
    except ValueError:
        return True
    return False


def components(text: bytes | str) -> list[Any]:
    cal = icalendar.Calendar.from_ical(text)
    return [c for c in cal.walk() if c.name in ("VEVENT", "VTODO")]


@pytest.mark.parametrize("path", ICS, ids=[f"{p.parent.name}/{p.name}" for p in ICS])
def test_ics_files_import_and_export(path: Path, tmp_path: Path) -> None:
    source = path.read_bytes()
    specs = ical.parse_ics(source, label=path.name)
    assert specs
    msgs = [through_msg(spec, tmp_path, f"m{n}") for n, spec in enumerate(specs)]
    exported = ical.to_ics(msgs, now=dt.datetime(2024, 1, 2, tzinfo=dt.UTC))
    compare_ics(source, exported)


def compare_ics(source: bytes | str, exported: bytes | str) -> None:
    """The components of an exported calendar are the source's: summary, location, start/end
    in UTC, people, the first 20 occurrences (also for the CLI's files)."""
    before, after = components(source), components(exported)
    assert [c.name for c in before] == [c.name for c in after]
    method = str(icalendar.Calendar.from_ical(source).get("METHOD", "")).strip()
    assert str(icalendar.Calendar.from_ical(exported).get("METHOD", "")) == (
        "REQUEST" if method == "REQUEST" else ""
    )
    for old, new in zip(before, after, strict=True):
        # A task has no global object id in Outlook, so a VTODO's UID is not kept.
        for name in ("SUMMARY", "LOCATION", "DESCRIPTION", *(["UID"] if old.name == "VEVENT" else [])):
            assert str(old.get(name, "")) == str(new.get(name, "")), name
        for name in ("DTSTART", "DTEND", "DUE"):
            if old.get(name) is not None and not broken(old.get(name)):
                assert utc(old.get(name).dt) == utc(new.get(name).dt), name
        if (old.get("DTEND") is None or broken(old.get("DTEND"))) and old.get("DURATION") is not None:
            assert utc(old.get("DTSTART").dt + old.get("DURATION").dt) == utc(new.get("DTEND").dt)
        assert people(old, "ATTENDEE") == people(new, "ATTENDEE")
        assert people(old, "ORGANIZER") == people(new, "ORGANIZER")
        assert occurrences(old) == occurrences(new)


def card_names(card: Any) -> tuple[Any, ...]:
    n = card.contents["n"][0].value if "n" in card.contents else None
    parts = (
        tuple(
            " ".join(x) if isinstance(x, list) else x
            for x in (n.family, n.given, n.additional, n.prefix, n.suffix)
        )
        if n
        else ()
    )
    return parts, str(card.fn.value) if "fn" in card.contents else ""


@pytest.mark.parametrize("path", VCF, ids=[f"{p.parent.name}/{p.name}" for p in VCF])
def test_vcf_files_import_and_export(path: Path, tmp_path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    specs = vcard.parse_vcf(source, label=path.name)
    assert specs
    msgs = [through_msg(spec, tmp_path, f"c{n}") for n, spec in enumerate(specs)]
    compare_vcf(source, vcard.to_vcf(msgs))


def compare_vcf(source: str, exported: str) -> None:
    """The cards of an exported vCard file are the source's: names, e-mails, photo."""
    before = list(vobject.readComponents(source))
    after = list(vobject.readComponents(exported))
    assert len(before) == len(after)
    for old, new in zip(before, after, strict=True):
        assert card_names(old) == card_names(new)
        # The same addresses, the card's preferred one first (it is e-mail 1, marked PREF again).
        assert [e.value for e in sorted(old.contents.get("email", []), key=vcard._preference)] == [
            e.value for e in new.contents.get("email", [])
        ]
        old_photo = [p.value for p in old.contents.get("photo", []) if isinstance(p.value, bytes)]
        assert old_photo == [p.value for p in new.contents.get("photo", [])]


def test_a_zoned_series_over_a_dst_change_exports_the_same_occurrences(tmp_path: Path) -> None:
    spec = {
        "kind": "appointment",
        "subject": "Weekly",
        "start": "2024-03-19T09:00",
        "end": "2024-03-19T10:00",
        "timezone": "America/New_York",
        "recurrence": "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,FR;UNTIL=20241231T000000Z",
        "exdate": ["2024-04-02"],
        "attendees": ["Ann <ann@example.com>"],
        "optional": ["Bob <bob@example.com>"],
        "reminder": 15,
    }
    msg = through_msg(spec, tmp_path, "m1")
    (event,) = components(ical.to_ics([msg], now=dt.datetime(2024, 1, 2, tzinfo=dt.UTC)))
    assert str(event.get("DTSTART").params["TZID"]) == "America/New_York"
    start = dt.datetime(2024, 3, 19, 9, tzinfo=zoneinfo.ZoneInfo("America/New_York"))
    wanted = [
        utc(m) for m in du.rrulestr(spec["recurrence"], dtstart=start) if m.date() != dt.date(2024, 4, 2)
    ][:20]
    assert occurrences(event) == wanted
    assert people(event, "ATTENDEE") == [("ann@example.com", "Ann"), ("bob@example.com", "Bob")]
    assert event.walk("VALARM")[0].get("TRIGGER").dt == -dt.timedelta(minutes=15)
    again = ical.parse_ics(ical.to_ics([msg]))[0]["recurrence"]
    # UNTIL is now the end-by date Outlook keeps (30 December local, at the series' time of day).
    assert sorted(again.split(";")) == ["BYDAY=TU,FR", "FREQ=WEEKLY", "INTERVAL=2", "UNTIL=20241230T140000Z"]


def test_vcard_21_bare_types_choose_the_phone_and_address_fields() -> None:
    card = (
        "BEGIN:VCARD\r\nVERSION:2.1\r\nN:Doe;John\r\nTEL;HOME;VOICE:555-1\r\nTEL;WORK;FAX:555-2\r\n"
        "TEL;CELL:555-3\r\nADR;WORK:;;1 Main St;Springfield;;62701;USA\r\nEND:VCARD\r\n"
    )
    (spec,) = vcard.parse_vcf(card)
    assert spec["phones"] == ["home=555-1", "business-fax=555-2", "mobile=555-3"]
    assert list(spec["addresses"]) == ["work"]


def test_alarms_relative_to_the_end_or_absolute_and_a_todo_done_in_process() -> None:
    text = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n"
        "BEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:20240101T000000Z\r\nDTSTART:20240305T090000Z\r\n"
        "DTEND:20240305T100000Z\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER;RELATED=END:-PT75M\r\n"
        "END:VALARM\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:b\r\nDTSTAMP:20240101T000000Z\r\nDTSTART:20240305T090000Z\r\n"
        "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER;VALUE=DATE-TIME:20240305T083000Z\r\n"
        "END:VALARM\r\nEND:VEVENT\r\n"
        "BEGIN:VTODO\r\nUID:c\r\nDTSTAMP:20240101T000000Z\r\nSTATUS:IN-PROCESS\r\n"
        "PERCENT-COMPLETE:100\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"
    )
    end_related, absolute, todo = ical.parse_ics(text)
    assert end_related["reminder"] == 15  # 75 minutes before the end of an hour-long event
    assert absolute["reminder"] == 30
    assert (todo["status"], todo["percent"]) == ("complete", 100)
    items.prepare(todo, label="t")  # a valid VTODO is a valid task


def test_the_preferred_address_of_a_card_is_email_1() -> None:
    (spec,) = vcard.parse_vcf((DATA / "vobject" / "vcard40_full.vcf").read_text(encoding="utf-8"))
    assert spec["emails"] == ["johnny@personal.example.org", "john.public@example.com"]  # PREF=1
    three = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\r\nEMAIL:a@x.example\r\n"
        "EMAIL;TYPE=INTERNET,PREF:b@x.example\r\nEND:VCARD\r\n"
    )
    assert vcard.parse_vcf(three)[0]["emails"] == ["b@x.example", "a@x.example"]


def _series_utc(event: Any, zone: dt.tzinfo) -> list[dt.datetime]:
    """The occurrences of an exported event, its local times read in ``zone``, in UTC."""
    local = event.get("DTSTART").dt.replace(tzinfo=None)
    rule = event.get("RRULE").to_ical().decode()
    return [m.replace(tzinfo=zone).astimezone(dt.UTC) for m in du.rrulestr(rule, dtstart=local)]


@pytest.mark.parametrize(
    "zone",
    [
        "Europe/Berlin",
        "America/New_York",
        "Australia/Sydney",
        "Asia/Tokyo",
        "America/Sao_Paulo",
        "Europe/London",
    ],
)
def test_the_vtimezone_is_the_zones_yearly_rule_and_holds_past_2038(tmp_path: Path, zone: str) -> None:
    """Not a list of dates that ends in 2037 (icalendar's generated zones): STANDARD and DAYLIGHT
    recurring yearly, as Outlook writes them; a weekly series from 2036 to 2043 read back through
    that VTIMEZONE alone (not the tz database) lands on the instants the zone gives."""
    spec = {
        "kind": "appointment",
        "subject": "Weekly",
        "start": "2036-01-07T09:00",
        "timezone": zone,
        "recurrence": "FREQ=WEEKLY;COUNT=400",
    }
    text = ical.to_ics([through_msg(spec, tmp_path, "m1")], now=dt.datetime(2024, 1, 2, tzinfo=dt.UTC))
    cal = icalendar.Calendar.from_ical(text)
    (vtimezone,) = cal.walk("VTIMEZONE")
    assert str(vtimezone["TZID"]) == zone
    assert "RDATE" not in text and "COMMENT" not in text
    parts = vtimezone.subcomponents
    daylight = [p for p in parts if p.name == "DAYLIGHT"]
    assert [p.name for p in parts] == (["STANDARD", "DAYLIGHT"] if daylight else ["STANDARD"])
    for part in daylight + [p for p in parts if daylight and p.name == "STANDARD"]:
        recur = part["RRULE"]
        assert recur["FREQ"] == ["YEARLY"] and len(recur["BYMONTH"]) == 1 and len(recur["BYDAY"]) == 1
        assert "UNTIL" not in recur and "COUNT" not in recur
    (event,) = components(text)
    assert str(event.get("DTSTART").params["TZID"]) == zone
    found = _series_utc(event, vtimezone.to_tz(lookup_tzid=False))
    start = dt.datetime(2036, 1, 7, 9, tzinfo=zoneinfo.ZoneInfo(zone))
    wanted = [m.astimezone(dt.UTC) for m in du.rrulestr("FREQ=WEEKLY;COUNT=400", dtstart=start)]
    assert found[-1].year == 2043 and found == wanted
    # vobject builds its zone from the VTIMEZONE too (dateutil's tzical): a second reader.
    series = vobject.readOne(text).vevent.getrruleset(addRDate=True)
    assert [m.astimezone(dt.UTC) for m in series] == wanted


def test_the_vtimezone_follows_the_items_own_rule(tmp_path: Path) -> None:
    """A series whose time-zone definition holds another rule than today's tz database (the US
    rule before 2007: first Sunday of April to last Sunday of October) is exported with that
    rule, and its local times are computed with it: Outlook shows the series by its own rule."""
    from msgsess.items import timezones as tz
    from msgsess.items.fields import put

    spec = {
        "kind": "appointment",
        "subject": "Old rule",
        "start": "2030-01-07T09:00",
        "timezone": "America/New_York",
        "recurrence": "FREQ=WEEKLY;COUNT=60",
    }
    msg = through_msg(spec, tmp_path, "m1")
    old = tz.Rule(1601, 300, 0, -60, (0, 10, 0, 5, 2, 0, 0, 0), (0, 4, 0, 1, 2, 0, 0, 0))
    definition = tz.tz_definition("America/New_York", 2030)
    head = definition[: len(definition) - tz.TZRULE.size]
    put(msg.props, "PidLidAppointmentTimeZoneDefinitionRecur", head + tz.pack_rule(old, 2))
    text = ical.to_ics([msg], now=dt.datetime(2024, 1, 2, tzinfo=dt.UTC))
    (vtimezone,) = icalendar.Calendar.from_ical(text).walk("VTIMEZONE")
    rules = {p.name: p["RRULE"] for p in vtimezone.subcomponents}
    assert rules["DAYLIGHT"]["BYMONTH"] == [4] and rules["DAYLIGHT"]["BYDAY"] == ["1SU"]
    assert rules["STANDARD"]["BYMONTH"] == [10] and rules["STANDARD"]["BYDAY"] == ["-1SU"]
    (event,) = components(text)
    found = _series_utc(event, vtimezone.to_tz(lookup_tzid=False))
    # The first occurrence is the item's own start; in March (daylight time now, standard time
    # under the old rule) the series keeps 09:00 of the old rule.
    assert found[0] == dt.datetime(2030, 1, 7, 14, tzinfo=dt.UTC)
    assert found[10] == dt.datetime(2030, 3, 18, 14, tzinfo=dt.UTC)
    assert found[20] == dt.datetime(2030, 5, 27, 13, tzinfo=dt.UTC)


def test_an_unusable_rule_of_a_damaged_item_gives_way_to_the_zones_own(tmp_path: Path) -> None:
    from msgsess.items import timezones as tz
    from msgsess.items.fields import put

    spec = {"kind": "appointment", "start": "2030-07-01T09:00", "timezone": "Europe/Berlin"}
    msg = through_msg(spec, tmp_path, "m1")
    definition = tz.tz_definition("Europe/Berlin", 2030)
    head = definition[: len(definition) - tz.TZRULE.size]
    for broken_rule in (
        tz.Rule(1601, 5000, 0, -60, (0, 10, 0, 5, 3, 0, 0, 0), (0, 3, 0, 5, 2, 0, 0, 0)),
        tz.Rule(65000, -60, 0, -60, (0, 10, 0, 5, 3, 0, 0, 0), (0, 3, 0, 5, 2, 0, 0, 0)),
    ):
        put(msg.props, "PidLidAppointmentTimeZoneDefinitionStartDisplay", head + tz.pack_rule(broken_rule, 2))
        (event,) = components(ical.to_ics([msg]))
        assert event.get("DTSTART").dt.replace(tzinfo=None) == dt.datetime(2030, 7, 1, 9)
