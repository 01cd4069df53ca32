"""IANA time zones -> Outlook's time-zone structures, and back.

Outlook does not store an IANA name: an appointment carries Windows-style rules
(bias, daylight bias, and the yearly switch dates as "nth weekday of a month at a
time"), in a ``TZDEFINITION`` ([MS-OXOCAL] 2.2.1.41, for
PidLidAppointmentTimeZoneDefinitionStartDisplay/EndDisplay/Recur) and in the older
``TZSTRUCT`` of PidLidTimeZoneStruct (2.2.1.39). Both are computed here from the
zone's real transitions (``zoneinfo``), year by year, so that any zone the tz
database knows becomes rules Outlook can apply; the Windows key name comes from
CLDR's windowsZones table (``data/windows-zones.tsv``).
"""

from __future__ import annotations

import calendar
import datetime as dt
import importlib.resources
import struct
import zoneinfo
from dataclasses import dataclass, replace
from functools import cache

from msgsess.errors import InvalidParameter

#: SYSTEMTIME ([MS-DTYP] 2.3.13): year, month, day of week, day, hour, minute, second, ms.
SYSTEMTIME = struct.Struct("<8H")
#: TZSTRUCT of PidLidTimeZoneStruct: bias, standard bias, daylight bias, standard year,
#: standard date, daylight year, daylight date ([MS-OXOCAL] 2.2.1.39).
TZSTRUCT = struct.Struct("<3iH16sH16s")
#: TZDEFINITION header up to the key name: major 2, minor 1, cbHeader, reserved 2, cchKeyName.
TZDEF_HEAD = struct.Struct("<BBHHH")
#: TZRule ([MS-OXOCAL] 2.2.1.41.1): major 2, minor 1, reserved 0x3E, flags, year, X (14
#: bytes), bias, standard bias, daylight bias, standard date, daylight date (66 bytes).
TZRULE = struct.Struct("<BBHHH14s3i16s16s")
#: X: the spec asks for zeros; Outlook writes the rest of the rule's start date, 1 January
#: (month 1, day 1), in every rule we have seen (Tokyo, Eastern). We write what Outlook does.
TZRULE_X = struct.pack("<7H", 1, 0, 1, 0, 0, 0, 0)

TZRULE_FLAG_RECUR_CURRENT_TZREG = 0x0001
TZRULE_FLAG_EFFECTIVE_TZREG = 0x0002
#: Rules are written for at most this many years before the one in force (Outlook keeps
#: the history of a zone's rules; 25 years cover every change a reader is likely to meet).
HISTORY_YEARS = 25

SystemTime = tuple[int, int, int, int, int, int, int, int]
NO_DATE: SystemTime = (0, 0, 0, 0, 0, 0, 0, 0)


@dataclass(frozen=True)
class Rule:
    """One year's rule of a zone, in Windows terms (minutes; bias = UTC - local)."""

    year: int
    bias: int
    standard_bias: int
    daylight_bias: int
    standard_date: SystemTime
    daylight_date: SystemTime

    def same_rule(self, other: Rule) -> bool:
        return (
            self.bias,
            self.standard_bias,
            self.daylight_bias,
            self.standard_date,
            self.daylight_date,
        ) == (
            other.bias,
            other.standard_bias,
            other.daylight_bias,
            other.standard_date,
            other.daylight_date,
        )


@cache
def _table() -> tuple[dict[str, str], dict[str, str]]:
    text = (
        importlib.resources.files("msgsess.items")
        .joinpath("data", "windows-zones.tsv")
        .read_text(encoding="utf-8")
    )
    to_windows: dict[str, str] = {}
    to_iana: dict[str, str] = {}
    for line in text.splitlines()[1:]:
        iana, windows, primary = line.split("\t")
        to_windows[iana] = windows
        if primary == "1":
            to_iana[windows] = iana
    return to_windows, to_iana


