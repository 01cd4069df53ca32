"""IANA zones -> Outlook's rules, checked by applying the rules the way Windows does.

A TZ rule holds a bias, a daylight bias and two "nth weekday of a month at a time" switch
dates; Windows applies the daylight date in local standard time and the standard date in
local daylight time. Applying our rule for a year that way must give zoneinfo's UTC offset at
every moment of that year, in northern and southern zones, zones without daylight saving
time, half- and three-quarter-hour zones, and tzdata's negative daylight time (Dublin).
"""

from __future__ import annotations

import calendar
import datetime as dt
import zoneinfo

import pytest

from msgsess.items import timezones as tz


def switch(year: int, when: tz.SystemTime) -> dt.datetime:
    """The local wall time of a Windows switch date in ``year``."""
    _y, month, weekday, nth, hour, minute, _s, _ms = when
    days = calendar.monthrange(year, month)[1]
    # SYSTEMTIME counts weekdays from Sunday = 0; Python's from Monday = 0.
    first = next(d for d in range(1, 8) if (dt.date(year, month, d).weekday() + 1) % 7 == weekday)
    day = first + 7 * (nth - 1)
    while day > days:
        day -= 7
    return dt.datetime(year, month, day) + dt.timedelta(hours=hour, minutes=minute)


def windows_offset(rule: tz.Rule, moment: dt.datetime) -> int:
    """Minutes east of UTC at a UTC moment (naive), as Windows applies the rule."""
    standard = -(rule.bias + rule.standard_bias)
    daylight = -(rule.bias + rule.daylight_bias)
    if rule.daylight_date[1] == 0:
        return standard
    begins = switch(moment.year, rule.daylight_date) - dt.timedelta(minutes=standard)
    ends = switch(moment.year, rule.standard_date) - dt.timedelta(minutes=daylight)
    inside = begins <= moment < ends if begins < ends else (moment >= begins or moment < ends)
    return daylight if inside else standard


ZONES = [
    "Europe/Berlin",
    "Europe/London",
    "Europe/Dublin",
    "America/New_York",
    "America/Santiago",
    "America/Nuuk",
    "America/Sao_Paulo",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Pacific/Auckland",
    "Pacific/Chatham",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "UTC",
]


@pytest.mark.parametrize("name", ZONES)
def test_the_rule_of_a_year_gives_zoneinfos_offsets(name: str) -> None:
    zone = zoneinfo.ZoneInfo(name)
    rule = tz.rules(zone, 2024)[-1]
    moment = dt.datetime(2024, 1, 1, 0, 40)  # every hour of the year (switches fall on :00 or :30)
    while moment.year == 2024:
        offset = moment.replace(tzinfo=dt.UTC).astimezone(zone).utcoffset() or dt.timedelta(0)
        assert windows_offset(rule, moment) == offset.total_seconds() // 60, (name, moment)
        moment += dt.timedelta(hours=1)


def test_dublins_winter_time_is_written_as_windows_knows_it() -> None:
    # tzdata gives Ireland a negative daylight time in winter; Windows (GMT Standard Time, the
    # key CLDR gives Europe/Dublin) a bias of 0 with summer daylight time, as for London.
    assert tz.tz_definition("Europe/Dublin", 2024) == tz.tz_definition("Europe/London", 2024)
    assert tz.description("Europe/Dublin", 2024) == "(UTC+00:00) GMT Standard Time"


def test_a_southern_zone_starts_daylight_time_in_spring_there() -> None:
    rule = tz.rules(zoneinfo.ZoneInfo("Australia/Sydney"), 2024)[-1]
    assert (rule.bias, rule.daylight_bias) == (-600, -60)
    assert rule.daylight_date[1:6] == (10, 0, 1, 2, 0)  # first Sunday of October, 2:00
    assert rule.standard_date[1:6] == (4, 0, 1, 3, 0)  # first Sunday of April, 3:00
