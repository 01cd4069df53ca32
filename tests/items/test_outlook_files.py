"""What Outlook itself wrote, against what msgsess.items writes for the same item.

The appointments of the shared corpus (saved by Outlook; ``../shared/corpus``, skipped
where it is absent) give the reference bytes: the time-zone definitions we compute from
IANA zones equal Outlook's, and the recurrence pattern we rebuild from a parsed series
equals Outlook's in every field but the lists of changed occurrences (which msgsess does
not write). Refreshing an unchanged item keeps Outlook's blob, exceptions included.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from msgsess import cfb, items
from msgsess.items import appointment, fields
from msgsess.items import recurrence as rr
from msgsess.items import timezones as tz
from msgsess.items.fields import get
from msgsess.model import Message
from msgsess.oxmsg import decode
from msgsess.props import ids

CORPUS = Path(__file__).parents[2].parent / "shared" / "corpus"
NAMES = [
    "A black friday (w tz).msg",
    "A schedule.msg",
    "Appointment sample EST.msg",
    "Friday Lunch.msg",
    "Lanch time  every friday  in 2023 chgs2.msg",
]
pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared corpus is not beside the project")


def load(name: str) -> Message:
    (path,) = CORPUS.rglob(name)
    return decode(cfb.read_file(path))


@pytest.mark.parametrize("name", NAMES)
def test_time_zone_definitions_equal_outlooks(name: str) -> None:
    msg = load(name)
    zone = appointment.zone_of(msg)
    year = get(msg.props, "PidLidAppointmentStartWhole").to_datetime().year
    recur = get(msg.props, "PidLidAppointmentTimeZoneDefinitionRecur")
    if recur is not None:
        assert tz.tz_definition(zone, year) == recur
        assert tz.tz_struct(zone, year) == get(msg.props, "PidLidTimeZoneStruct")
    else:
        # (Outlook is not always consistent: "chgs2" has a daylight bias of 0 in its display
        # definition and -60 in its recurrence definition; the recurrence one is compared there.)
        assert tz.tz_definition(zone, year) == get(
            msg.props, "PidLidAppointmentTimeZoneDefinitionStartDisplay"
        )


@pytest.mark.parametrize("name", [n for n in NAMES if "riday" in n and "black" not in n])
def test_recurrence_patterns_equal_outlooks_but_for_changed_occurrences(name: str) -> None:
    msg = load(name)
    blob = get(msg.props, "PidLidAppointmentRecur")
    decoded = rr.parse_blob(blob)
    assert rr.to_rrule(decoded.recurrence) == "FREQ=WEEKLY;BYDAY=FR;UNTIL=20231231;WKST=SU"
    zone = tz.get_zone(appointment.zone_of(msg))
    start = get(msg.props, "PidLidAppointmentStartWhole").to_datetime().astimezone(zone).replace(tzinfo=None)
    end = get(msg.props, "PidLidAppointmentEndWhole").to_datetime().astimezone(zone).replace(tzinfo=None)
    ours = rr.appointment_blob(decoded.recurrence, start, end)
    head = 22 + 4 + 12  # fixed fields, the weekday mask, end type, count and first day of week
    assert ours[:head] == blob[:head]
    theirs_tail = blob[len(blob) - len(ours) :]  # after the instance lists: start date, end date, times
    n_deleted = int.from_bytes(blob[head : head + 4], "little")
    n_modified = int.from_bytes(blob[head + 8 + 4 * n_deleted - 4 : head + 8 + 4 * n_deleted], "little")
    after_lists = head + 8 + 4 * (n_deleted + n_modified)
    assert ours[head + 8 + 4 * len(decoded.recurrence.exdates) :][:16] == blob[after_lists:][:16]
    assert theirs_tail  # Outlook's blob is longer: it also holds the changed occurrences


@pytest.mark.parametrize("name", NAMES)
def test_refreshing_an_unchanged_outlook_item_keeps_its_series_and_zone(name: str) -> None:
    msg = load(name)
    kept = {
        key: get(msg.props, key)
        for key in (
            "PidLidAppointmentRecur",
            "PidLidAppointmentStartWhole",
            "PidLidAppointmentEndWhole",
            "PidLidTimeZoneDescription",
            "PidLidAppointmentTimeZoneDefinitionStartDisplay",
        )
    }
    items.refresh(msg)
    assert {key: get(msg.props, key) for key in kept} == kept
    assert items.read(msg)["timezone"] in ("Asia/Tokyo", "America/New_York")


@pytest.mark.parametrize("name", ["contactUnicode.msg", "contactAnsi.msg"])
def test_refreshing_an_unchanged_outlook_contact_changes_nothing(name: str) -> None:
    msg = load(name)
    before = {pid: (prop.type, prop.value) for pid, prop in msg.props.items()}
    items.refresh(msg)
    assert {pid: (prop.type, prop.value) for pid, prop in msg.props.items()} == before


@pytest.mark.parametrize("name", ["contactUnicode.msg", "contactAnsi.msg"])
def test_a_contacts_email_display_name_is_derived_as_outlook_derives_it(name: str) -> None:
    # The contact's first address, changed and changed back: Outlook's own display name comes
    # out again ("Com Dot Example (addr)", without the title "Mr."), with its entry id.
    msg = load(name)
    theirs = {key: get(msg.props, key) for key in ("PidLidEmail1DisplayName", "PidLidEmail1OriginalEntryId")}
    for address in ("other@example.com", "test@example.com"):
        msg.props.set(
            fields.prop("PidLidEmail1EmailAddress")[0], fields.prop("PidLidEmail1EmailAddress")[1], address
        )
        items.refresh(msg)
    assert {key: get(msg.props, key) for key in theirs} == theirs


@pytest.mark.parametrize("name", NAMES)
def test_refreshing_an_unchanged_outlook_appointment_keeps_every_property_it_has(name: str) -> None:
    # Outlook's localised words of the series and a reminder already set for a later occurrence
    # stay; only what the item lacks is added (PidTagStartDate/EndDate, common start/end).
    msg = load(name)
    before = {pid: (prop.type, prop.value) for pid, prop in msg.props.items()}
    items.refresh(msg)
    after = {pid: (prop.type, prop.value) for pid, prop in msg.props.items()}
    changed = sorted(str(pid) for pid in before if after.get(pid) != before[pid])
    if name == "A schedule.msg":
        # The one exception: Outlook wrote this single appointment's clip end equal to its start;
        # [MS-OXOCAL] 2.2.1.15 has a single instance's clip end at its end, as Outlook's others.
        assert changed == [str(fields.prop("PidLidClipEnd")[0])]
    else:
        assert changed == []


@pytest.mark.parametrize("name", ["contactUnicode.msg", "contactAnsi.msg"])
def test_a_contact_built_from_an_outlook_contacts_fields_gets_its_subject(name: str) -> None:
    msg = load(name)
    fields = items.read(msg)
    assert items.prepare(fields, label="c").mail_spec["subject"] == msg.props.value(ids.SUBJECT)


@pytest.mark.parametrize("name", NAMES)
def test_outlooks_appointments_export_to_icalendar_with_their_own_zone(name: str) -> None:
    """Outlook's items have people without an SMTP address (an Exchange DN, "Unknown"): they are
    written as Outlook writes them (invalid:nomail, by name) instead of failing the export. The
    VTIMEZONE is the item's own rule, and the start read through it is the item's start."""
    import datetime as dt

    import icalendar

    from msgsess.items import ical

    msg = load(name)
    text = ical.to_ics([msg], now=dt.datetime(2024, 1, 2, tzinfo=dt.UTC))
    cal = icalendar.Calendar.from_ical(text)
    (event,) = cal.walk("VEVENT")
    start = get(msg.props, "PidLidAppointmentStartWhole").to_datetime()
    value = event.get("DTSTART")
    if get(msg.props, "PidLidAppointmentSubType", False):
        assert value.dt == start.astimezone(tz.get_zone(appointment.zone_of(msg))).date()
        return
    (vtimezone,) = cal.walk("VTIMEZONE")
    assert str(value.params["TZID"]) == str(vtimezone["TZID"]) == appointment.zone_of(msg)
    zone = vtimezone.to_tz(lookup_tzid=False)
    assert value.dt.replace(tzinfo=None).replace(tzinfo=zone).astimezone(dt.UTC) == start
    assert str(event.get("ORGANIZER")) == ical.NO_ADDRESS and event.get("ORGANIZER").params["CN"]
    # What export writes, import takes back (the person without an address is left out).
    (spec,) = ical.parse_ics(text)
    assert "organizer" not in spec and dt.datetime.fromisoformat(spec["start"]) == start