def get_zone(name: str, *, field: str = "timezone") -> zoneinfo.ZoneInfo:
    """The zone of an IANA name; InvalidParameter naming the field for an unknown one."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidParameter(
            f"unknown time zone {name!r}", hint="give an IANA name such as Europe/Berlin or UTC"
        ).at(field) from None


def windows_name(iana: str) -> str:
    """The Windows key name of an IANA zone (CLDR); the IANA name itself when CLDR has none."""
    return _table()[0].get(iana, "UTC" if iana in ("UTC", "Etc/UTC", "GMT") else iana)


def iana_name(windows: str) -> str | None:
    """The IANA zone CLDR gives for a Windows key name, or None."""
    if windows in _table()[0]:  # some writers store an IANA name as the key name
        return windows
    return _table()[1].get(windows)


# --- rules from zoneinfo ---------------------------------------------------------------------


def _offset(zone: dt.tzinfo, when: dt.datetime) -> tuple[int, bool]:
    local = when.astimezone(zone)
    offset = local.utcoffset() or dt.timedelta(0)
    return int(offset.total_seconds()) // 60, bool(local.dst())


def _transitions(zone: dt.tzinfo, year: int) -> list[dt.datetime]:
    """UTC instants (to the minute) in ``year`` where the zone's offset changes."""
    start = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC)
    found: list[dt.datetime] = []
    step = dt.timedelta(days=7)
    here = start
    before = _offset(zone, here)
    while here < end:
        there = min(here + step, end)
        after = _offset(zone, there)
        if after != before:
            low, high = here, there
            while high - low > dt.timedelta(minutes=1):
                mid = low + (high - low) / 2
                mid = mid.replace(second=0, microsecond=0)
                if mid <= low:
                    break
                if _offset(zone, mid) == before:
                    low = mid
                else:
                    high = mid
            found.append(high)
        here, before = there, after
    return found


def _relative(local: dt.datetime) -> SystemTime:
    """A local switch time as Windows' "nth weekday of the month" form (5 = the last)."""
    days = calendar.monthrange(local.year, local.month)[1]
    nth = 5 if local.day > days - 7 else (local.day - 1) // 7 + 1
    weekday = (local.weekday() + 1) % 7  # SYSTEMTIME counts from Sunday = 0
    return (0, local.month, weekday, nth, local.hour, local.minute, 0, 0)


def year_rule(zone: dt.tzinfo, year: int) -> Rule:
    """The zone's rule for one year, from its actual transitions in that year."""
    changes = _transitions(zone, year)
    mid_year = _offset(zone, dt.datetime(year, 1, 1, tzinfo=dt.UTC))
    if len(changes) == 2:
        first = _offset(zone, changes[0])
        second = _offset(zone, changes[1])
        # The daylight period is the one flagged dst (or, failing that, the larger offset).
        into_dst = first[1] or (not second[1] and first[0] > second[0])
        start, stop = (changes[0], changes[1]) if into_dst else (changes[1], changes[0])
        daylight = _offset(zone, start)[0]
        standard = _offset(zone, stop)[0]
        if daylight < standard and start > stop:
            # A "negative" daylight time over the winter (tzdata's Europe/Dublin: IST is the
            # standard time, GMT its winter): Windows knows it as a summer daylight time
            # (GMT Standard Time), so the summer is the daylight period here as well.
            start, stop, daylight, standard = stop, start, standard, daylight
        if daylight != standard:
            # Windows writes each switch in the wall-clock time in force just before it.
            dl_local = (start + dt.timedelta(minutes=standard)).replace(tzinfo=None)
            st_local = (stop + dt.timedelta(minutes=daylight)).replace(tzinfo=None)
            return Rule(year, -standard, 0, standard - daylight, _relative(st_local), _relative(dl_local))
    standard = _offset(zone, dt.datetime(year, 12, 31, 12, tzinfo=dt.UTC))[0] if changes else mid_year[0]
    # Windows keeps a daylight bias of -60 even for zones without daylight saving time
    # (Outlook writes it so for Asia/Tokyo); without switch dates it is never applied.
    return Rule(year, -standard, 0, -60, NO_DATE, NO_DATE)


