"""``add``'s options for Outlook items (``--kind`` and each kind's fields) and their imports.

Kept apart from ``cmd_add`` so that the mail options stay readable there: ``@item_options``
adds every option below; ``msgsess.api.spec_from_options`` turns them into spec keys
(:data:`msgsess.spec.ITEMS`) and refuses a field of another kind as a usage error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

KIND_CHOICE = click.Choice(["mail", "appointment", "meeting", "contact", "task", "note", "distlist"])

#: The options, in the order --help lists them (after the mail options).
_OPTIONS: tuple[Callable[[Any], Any], ...] = (
    click.option(
        "--kind",
        type=KIND_CHOICE,
        help="What to make (default mail); the options below say which kinds take them.",
    ),
    click.option(
        "--start",
        metavar="ISO8601",
        help="appointment, meeting: start with zone (2024-05-01T09:30:00+02:00); task: start DATE.",
    ),
    click.option("--end", metavar="ISO8601", help="appointment, meeting: end (default start + 30 min)."),
    click.option(
        "--all-day", metavar="DATE[/DATE]", help="appointment, meeting: all day on DATE (to DATE, included)."
    ),
    click.option(
        "--timezone", metavar="ZONE", help="appointment, meeting: IANA zone (Europe/Berlin) the times are in."
    ),
    click.option("--location", metavar="TEXT", help="appointment, meeting: where."),
    click.option(
        "--busy",
        type=click.Choice(["free", "tentative", "busy", "oof", "elsewhere"]),
        help="appointment, meeting: how the time shows (default busy).",
    ),
    click.option(
        "--reminder",
        metavar="MINUTES|ISO8601",
        help="appointment, meeting: minutes before the start; task: date and time.",
    ),
    click.option(
        "--recurrence",
        metavar="RRULE",
        help="appointment, meeting, task: RFC 5545 rule, e.g. FREQ=WEEKLY;BYDAY=TU,TH;COUNT=10.",
    ),
    click.option(
        "--exdate", multiple=True, metavar="DATE", help="appointment, meeting: an occurrence taken out."
    ),
    click.option("--organizer", metavar="ADDR", help="appointment, meeting: the organizer."),
    click.option(
        "--attendee", multiple=True, metavar="ADDR", help="appointment, meeting: required attendee."
    ),
    click.option(
        "--optional", multiple=True, metavar="ADDR", help="appointment, meeting: optional attendee."
    ),
    click.option(
        "--resource", multiple=True, metavar="ADDR", help="appointment, meeting: room or equipment."
    ),
    click.option("--uid", metavar="TEXT", help="appointment, meeting: iCalendar UID (global object id)."),
    click.option(
        "--sequence", type=click.IntRange(0), metavar="N", help="meeting: revision (iCalendar SEQUENCE)."
    ),
    click.option(
        "--name", metavar="TEXT", help="contact: full name ('Dr. Jane Q. Public'); distlist: the list's name."
    ),
    click.option("--email", multiple=True, metavar="ADDR", help="contact: e-mail address (up to 3)."),
    click.option(
        "--phone", multiple=True, metavar="KIND=NUMBER", help="contact: phone, e.g. mobile=+1 555 0100."
    ),
    click.option(
        "--address",
        multiple=True,
        metavar="KIND=ADDRESS",
        help="contact: work|home|other=street;city;state;postal code;country.",
    ),
    click.option("--company", metavar="TEXT", help="contact: company."),
    click.option("--job-title", metavar="TEXT", help="contact: job title."),
    click.option("--birthday", metavar="DATE", help="contact: birthday (YYYY-MM-DD)."),
    click.option("--web", metavar="URL", help="contact: web page."),
    click.option(
        "--photo",
        type=click.Path(),
        metavar="FILE",
        help="contact: picture (JPEG or PNG), read now.",
    ),
    click.option(
        "--status",
        type=click.Choice(["not-started", "in-progress", "complete", "waiting", "deferred"]),
        help="task: status.",
    ),
    click.option("--percent", type=click.IntRange(0, 100), metavar="0-100", help="task: percent complete."),
    click.option("--priority", type=click.Choice(["low", "normal", "high"]), help="task: priority."),
    click.option("--owner", metavar="NAME", help="task: owner."),
    click.option(
        "--color", type=click.Choice(["blue", "green", "pink", "yellow", "white"]), help="note: colour."
    ),
    click.option(
        "--member", multiple=True, metavar="ADDR", help="distlist: member ('Name <addr>' or 'addr')."
    ),
    click.option(
        "--ics",
        metavar="FILE|-",
        help="Import iCalendar: a message per VEVENT/VTODO (METHOD:REQUEST: meeting requests).",
    ),
    click.option("--vcard", metavar="FILE|-", help="Import vCard: a contact per card."),
)


def item_options(command: F) -> F:
    """Add the item options to ``add``."""
    for option in reversed(_OPTIONS):
        command = option(command)
    return command
