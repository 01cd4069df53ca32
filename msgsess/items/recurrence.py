"""RFC 5545 RRULE <-> Outlook's recurrence blob ([MS-OXOCAL] 2.2.1.44).

Outlook stores a series as a ``RecurrencePattern`` (PidLidTaskRecurrence) or an
``AppointmentRecurrencePattern`` (PidLidAppointmentRecur: the pattern plus the
instance's time of day). It can represent a subset of RRULE: every N days, every
weekday, every N weeks on some weekdays, monthly or yearly on a day of the month or
on the nth (or last) weekday, ending after N occurrences, on a date, or never, with
deleted instances. Anything else is refused with a one-line error naming the part,
so that a rule never turns silently into a different one.

Dates in the blob are minutes since 1601-01-01 in the series' own time zone (local
wall time), so everything here works on naive local datetimes; callers convert.
"""

from __future__ import annotations

import calendar
import datetime as dt
import struct
from dataclasses import dataclass, field, replace

from msgsess.errors import InvalidParameter

DAILY, WEEKLY, MONTHLY, YEARLY = "DAILY", "WEEKLY", "MONTHLY", "YEARLY"
#: RecurFrequency values ([MS-OXOCAL] 2.2.1.44.1).
FREQUENCY = {DAILY: 0x200A, WEEKLY: 0x200B, MONTHLY: 0x200C, YEARLY: 0x200D}
PATTERN_DAY, PATTERN_WEEK, PATTERN_MONTH, PATTERN_MONTH_NTH, PATTERN_MONTH_END = 0, 1, 2, 3, 4
END_AFTER_DATE, END_AFTER_N, END_NEVER, END_NEVER_ALT = 0x2021, 0x2022, 0x2023, 0xFFFFFFFF
#: EndDate of a series without end ([MS-OXOCAL] 2.2.1.44.1): 31 December 4500, 11:59 PM.
NO_END_DATE = 0x5AE980DF
#: OccurrenceCount Outlook writes for a series without end.
NO_END_COUNT = 10
#: PidLidRecurrenceType ([MS-OXOCAL] 2.2.1.45).
RECURRENCE_TYPE = {DAILY: 1, WEEKLY: 2, MONTHLY: 3, YEARLY: 4}
#: Largest intervals Outlook accepts: 999 days, 99 weeks, 99 months ([MS-OXOCAL] 2.2.1.44.1);
#: yearly series count years (Period = 12 x years).
MAX_INTERVAL = {DAILY: 999, WEEKLY: 99, MONTHLY: 99, YEARLY: 99}
MAX_COUNT = 999

DAY_NAMES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")  # Python's weekday() order
LONG_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WORK_WEEK = (0, 1, 2, 3, 4)
ALL_DAYS = (0, 1, 2, 3, 4, 5, 6)
NTH_NAMES = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}

_EPOCH = dt.datetime(1601, 1, 1)
_HEAD = struct.Struct("<HHHHHIII")  # versions, frequency, pattern, calendar, first, period, sliding
_U32 = struct.Struct("<I")
READER_VERSION = WRITER_VERSION = 0x3004
READER_VERSION2, WRITER_VERSION2 = 0x3006, 0x3009
_REFUSED_PARTS = ("BYSECOND", "BYMINUTE", "BYHOUR", "BYWEEKNO", "BYYEARDAY")


@dataclass(frozen=True)
class Recurrence:
    """A series as Outlook can hold it.

    ``weekdays`` are Python weekday numbers (0 = Monday); ``nth`` is 1-4 or -1 for the
    last; ``until`` is the local date of the last occurrence allowed; ``week_start``
    is the first day of the week (RRULE WKST, the blob's FirstDOW).
    """

    freq: str
    interval: int = 1
    weekdays: tuple[int, ...] = ()
    month_day: int | None = None
    nth: int | None = None
    month: int | None = None
    count: int | None = None
    until: dt.date | None = None
    week_start: int = 0
    exdates: tuple[dt.date, ...] = field(default=())

    @property
    def every_weekday(self) -> bool:
        return self.freq == DAILY and bool(self.weekdays)