def rules(zone: dt.tzinfo, year: int) -> list[Rule]:
    """Rules from HISTORY_YEARS before ``year`` up to it, merged where a rule did not change.

    Each rule's year is the first year it applies to (1601 for a rule in force for the whole
    window, as Outlook writes a zone that never changed); the last one is the rule in force.
    """
    key = getattr(zone, "key", None)
    if isinstance(key, str):
        return list(_zone_rules(key, year))
    return _compute_rules(zone, year)


@cache
def _zone_rules(iana: str, year: int) -> tuple[Rule, ...]:
    # Cached per zone and year: an import of many events in one zone computes them once.
    return tuple(_compute_rules(zoneinfo.ZoneInfo(iana), year))


def _compute_rules(zone: dt.tzinfo, year: int) -> list[Rule]:
    first = max(1970, year - HISTORY_YEARS) if year >= 1970 else year
    merged: list[Rule] = []
    for each in range(first, year + 1):
        rule = year_rule(zone, each)
        if not merged or not merged[-1].same_rule(rule):
            merged.append(rule)
    if merged[0].year == first:
        merged[0] = replace(merged[0], year=1601)
    return merged


def pack_rule(rule: Rule, flags: int) -> bytes:
    return TZRULE.pack(
        2,
        1,
        0x003E,
        flags,
        rule.year,
        TZRULE_X,
        rule.bias,
        rule.standard_bias,
        rule.daylight_bias,
        SYSTEMTIME.pack(*rule.standard_date),
        SYSTEMTIME.pack(*rule.daylight_date),
    )


def tz_definition(iana: str, year: int) -> bytes:
    """A TZDEFINITION for PidLidAppointmentTimeZoneDefinition* ([MS-OXOCAL] 2.2.1.41).

    Like Outlook, it holds the one rule in force in ``year``, flagged
    TZRULE_FLAG_EFFECTIVE_TZREG, with the year that rule began (1601 when it never
    changed); compared with Outlook's own files, byte for byte.
    """
    zone = get_zone(iana)
    key = windows_name(iana)
    name = key.encode("utf-16-le")
    rule = rules(zone, year)[-1]
    head = TZDEF_HEAD.pack(2, 1, 6 + len(name), 0x0002, len(key))
    return head + name + struct.pack("<H", 1) + pack_rule(rule, TZRULE_FLAG_EFFECTIVE_TZREG)


def tz_struct(iana: str, year: int) -> bytes:
    """PidLidTimeZoneStruct: the rule in force in ``year`` ([MS-OXOCAL] 2.2.1.39)."""
    rule = rules(get_zone(iana), year)[-1]
    return TZSTRUCT.pack(
        rule.bias,
        rule.standard_bias,
        rule.daylight_bias,
        0,
        SYSTEMTIME.pack(*rule.standard_date),
        0,
        SYSTEMTIME.pack(*rule.daylight_date),
    )


def description(iana: str, year: int) -> str:
    """PidLidTimeZoneDescription: the zone's base offset and Windows name, as Outlook lists zones."""
    bias = rules(get_zone(iana), year)[-1].bias
    offset = -bias
    sign = "+" if offset >= 0 else "-"
    return f"(UTC{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}) {windows_name(iana)}"


def parse_definition(data: bytes) -> tuple[str, list[Rule]]:
    """Key name and rules of a TZDEFINITION (for reading an item back)."""
    major, _minor, _cb, _reserved, count = TZDEF_HEAD.unpack_from(data, 0)
    if major != 2:
        raise ValueError(f"TZDEFINITION major version {major}")
    pos = TZDEF_HEAD.size
    key = data[pos : pos + 2 * count].decode("utf-16-le")
    pos += 2 * count
    (nrules,) = struct.unpack_from("<H", data, pos)
    pos += 2
    found: list[Rule] = []
    for _ in range(nrules):
        fields = TZRULE.unpack_from(data, pos)
        pos += TZRULE.size
        found.append(
            Rule(
                fields[4],
                fields[6],
                fields[7],
                fields[8],
                SYSTEMTIME.unpack(fields[9]),
                SYSTEMTIME.unpack(fields[10]),
            )
        )
    return key, found


