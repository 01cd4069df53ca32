"""RRULE <-> recurrence blob: extract-msg's reader, dateutil's expansion, and random rules."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from msgsess.errors import InvalidParameter, located
from msgsess.items import recurrence as r

START = dt.datetime(2024, 3, 5, 9, 30)  # a Tuesday


def roundtrip(
    rule: str, start: dt.datetime = START, exdates: tuple[dt.date, ...] = ()
) -> tuple[str, dt.datetime]:
    rec = r.parse_rrule(rule, start, exdates=exdates)
    first, _last, _n = r.first_and_last(rec, start)
    blob = r.appointment_blob(rec, first, first + dt.timedelta(minutes=45))
    back = r.parse_blob(blob)
    assert back.start_offset == first.hour * 60 + first.minute
    assert back.end_offset == back.start_offset + 45
    return r.to_rrule(back.recurrence, first), first


def expand(
    rule: str, start: dt.datetime, exdates: tuple[dt.date, ...] = (), n: int = 20
) -> list[dt.datetime]:
    from dateutil import rrule as du

    found = []
    for moment in du.rrulestr(rule, dtstart=start):
        if moment.date() not in exdates:
            found.append(moment)
        if len(found) == n:
            break
    return found


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=DAILY",
        "FREQ=DAILY;INTERVAL=3;COUNT=7",
        "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR",
        "FREQ=DAILY;BYDAY=TU,SA;UNTIL=20240601T000000",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;WKST=SU",
        "FREQ=WEEKLY;UNTIL=20240625",
        "FREQ=MONTHLY;BYMONTHDAY=15;COUNT=12",
        "FREQ=MONTHLY;BYDAY=-1FR",
        "FREQ=MONTHLY;INTERVAL=2;BYDAY=2WE",
        "FREQ=MONTHLY;BYMONTHDAY=-1",
        "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
        "FREQ=YEARLY",
        "FREQ=YEARLY;BYMONTH=11;BYDAY=4TH",
        "FREQ=YEARLY;INTERVAL=2;BYMONTH=2;BYMONTHDAY=28;COUNT=5",
    ],
)
def test_rules_outlook_holds_round_trip(rule: str) -> None:
    back, first = roundtrip(rule)
    assert expand(back, first) == expand(rule, first)


def test_exdates_are_deleted_instances() -> None:
    gone = (dt.date(2024, 3, 12), dt.date(2024, 3, 26))
    rec = r.parse_rrule("FREQ=WEEKLY;COUNT=6", START, exdates=gone)
    back = r.parse_blob(r.pattern_blob(rec, START)).recurrence
    assert back.exdates == gone
    assert [m.date() for m in r.occurrences(back, START)] == [
        dt.date(2024, 3, 5),
        dt.date(2024, 3, 19),
        dt.date(2024, 4, 2),
        dt.date(2024, 4, 9),
    ]


@pytest.mark.parametrize(
    ("rule", "part"),
    [
        ("FREQ=DAILY;BYSECOND=5", "BYSECOND=5"),
        ("FREQ=HOURLY", "FREQ=HOURLY"),
        ("FREQ=WEEKLY;BYHOUR=9,17", "BYHOUR=9,17"),
        ("FREQ=YEARLY;BYWEEKNO=20", "BYWEEKNO=20"),
        ("FREQ=MONTHLY;BYMONTHDAY=1,15", "BYMONTHDAY=1,15"),
        ("FREQ=MONTHLY;BYMONTHDAY=31", "BYMONTHDAY=31"),
        ("FREQ=MONTHLY;BYDAY=MO", "BYDAY=MO"),
        ("FREQ=WEEKLY;BYDAY=1MO", "BYDAY=1MO"),
        ("FREQ=DAILY;INTERVAL=1000", "INTERVAL=1000"),
        ("FREQ=DAILY;COUNT=3;UNTIL=20250101", "COUNT"),
        ("INTERVAL=2", "FREQ"),
        ("FREQ=YEARLY;BYDAY=1MO", "BYDAY=1MO"),
        ("FREQ=DAILY;X-NAME=1", "X-NAME=1"),
    ],
)
def test_rules_outlook_cannot_hold_are_refused_naming_the_part(rule: str, part: str) -> None:
    with pytest.raises(InvalidParameter) as info, located("m1"):
        r.parse_rrule(rule, START)
    line = info.value.one_line()
    assert line.startswith(f"m1: recurrence: {part}:")
    assert "\n" not in line


def test_extract_msg_reads_the_pattern() -> None:
    from extract_msg.enums import RecurEndType, RecurFrequency, RecurPatternType
    from extract_msg.structures.recurrence_pattern import RecurrencePattern

    rec = r.parse_rrule("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;COUNT=10", START)
    pattern = RecurrencePattern(r.appointment_blob(rec, START, START + dt.timedelta(hours=1)))
    assert pattern.recurFrequency == RecurFrequency.WEEKLY
    assert pattern.patternType == RecurPatternType.WEEK
    assert pattern.period == 2
    assert pattern.occurrenceCount == 10
    assert pattern.endType == RecurEndType.END_AFTER_N_OCCURRENCES
    # [MS-OXOCAL] weekday bits: Tuesday 0x04, Thursday 0x10
    assert int(pattern.patternTypeSpecific) == 0x14
    assert pattern.startDate == (dt.datetime(2024, 3, 5) - dt.datetime(1601, 1, 1)).days * 1440
    last = r.occurrences(rec, START)[-1]
    assert (
        pattern.endDate == (dt.datetime.combine(last.date(), dt.time()) - dt.datetime(1601, 1, 1)).days * 1440
    )


def test_first_date_time_follows_the_spec() -> None:
    # [MS-OXOCAL] 2.2.1.44.1.1: daily = StartDate % Period; monthly = start of month (months % Period).
    rec = r.parse_rrule("FREQ=DAILY;INTERVAL=2", START)
    blob = r.pattern_blob(rec, START)
    start_minutes = (dt.datetime(2024, 3, 5) - dt.datetime(1601, 1, 1)).days * 1440
    assert int.from_bytes(blob[10:14], "little") == start_minutes % (2 * 1440)
    monthly = r.pattern_blob(r.parse_rrule("FREQ=MONTHLY;INTERVAL=5", START), START)
    months = ((2024 - 1601) * 12 + 2) % 5
    assert (
        int.from_bytes(monthly[10:14], "little")
        == (dt.datetime(1601 + months // 12, months % 12 + 1, 1) - dt.datetime(1601, 1, 1)).days * 1440
    )


def test_words() -> None:
    rec = r.parse_rrule("FREQ=WEEKLY;BYDAY=TU", START)
    end = START + dt.timedelta(hours=1)
    assert r.describe(rec, START, end) == "every Tuesday effective 3/5/2024 from 9:30 AM to 10:30 AM"
    nth = r.parse_rrule("FREQ=MONTHLY;BYDAY=-1FR;COUNT=3", START)
    assert r.describe(nth, START, end).startswith("the last Friday of every month effective 3/5/2024 for 3")


def test_until_in_utc_for_a_zone() -> None:
    zone = zoneinfo.ZoneInfo("America/New_York")
    start = dt.datetime(2024, 3, 5, 9, 30, tzinfo=zone)
    rec = r.parse_rrule("FREQ=DAILY;UNTIL=20240310T143000Z", start)
    assert rec.until == dt.date(2024, 3, 10)
    # 10 March 2024 is the DST switch: 9:30 EDT is 13:30 UTC.
    assert r.to_rrule(rec, start) == "FREQ=DAILY;UNTIL=20240310T133000Z"


_DAYS = st.sets(st.sampled_from(r.DAY_NAMES), min_size=1).map(
    lambda s: ",".join(d for d in r.DAY_NAMES if d in s)
)


@st.composite
def outlook_rules(draw: st.DrawFn) -> str:
    freq = draw(st.sampled_from([r.DAILY, r.WEEKLY, r.MONTHLY, r.YEARLY]))
    parts = [f"FREQ={freq}"]
    if freq == r.DAILY:
        if draw(st.booleans()):
            parts.append("BYDAY=MO,TU,WE,TH,FR")
        else:
            parts.append(f"INTERVAL={draw(st.integers(1, 999))}")
    elif freq == r.WEEKLY:
        parts += [f"INTERVAL={draw(st.integers(1, 99))}", f"BYDAY={draw(_DAYS)}"]
        parts.append(f"WKST={draw(st.sampled_from(r.DAY_NAMES))}")
    else:
        parts.append(f"INTERVAL={draw(st.integers(1, 99 if freq == r.MONTHLY else 10))}")
        if freq == r.YEARLY:
            parts.append(f"BYMONTH={draw(st.integers(1, 12))}")
        how = draw(st.sampled_from(["day", "nth", "setpos", "last"]))
        nth = draw(st.sampled_from([1, 2, 3, 4, -1]))
        if how == "day":
            parts.append(f"BYMONTHDAY={draw(st.integers(1, 28))}")
        elif how == "nth":
            parts.append(f"BYDAY={nth}{draw(st.sampled_from(r.DAY_NAMES))}")
        elif how == "setpos":
            parts += [f"BYDAY={draw(_DAYS)}", f"BYSETPOS={nth}"]
        else:
            parts.append("BYMONTHDAY=-1")
    end = draw(st.sampled_from(["count", "until", "never"]))
    if end == "count":
        parts.append(f"COUNT={draw(st.integers(1, 40))}")
    elif end == "until":
        until = draw(st.dates(dt.date(2024, 4, 1), dt.date(2040, 1, 1)))
        parts.append("UNTIL=" + until.strftime("%Y%m%d"))
    return ";".join(parts)


@settings(max_examples=150, deadline=None)
@given(
    rule=outlook_rules(),
    start=st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2024, 3, 1)).map(
        lambda d: d.replace(second=0, microsecond=0)
    ),
)
def test_random_rules_round_trip_through_the_blob(rule: str, start: dt.datetime) -> None:
    rec = r.parse_rrule(rule, start)
    if not r.occurrences(rec, start, limit=1):
        return  # UNTIL before the first occurrence: nothing to compare
    back, first = roundtrip(rule, start)
    assert expand(back, first) == expand(rule, first)


@settings(max_examples=60, deadline=None)
@given(
    rule=outlook_rules(),
    extra=st.sampled_from(["BYSECOND=1", "BYMINUTE=15", "BYHOUR=8", "BYWEEKNO=3", "BYYEARDAY=100"]),
)
def test_random_rules_with_a_part_outlook_lacks_are_refused(rule: str, extra: str) -> None:
    with pytest.raises(InvalidParameter, match=f"recurrence: {extra}:"):
        r.parse_rrule(rule + ";" + extra, START)


def extract_msg_rule(data: bytes) -> str:
    """The RRULE of a daily or weekly blob, from the fields extract-msg's reader gives.

    (Its reader swaps the layouts of the monthly pattern types, so monthly and yearly blobs
    are checked through our own reader and dateutil instead.)
    """
    from extract_msg.enums import RecurEndType, RecurPatternType
    from extract_msg.structures.recurrence_pattern import RecurrencePattern

    p = RecurrencePattern(data)
    if p.patternType == RecurPatternType.DAY:
        parts = ["FREQ=DAILY", f"INTERVAL={p.period // 1440}"]
    else:
        assert p.patternType == RecurPatternType.WEEK
        mask = int(p.patternTypeSpecific)
        days = [
            name for bit, name in enumerate(("SU", "MO", "TU", "WE", "TH", "FR", "SA")) if mask & (1 << bit)
        ]
        parts = ["FREQ=WEEKLY", f"INTERVAL={p.period}", "BYDAY=" + ",".join(days)]
        parts.append("WKST=" + ("SU", "MO", "TU", "WE", "TH", "FR", "SA")[int(p.firstDayOfWeek)])
    if p.endType == RecurEndType.END_AFTER_N_OCCURRENCES:
        parts.append(f"COUNT={p.occurrenceCount}")
    elif p.endType == RecurEndType.END_AFTER_DATE:
        last = dt.datetime(1601, 1, 1) + dt.timedelta(minutes=p.endDate)
        parts.append("UNTIL=" + last.strftime("%Y%m%dT235959"))
    return ";".join(parts)


@settings(max_examples=80, deadline=None)
@given(
    rule=outlook_rules().filter(lambda rule: "DAILY" in rule or "WEEKLY" in rule),
    start=st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2024, 3, 1)).map(
        lambda d: d.replace(second=0, microsecond=0)
    ),
)
def test_extract_msg_reads_random_daily_and_weekly_blobs_as_the_rule(rule: str, start: dt.datetime) -> None:
    rec = r.parse_rrule(rule, start)
    if not r.occurrences(rec, start, limit=1):
        return
    first, _last, _n = r.first_and_last(rec, start)
    blob = r.appointment_blob(rec, first, first + dt.timedelta(minutes=30))
    assert expand(extract_msg_rule(blob), first) == expand(rule, first)


def test_exdates_that_are_no_occurrence_are_not_written_as_deleted_instances() -> None:
    # A Wednesday of a Tuesday series and a Tuesday after its end: RFC 5545 ignores both;
    # Outlook would take each entry of DeletedInstanceDates for an instance that is gone.
    gone = (dt.date(2024, 3, 6), dt.date(2024, 3, 12), dt.date(2024, 5, 7))
    rec = r.parse_rrule("FREQ=WEEKLY;COUNT=3", START, exdates=gone)
    assert rec.exdates == (dt.date(2024, 3, 12),)
    stray = r.Recurrence(r.WEEKLY, weekdays=(1,), count=3, exdates=gone)
    back = r.parse_blob(r.pattern_blob(stray, START)).recurrence
    assert back.exdates == (dt.date(2024, 3, 12),)