def _fail(part: str, problem: str, label: str, hint: str | None = None) -> InvalidParameter:
    """The error for one part of a rule, located at the rule (``label``) and the part."""
    return (
        InvalidParameter(
            problem,
            hint=hint or "Outlook holds daily, weekly, monthly and yearly rules (see docs/ITEMS.md)",
        )
        .at(part)
        .at(label)
    )


# --- RRULE text -> Recurrence ------------------------------------------------------------------


def _split(text: str, label: str) -> dict[str, str]:
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[6:]
    parts: dict[str, str] = {}
    for item in filter(None, body.split(";")):
        name, sep, value = item.partition("=")
        name = name.strip().upper()
        if not sep or not name:
            raise _fail(item, "is not NAME=VALUE", label, hint="write a rule such as FREQ=WEEKLY;BYDAY=MO")
        if name in parts:
            raise _fail(name, "is given twice", label)
        parts[name] = value.strip().upper()
    return parts


def _int(value: str, part: str, label: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise _fail(f"{part}={value}", "is not a number", label) from None
    if not low <= number <= high:
        raise _fail(f"{part}={value}", f"must be {low}..{high} for Outlook", label)
    return number


def _weekday_list(value: str, label: str) -> list[tuple[int | None, int]]:
    out: list[tuple[int | None, int]] = []
    for item in value.split(","):
        item = item.strip()
        name = item[-2:]
        if name not in DAY_NAMES:
            raise _fail(f"BYDAY={value}", f"{item!r} is not a weekday", label)
        ordinal = item[:-2]
        nth: int | None = None
        if ordinal:
            try:
                nth = int(ordinal)
            except ValueError:
                raise _fail(f"BYDAY={value}", f"{item!r} is not a weekday", label) from None
        out.append((nth, DAY_NAMES.index(name)))
    return out


def _nth(value: int, part: str, label: str) -> int:
    if value in (1, 2, 3, 4, -1):
        return value
    raise _fail(part, "Outlook holds the first to fourth or the last (1-4 or -1)", label)


def parse_rrule(
    text: str,
    start: dt.datetime,
    *,
    exdates: list[dt.date] | tuple[dt.date, ...] = (),
    label: str = "recurrence",
) -> Recurrence:
    """An RRULE (``FREQ=WEEKLY;BYDAY=MO,WE``) for a series starting at ``start`` (local, naive).

    Parts the rule leaves out come from the start, as RFC 5545 says (the weekday of a
    weekly rule, the day and month of a monthly or yearly one).
    """
    parts = _split(text, label)
    for name in parts:
        if name in _REFUSED_PARTS:
            raise _fail(
                f"{name}={parts[name]}", "Outlook cannot repeat within a day or by week/day number", label
            )
        if name not in (
            "FREQ",
            "INTERVAL",
            "COUNT",
            "UNTIL",
            "BYDAY",
            "BYMONTHDAY",
            "BYMONTH",
            "BYSETPOS",
            "WKST",
        ):
            raise _fail(f"{name}={parts[name]}", "is not a part Outlook can hold", label)
    freq = parts.get("FREQ")
    if freq is None:
        raise _fail(
            "FREQ", "is missing", label, hint="start the rule with FREQ=DAILY, WEEKLY, MONTHLY or YEARLY"
        )
    if freq not in FREQUENCY:
        raise _fail(f"FREQ={freq}", "Outlook repeats daily, weekly, monthly or yearly only", label)
    interval = _int(parts.get("INTERVAL", "1"), "INTERVAL", label, 1, MAX_INTERVAL[freq])
    count = until = None
    if "COUNT" in parts and "UNTIL" in parts:
        raise _fail("COUNT", "and UNTIL cannot both be given (RFC 5545)", label)
    if "COUNT" in parts:
        count = _int(parts["COUNT"], "COUNT", label, 1, MAX_COUNT)
    if "UNTIL" in parts:
        until = _until(parts["UNTIL"], start, label)
    week_start = 0
    if "WKST" in parts:
        if parts["WKST"] not in DAY_NAMES:
            raise _fail(f"WKST={parts['WKST']}", "is not a weekday", label)
        week_start = DAY_NAMES.index(parts["WKST"])
    days = _weekday_list(parts["BYDAY"], label) if "BYDAY" in parts else []
    month_days = (
        [_int(v, "BYMONTHDAY", label, -31, 31) for v in parts["BYMONTHDAY"].split(",")]
        if "BYMONTHDAY" in parts
        else []
    )
    months = (
        [_int(v, "BYMONTH", label, 1, 12) for v in parts["BYMONTH"].split(",")] if "BYMONTH" in parts else []
    )
    setpos = (
        [_int(v, "BYSETPOS", label, -366, 366) for v in parts["BYSETPOS"].split(",")]
        if "BYSETPOS" in parts
        else []
    )
    base = Recurrence(freq, interval, count=count, until=until, week_start=week_start)
    if freq in (DAILY, WEEKLY):
        for name, given in (("BYMONTHDAY", month_days), ("BYMONTH", months), ("BYSETPOS", setpos)):
            if given:
                raise _fail(
                    f"{name}={parts[name]}", f"Outlook cannot restrict a {freq.lower()} rule by it", label
                )
        if any(nth is not None for nth, _ in days):
            raise _fail(
                f"BYDAY={parts['BYDAY']}", f"a {freq.lower()} rule takes weekdays without a number", label
            )
        weekdays = tuple(sorted({day for _, day in days}))
        if freq == DAILY:
            if not weekdays or weekdays == ALL_DAYS:
                rec = base
            elif interval == 1:
                # Every day on some weekdays is a weekly rule; every weekday is Outlook's own.
                rec = (
                    replace(base, weekdays=weekdays)
                    if weekdays == WORK_WEEK
                    else replace(base, freq=WEEKLY, weekdays=weekdays)
                )
            else:
                raise _fail(f"BYDAY={parts['BYDAY']}", "Outlook cannot limit every N days to weekdays", label)
        else:
            rec = replace(base, weekdays=weekdays or (start.weekday(),))
    else:
        if len(months) > 1:
            raise _fail(f"BYMONTH={parts['BYMONTH']}", "Outlook holds one month", label)
        if freq == MONTHLY and months:
            raise _fail(f"BYMONTH={parts['BYMONTH']}", "Outlook cannot limit a monthly rule to months", label)
        month = (months[0] if months else start.month) if freq == YEARLY else None
        rec = replace(base, month=month)
        rec = _monthly(rec, parts, days, month_days, setpos, start, label)
    return only_instances(replace(rec, exdates=tuple(sorted(set(exdates)))), start)


def only_instances(rec: Recurrence, start: dt.datetime) -> Recurrence:
    """The series without the deleted dates that are none of its occurrences.

    An EXDATE that matches no occurrence changes nothing (RFC 5545 3.8.5.1), but Outlook
    reads every DeletedInstanceDates entry as the original date of an instance.
    """
    if not rec.exdates:
        return rec
    from dateutil import rrule as du

    naive = start.replace(tzinfo=None)
    rule = du.rrulestr(to_rrule(replace(rec, exdates=()), naive), dtstart=naive)
    kept = tuple(
        day
        for day in rec.exdates
        if rule.between(dt.datetime.combine(day, dt.time()), dt.datetime.combine(day, dt.time.max), inc=True)
    )
    return rec if kept == rec.exdates else replace(rec, exdates=kept)


def _monthly(
    rec: Recurrence,
    parts: dict[str, str],
    days: list[tuple[int | None, int]],
    month_days: list[int],
    setpos: list[int],
    start: dt.datetime,
    label: str,
) -> Recurrence:
    if len(month_days) > 1:
        raise _fail(f"BYMONTHDAY={parts['BYMONTHDAY']}", "Outlook holds one day of the month", label)
    if len(setpos) > 1:
        raise _fail(f"BYSETPOS={parts['BYSETPOS']}", "Outlook holds one position", label)
    if month_days and days:
        raise _fail("BYMONTHDAY", "and BYDAY together are more than Outlook can hold", label)
    if days and rec.freq == YEARLY and "BYMONTH" not in parts:
        # RFC 5545 counts such weekdays through the whole year; Outlook within one month.
        raise _fail(f"BYDAY={parts['BYDAY']}", "a yearly rule by weekday needs BYMONTH for Outlook", label)
    if days:
        ordinals = [nth for nth, _ in days]
        if len(days) == 1 and ordinals[0] is not None:
            if setpos:
                raise _fail(f"BYSETPOS={parts['BYSETPOS']}", "does not go with a numbered BYDAY", label)
            return replace(
                rec, weekdays=(days[0][1],), nth=_nth(ordinals[0], f"BYDAY={parts['BYDAY']}", label)
            )
        if any(n is not None for n in ordinals):
            raise _fail(f"BYDAY={parts['BYDAY']}", "Outlook holds one numbered weekday", label)
        if not setpos:
            span = "month" if rec.freq == MONTHLY else "year"
            raise _fail(
                f"BYDAY={parts['BYDAY']}",
                f"every such weekday of the {span} is more than Outlook can hold",
                label,
                hint="add BYSETPOS=1..4 or -1 to pick one of them, or use a weekly rule",
            )
        weekdays = tuple(sorted({day for _, day in days}))
        return replace(rec, weekdays=weekdays, nth=_nth(setpos[0], f"BYSETPOS={parts['BYSETPOS']}", label))
    if setpos:
        raise _fail(f"BYSETPOS={parts['BYSETPOS']}", "needs BYDAY", label)
    day = month_days[0] if month_days else start.day
    if day == -1:
        return replace(rec, weekdays=ALL_DAYS, nth=-1)
    if day < 1:
        raise _fail(f"BYMONTHDAY={day}", "Outlook counts from the end only for the last day (-1)", label)
    # Outlook moves day 29-31 to the last day of shorter months; RFC 5545 skips those months.
    shortest = 28 if rec.freq == MONTHLY or rec.month == 2 else calendar.monthrange(2001, rec.month or 1)[1]
    if day > shortest:
        where = f"BYMONTHDAY={day}" if month_days else f"DTSTART day {day}"
        raise _fail(
            where,
            "is missing in some months, where Outlook would use the last day instead of skipping",
            label,
            hint="use BYMONTHDAY=-1 for the last day of the month",
        )
    return replace(rec, month_day=day)


def _until(value: str, start: dt.datetime, label: str) -> dt.date:
    """UNTIL as the local date of the last occurrence it allows (time of day of the series)."""
    text = value.rstrip("Z")
    try:
        if "T" in text:
            moment = dt.datetime.strptime(text, "%Y%m%dT%H%M%S")
            if value.endswith("Z") and start.tzinfo is not None:
                moment = moment.replace(tzinfo=dt.UTC).astimezone(start.tzinfo).replace(tzinfo=None)
        else:
            # A date alone ends at its midnight, as dateutil and most readers take it.
            moment = dt.datetime.strptime(text, "%Y%m%d")
        day = moment.date()
        if moment.time() < start.time():
            day -= dt.timedelta(days=1)
        return day
    except ValueError:
        raise _fail(f"UNTIL={value}", "is not a date (YYYYMMDD or YYYYMMDDTHHMMSSZ)", label) from None


# --- Recurrence -> RRULE text ------------------------------------------------------------------


def to_rrule(rec: Recurrence, start: dt.datetime | None = None) -> str:
    """The RRULE of a series; UNTIL is given in UTC when ``start`` is aware (RFC 5545 3.3.10)."""
    freq = WEEKLY if rec.every_weekday else rec.freq
    parts = [f"FREQ={freq}"]
    if rec.interval != 1:
        parts.append(f"INTERVAL={rec.interval}")
    if rec.freq in (DAILY, WEEKLY) and rec.weekdays:
        parts.append("BYDAY=" + ",".join(DAY_NAMES[d] for d in rec.weekdays))
    elif rec.nth is not None:
        if rec.weekdays == ALL_DAYS and rec.nth == -1:
            parts.append("BYMONTHDAY=-1")
        elif len(rec.weekdays) == 1:
            parts.append(f"BYDAY={rec.nth}{DAY_NAMES[rec.weekdays[0]]}")
        else:
            parts.append("BYDAY=" + ",".join(DAY_NAMES[d] for d in rec.weekdays))
            parts.append(f"BYSETPOS={rec.nth}")
    elif rec.month_day is not None:
        parts.append(f"BYMONTHDAY={rec.month_day}")
    if rec.freq == YEARLY and rec.month is not None:
        parts.append(f"BYMONTH={rec.month}")
    if rec.count is not None:
        parts.append(f"COUNT={rec.count}")
    elif rec.until is not None:
        if start is not None and start.tzinfo is not None:
            moment = dt.datetime.combine(rec.until, start.timetz()).astimezone(dt.UTC)
            parts.append("UNTIL=" + moment.strftime("%Y%m%dT%H%M%SZ"))
        elif start is not None:
            parts.append("UNTIL=" + dt.datetime.combine(rec.until, start.time()).strftime("%Y%m%dT%H%M%S"))
        else:
            parts.append("UNTIL=" + rec.until.strftime("%Y%m%d"))
    if rec.week_start != 0:
        parts.append("WKST=" + DAY_NAMES[rec.week_start])
    return ";".join(parts)


# --- occurrences ---------------------------------------------------------------------------------


def occurrences(rec: Recurrence, start: dt.datetime, limit: int | None = None) -> list[dt.datetime]:
    """The series' start times (exdates removed), at most ``limit`` of them.

    ``start`` may be naive (local wall time) or aware; a series without end needs a limit.
    """
    from dateutil import rrule as du

    rule = du.rrulestr(to_rrule(rec, start), dtstart=start)
    found: list[dt.datetime] = []
    skip = set(rec.exdates)
    for moment in rule:
        if moment.date() in skip:
            continue
        found.append(moment)
        if limit is not None and len(found) >= limit:
            break
    return found


def first_and_last(rec: Recurrence, start: dt.datetime) -> tuple[dt.datetime, dt.datetime | None, int]:
    """First and last start of the series (exdates included) and the number of occurrences.

    The last is None for a series without end; the count then is Outlook's placeholder.
    """
    from dateutil import rrule as du

    plain = replace(rec, exdates=())
    rule = du.rrulestr(to_rrule(plain, start), dtstart=start)
    first = rule.after(start, inc=True)
    if first is None:
        raise InvalidParameter("the rule has no occurrence", hint="check COUNT, UNTIL and the start").at(
            "recurrence"
        )
    if rec.count is None and rec.until is None:
        return first, None, NO_END_COUNT
    last: dt.datetime | None = None
    number = 0
    for moment in rule:
        last = moment
        number += 1
    assert last is not None
    return first, last, number


# --- Recurrence <-> blob -------------------------------------------------------------------------


def _minutes(day: dt.date) -> int:
    return int((dt.datetime.combine(day, dt.time()) - _EPOCH).total_seconds()) // 60


def _date(minutes: int) -> dt.date:
    return (_EPOCH + dt.timedelta(minutes=minutes)).date()


def _mask(weekdays: tuple[int, ...]) -> int:
    """Weekday bits of the blob: Sunday = 0x01 ... Saturday = 0x40 ([MS-OXOCAL] 2.2.1.44.1)."""
    return sum(1 << ((d + 1) % 7) for d in weekdays)


def _unmask(mask: int) -> tuple[int, ...]:
    return tuple(sorted((bit - 1) % 7 for bit in range(7) if mask & (1 << bit)))


def _first_date_time(rec: Recurrence, period: int, first: dt.date) -> int:
    """FirstDateTime ([MS-OXOCAL] 2.2.1.44.1.1)."""
    if rec.freq == DAILY and not rec.every_weekday:
        return _minutes(first) % period
    if rec.freq in (DAILY, WEEKLY):
        blob_first_dow = (rec.week_start + 1) % 7
        offset = ((first.weekday() + 1) % 7 - blob_first_dow) % 7
        week_start = first - dt.timedelta(days=offset)
        return _minutes(week_start) % (period * 7 * 1440)
    months = ((first.year - 1601) * 12 + first.month - 1) % period
    return _minutes(dt.date(1601 + months // 12, months % 12 + 1, 1))


def pattern_blob(rec: Recurrence, start: dt.datetime) -> bytes:
    """The RecurrencePattern of a series whose first occurrence starts at ``start`` (local, naive).

    ``start`` must be an occurrence of the rule: Outlook's series starts on its first
    instance (callers move the item there, see :func:`first_and_last`).
    """
    first, last, number = first_and_last(rec, start)
    rec = only_instances(rec, first)
    if rec.freq == DAILY and not rec.every_weekday:
        pattern, period, specific = PATTERN_DAY, rec.interval * 1440, b""
    elif rec.freq in (DAILY, WEEKLY):
        pattern, period, specific = PATTERN_WEEK, rec.interval, _U32.pack(_mask(rec.weekdays))
    else:
        period = rec.interval * (12 if rec.freq == YEARLY else 1)
        if rec.nth is not None:
            pattern = PATTERN_MONTH_NTH
            specific = _U32.pack(_mask(rec.weekdays)) + _U32.pack(5 if rec.nth == -1 else rec.nth)
        else:
            pattern, specific = PATTERN_MONTH, _U32.pack(rec.month_day or first.day)
    if rec.count is not None:
        end_type, count = END_AFTER_N, rec.count
    elif rec.until is not None:
        end_type, count = END_AFTER_DATE, number
    else:
        end_type, count = END_NEVER, NO_END_COUNT
    # Outlook keeps the end-by date itself (the range's end), not the last occurrence's date.
    if rec.until is not None and rec.count is None:
        end_date = _minutes(rec.until)
    else:
        end_date = NO_END_DATE if last is None else _minutes(last.date())
    frequency = FREQUENCY[DAILY if rec.every_weekday else rec.freq]
    head = _HEAD.pack(
        READER_VERSION,
        WRITER_VERSION,
        frequency,
        pattern,
        0,  # CalendarType: Gregorian (CAL_DEFAULT)
        _first_date_time(rec, period, first.date()),
        period,
        0,  # SlidingFlag: not a task that regenerates
    )
    deleted = [_minutes(d) for d in rec.exdates]
    tail = _U32.pack(end_type) + _U32.pack(count) + _U32.pack((rec.week_start + 1) % 7)
    tail += _U32.pack(len(deleted)) + b"".join(_U32.pack(m) for m in deleted)
    tail += _U32.pack(0)  # ModifiedInstanceCount: no exceptions with changed details
    tail += _U32.pack(_minutes(first.date())) + _U32.pack(end_date)
    return head + specific + tail


def appointment_blob(rec: Recurrence, start: dt.datetime, end: dt.datetime) -> bytes:
    """PidLidAppointmentRecur: the pattern plus the instance's start and end time of day."""
    offset = start.hour * 60 + start.minute
    duration = int((end - start).total_seconds()) // 60
    return (
        pattern_blob(rec, start)
        + struct.pack("<IIII", READER_VERSION2, WRITER_VERSION2, offset, offset + duration)
        + struct.pack("<H", 0)  # ExceptionCount
        + _U32.pack(0)  # ReservedBlock1Size
        + _U32.pack(0)  # ReservedBlock2Size
    )


@dataclass(frozen=True)
class Decoded:
    """A blob read back: the series, its first and last date, and (appointments) the times of day."""

    recurrence: Recurrence
    start_date: dt.date
    end_date: dt.date | None
    start_offset: int | None = None
    end_offset: int | None = None


def parse_blob(data: bytes) -> Decoded:
    """A RecurrencePattern or AppointmentRecurrencePattern -> :class:`Decoded` (ValueError if damaged)."""
    try:
        return _parse(data)
    except struct.error as exc:
        raise ValueError(f"recurrence blob too short ({exc})") from None


def _parse(data: bytes) -> Decoded:
    rv, wv, frequency, pattern, cal, _first, period, _sliding = _HEAD.unpack_from(data, 0)
    if rv != READER_VERSION or wv != WRITER_VERSION:
        raise ValueError(f"recurrence blob version 0x{rv:04X}/0x{wv:04X}, not 0x3004")
    if cal not in (0, 1):
        raise ValueError(f"calendar type {cal} is not Gregorian")
    freqs = {v: k for k, v in FREQUENCY.items()}
    if frequency not in freqs:
        raise ValueError(f"recurrence frequency 0x{frequency:04X}")
    freq = freqs[frequency]
    pos = _HEAD.size
    weekdays: tuple[int, ...] = ()
    month_day = nth = None

    def u32() -> int:
        nonlocal pos
        (value,) = _U32.unpack_from(data, pos)
        pos += 4
        return int(value)

    if pattern == PATTERN_DAY:
        interval = max(1, period // 1440)
    elif pattern == PATTERN_WEEK:
        weekdays, interval = _unmask(u32()), period
    elif pattern in (PATTERN_MONTH, PATTERN_MONTH_END):
        day = u32()
        month_day = day if pattern == PATTERN_MONTH else None
        if pattern == PATTERN_MONTH_END:
            weekdays, nth = ALL_DAYS, -1
        interval = period
    elif pattern == PATTERN_MONTH_NTH:
        weekdays = _unmask(u32())
        raw = u32()
        nth = -1 if raw == 5 else raw
        interval = period
    else:
        raise ValueError(f"recurrence pattern type 0x{pattern:04X} (Hijri calendar) is not supported")
    if freq == YEARLY:
        interval = max(1, interval // 12)
    end_type, count, first_dow = u32(), u32(), u32()
    deleted = [u32() for _ in range(u32())]
    modified = [u32() for _ in range(u32())]
    start_date, end_date = _date(u32()), u32()
    rec = Recurrence(
        freq if not (freq == DAILY and pattern == PATTERN_WEEK) else DAILY,
        interval,
        weekdays,
        month_day,
        nth,
        start_date.month if freq == YEARLY else None,
        count if end_type == END_AFTER_N else None,
        _date(end_date) if end_type == END_AFTER_DATE else None,
        (first_dow - 1) % 7,
        # A modified instance is still an occurrence; only the deleted ones are gone.
        tuple(sorted({_date(m) for m in deleted} - {_date(m) for m in modified})),
    )
    last = None if end_type in (END_NEVER, END_NEVER_ALT) or end_date == NO_END_DATE else _date(end_date)
    if len(data) >= pos + 16:
        rv2, _wv2, start_offset, end_offset = struct.unpack_from("<IIII", data, pos)
        if rv2 == READER_VERSION2:
            return Decoded(rec, start_date, last, start_offset, end_offset)
    return Decoded(rec, start_date, last)


# --- words ---------------------------------------------------------------------------------------


def _clock(minutes: int) -> str:
    hour, minute = divmod(minutes % 1440, 60)
    suffix = "AM" if hour < 12 else "PM"
    return f"{(hour % 12) or 12}:{minute:02d} {suffix}"


def describe(
    rec: Recurrence, start: dt.datetime, end: dt.datetime | None = None, *, all_day: bool = False
) -> str:
    """The series in words, as PidLidRecurrencePattern holds it ("every Tuesday from 9:00 AM to 10:00 AM")."""
    days = ", ".join(LONG_DAY_NAMES[d] for d in rec.weekdays)
    n = rec.interval
    if rec.every_weekday:
        text = "every weekday"
    elif rec.freq == DAILY:
        text = "every day" if n == 1 else f"every {n} days"
    elif rec.freq == WEEKLY:
        text = f"every {days}" if n == 1 else f"every {n} weeks on {days}"
    else:
        unit = "month" if rec.freq == MONTHLY else calendar.month_name[rec.month or start.month]
        if rec.nth is not None:
            what = "day" if rec.weekdays == ALL_DAYS else ("weekday" if rec.weekdays == WORK_WEEK else days)
            where = f"the {NTH_NAMES[rec.nth]} {what} of "
        elif rec.freq == MONTHLY:
            where = f"day {rec.month_day} of "
        else:
            where = ""
        if rec.freq == MONTHLY:
            text = where + ("every month" if n == 1 else f"every {n} months")
        elif where:
            text = where + unit + ("" if n == 1 else f" every {n} years")
        else:
            text = f"every {unit} {rec.month_day}" + ("" if n == 1 else f" every {n} years")
    text += f" effective {start.month}/{start.day}/{start.year}"
    if rec.until is not None:
        text += f" until {rec.until.month}/{rec.until.day}/{rec.until.year}"
    elif rec.count is not None:
        text += f" for {rec.count} occurrences"
    if not all_day and end is not None:
        text += f" from {_clock(start.hour * 60 + start.minute)} to {_clock(end.hour * 60 + end.minute)}"
    return text