# --- rules -> local times (export) ------------------------------------------------------------


def switch_time(date: SystemTime, year: int) -> dt.datetime | None:
    """The wall-clock time (the one in force just before it) of a rule's switch in ``year``:
    the nth weekday of the month (5: the last); None when the rule has no switch."""
    _year, month, weekday, nth, hour, minute, second, _ms = date
    if not 1 <= month <= 12:
        return None
    first = dt.date(year, month, 1)
    day = 1 + (weekday - (first.weekday() + 1) % 7) % 7 + 7 * (max(1, min(nth, 5)) - 1)
    while day > calendar.monthrange(year, month)[1]:
        day -= 7
    return dt.datetime(year, month, day, min(hour, 23), min(minute, 59), min(second, 59))


def offsets(rule: Rule) -> tuple[int, int]:
    """(standard, daylight) offsets from UTC of a rule, in minutes (local - UTC)."""
    return -(rule.bias + rule.standard_bias), -(rule.bias + rule.daylight_bias)


def usable(rule: Rule) -> bool:
    """Whether a rule read from a file can be applied: offsets within a day, a year datetime
    holds (a damaged file's rule is not; the zone's own rules are used instead)."""
    return rule.year <= 9998 and all(abs(minutes) < 24 * 60 for minutes in offsets(rule))


def has_daylight(rule: Rule) -> bool:
    return rule.standard_date[1] != 0 and rule.daylight_date[1] != 0 and len(set(offsets(rule))) == 2


class RuleZone(dt.tzinfo):
    """A time zone that applies Windows rules as Outlook does: each rule from its year on (the
    first one also before it), the daylight period between its two yearly switches.

    Local times exported with a VTIMEZONE written from the same rules read back as the same
    instants, whatever year they fall in (zoneinfo's own data may differ from a file's rules).
    """

    def __init__(self, rules: list[Rule]) -> None:
        self.rules = sorted(rules, key=lambda r: r.year)

    def rule(self, year: int) -> Rule:
        found = self.rules[0]
        for rule in self.rules:
            if rule.year <= year:
                found = rule
        return found

    def _offset_at_utc(self, utc: dt.datetime) -> int:
        rule = self.rule(utc.year)
        standard, daylight = offsets(rule)
        if not has_daylight(rule):
            return standard
        into = switch_time(rule.daylight_date, utc.year)
        out = switch_time(rule.standard_date, utc.year)
        assert into is not None and out is not None
        into_utc = into - dt.timedelta(minutes=standard)
        out_utc = out - dt.timedelta(minutes=daylight)
        if into_utc < out_utc:  # northern: summer inside the year
            return daylight if into_utc <= utc < out_utc else standard
        return daylight if utc >= into_utc or utc < out_utc else standard

    def fromutc(self, when: dt.datetime) -> dt.datetime:
        utc = when.replace(tzinfo=None)
        return (utc + dt.timedelta(minutes=self._offset_at_utc(utc))).replace(tzinfo=self)

    def utcoffset(self, when: dt.datetime | None) -> dt.timedelta:
        if when is None:
            return dt.timedelta(minutes=offsets(self.rules[-1])[0])
        local = when.replace(tzinfo=None, fold=0)
        standard, daylight = offsets(self.rule(local.year))
        # The offset that maps this wall-clock time back onto itself. In the hour the clocks go
        # back both do: the earlier (daylight) one unless fold=1 (PEP 495, as zoneinfo); in the
        # hour they skip neither does: the offset before the switch, standard time.
        fits = [m for m in (daylight, standard) if self._offset_at_utc(local - dt.timedelta(minutes=m)) == m]
        if not fits:
            return dt.timedelta(minutes=standard)
        return dt.timedelta(minutes=fits[-1] if when.fold and len(fits) > 1 else fits[0])

    def dst(self, when: dt.datetime | None) -> dt.timedelta:
        standard = offsets(self.rule(when.year if when else self.rules[-1].year))[0]
        return self.utcoffset(when) - dt.timedelta(minutes=standard)

    def tzname(self, when: dt.datetime | None) -> str | None:
        return None
