"""Tasks ([MS-OXOTASK]) and sticky notes ([MS-OXONOTE]), as Outlook writes them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from msgsess.errors import located
from msgsess.items import recurrence as rr
from msgsess.items.fields import Fields, drop, filetime, get, moment_of, put
from msgsess.model import Message
from msgsess.props import ids
from msgsess.props import types as t

TASK_KEYS = frozenset({"start", "due", "status", "percent", "priority", "owner", "recurrence", "reminder"})
NOTE_KEYS = frozenset({"color"})
TASK_CLASS = "IPM.Task"
NOTE_CLASS = "IPM.StickyNote"
#: PidLidTaskStatus ([MS-OXOTASK] 2.2.2.2.2).
STATUS = {"not-started": 0, "in-progress": 1, "complete": 2, "waiting": 3, "deferred": 4}
STATUS_NAMES = {v: k for k, v in STATUS.items()}
PRIORITY = {"low": 0, "normal": 1, "high": 2}
PRIORITY_NAMES = {v: k for k, v in PRIORITY.items()}
#: PidLidTaskState tdsNOM: a task that is not assigned ([MS-OXOTASK] 2.2.2.2.15); ownership olNewTask.
TASK_STATE_NOT_ASSIGNED, TASK_OWNERSHIP_NEW = 1, 0
ICON_TASK, ICON_TASK_RECURRING = 0x500, 0x501
#: PidLidNoteColor ([MS-OXONOTE] 2.2.1.1) and the matching icons 0x300-0x304.
COLORS = {"blue": 0, "green": 1, "pink": 2, "yellow": 3, "white": 4}
COLOR_NAMES = {v: k for k, v in COLORS.items()}
ICON_NOTE = 0x300
#: The size Outlook gives a new note, in pixels.
NOTE_WIDTH, NOTE_HEIGHT = 200, 166


@dataclass
class Task:
    start: dt.date | None
    due: dt.date | None
    status: int
    percent: int
    priority: int | None
    owner: str | None
    recurrence: rr.Recurrence | None
    reminder: dt.datetime | None


def parse_task(f: Fields) -> Task:
    start, due = f.date("start"), f.date("due")
    if start and due and due < start:
        raise f.fail("due", f"{due.isoformat()} is before the start {start.isoformat()}")
    if start and not due:
        # A task with a start date MUST have a due date ([MS-OXOTASK] 2.2.2.2.4); Outlook
        # gives it the start's.
        due = start
    status = f.choice("status", STATUS)
    percent = f.integer("percent", 0, 100)
    if status is None:
        status = (
            STATUS["complete"]
            if percent == 100
            else (STATUS["in-progress"] if percent else STATUS["not-started"])
        )
    if percent is None:
        percent = 100 if status == STATUS["complete"] else 0
    if (status == STATUS["complete"]) != (percent == 100):
        raise f.fail(
            "percent", f"{percent} does not fit status {STATUS_NAMES[status]}", hint="a complete task is 100"
        )
    rule = f.text("recurrence")
    recurrence = None
    if rule is not None:
        anchor = start or due
        if anchor is None:
            raise f.fail("recurrence", "a recurring task needs a start or due date")
        with located(f.label):
            recurrence = rr.parse_rrule(rule, dt.datetime.combine(anchor, dt.time()))
            first, _last, _n = rr.first_and_last(recurrence, dt.datetime.combine(anchor, dt.time()))
        # The task is its series' first occurrence, as an appointment is (its dates move there).
        shift = first.date() - anchor
        start = start + shift if start else None
        due = due + shift if due else None
    return Task(
        start,
        due,
        status,
        percent,
        f.choice("priority", PRIORITY),
        f.text("owner"),
        recurrence,
        f.moment("reminder", dt.UTC),
    )


def task_mail_keys(task: Task) -> dict[str, Any]:
    out: dict[str, Any] = {"class": TASK_CLASS}
    if task.priority is not None:
        out["importance"] = PRIORITY_NAMES[task.priority]
    return out


def _midnight(day: dt.date) -> t.FileTime:
    # Task dates are dates: Outlook keeps them as midnight, read back by their date ([MS-OXOTASK] 2.2.2.2.4).
    return filetime(dt.datetime.combine(day, dt.time(), dt.UTC))


def apply_task(task: Task, msg: Message, *, now: t.FileTime) -> None:
    p = msg.props
    put(p, "PidLidTaskStartDate", _midnight(task.start) if task.start else None)
    put(p, "PidLidTaskDueDate", _midnight(task.due) if task.due else None)
    put(p, "PidLidTaskStatus", task.status)
    put(p, "PidLidPercentComplete", task.percent / 100)
    put(p, "PidLidTaskComplete", task.status == STATUS["complete"])
    # The completion date is a date: midnight, in UTC as the task's dates are ([MS-OXOTASK] 2.2.2.2.9).
    # An edit of a task that was complete already keeps the day it was completed.
    done = moment_of(get(p, "PidLidTaskDateCompleted")) or moment_of(now)
    complete = task.status == STATUS["complete"]
    put(p, "PidLidTaskDateCompleted", _midnight(done.date()) if done and complete else None)
    put(p, "PidLidTaskState", TASK_STATE_NOT_ASSIGNED)
    put(p, "PidLidTaskOwnership", TASK_OWNERSHIP_NEW)
    put(p, "PidLidTaskAcceptanceState", 0)
    put(p, "PidLidTaskMode", 0)
    put(p, "PidLidTaskFCreator", True)
    put(p, "PidLidTaskVersion", 1)
    put(p, "PidLidTeamTask", False)
    put(p, "PidLidTaskOwner", task.owner)
    if task.recurrence is not None:
        anchor = task.start or task.due
        assert anchor is not None
        put(
            p,
            "PidLidTaskRecurrence",
            rr.pattern_blob(task.recurrence, dt.datetime.combine(anchor, dt.time())),
        )
    put(p, "PidLidReminderSet", task.reminder is not None)
    if task.reminder is not None:
        put(p, "PidLidReminderTime", filetime(task.reminder))
    refresh_task(msg)


def refresh_task(msg: Message) -> None:
    """Common start/end, recurrence flags, reminder signal time and icon from the task's own dates."""
    p = msg.props
    start, due = moment_of(get(p, "PidLidTaskStartDate")), moment_of(get(p, "PidLidTaskDueDate"))
    put(p, "PidLidCommonStart", filetime(start) if start else None)
    put(p, "PidLidCommonEnd", filetime(due) if due else None)
    recurring = isinstance(get(p, "PidLidTaskRecurrence"), bytes)
    put(p, "PidLidTaskFRecurring", recurring)
    if get(p, "PidLidReminderSet", False) and get(p, "PidLidReminderTime") is not None:
        put(p, "PidLidReminderSignalTime", get(p, "PidLidReminderTime"))
    else:
        drop(p, "PidLidReminderTime", "PidLidReminderSignalTime")
    status = get(p, "PidLidTaskStatus", 0)
    put(p, "PidLidTaskComplete", status == STATUS["complete"])
    p.set(ids.ICON_INDEX, t.PT_LONG, ICON_TASK_RECURRING if recurring else ICON_TASK)


def read_task(msg: Message) -> dict[str, Any]:
    p = msg.props
    out: dict[str, Any] = {}
    for key, name in (("start", "PidLidTaskStartDate"), ("due", "PidLidTaskDueDate")):
        when = moment_of(get(p, name))
        if when is not None:
            out[key] = when.date().isoformat()
    status = get(p, "PidLidTaskStatus")
    if isinstance(status, int) and status in STATUS_NAMES:
        out["status"] = STATUS_NAMES[status]
    percent = get(p, "PidLidPercentComplete")
    if isinstance(percent, float):
        out["percent"] = round(percent * 100)
    importance = p.value(ids.IMPORTANCE)
    if isinstance(importance, int) and importance in PRIORITY_NAMES:
        out["priority"] = PRIORITY_NAMES[importance]
    if get(p, "PidLidTaskOwner"):
        out["owner"] = get(p, "PidLidTaskOwner")
    blob = get(p, "PidLidTaskRecurrence")
    if isinstance(blob, bytes):
        try:
            decoded = rr.parse_blob(blob)
        except ValueError:
            decoded = None
        if decoded is not None:
            out["recurrence"] = rr.to_rrule(decoded.recurrence)
    reminder = moment_of(get(p, "PidLidReminderTime")) if get(p, "PidLidReminderSet", False) else None
    if reminder is not None:
        out["reminder"] = reminder.isoformat()
    return out


# --- sticky notes ----------------------------------------------------------------------------------


def parse_note(f: Fields) -> int:
    color = f.choice("color", COLORS)
    return COLORS["yellow"] if color is None else color


def note_mail_keys(spec: dict[str, Any]) -> dict[str, Any]:
    """A note's subject is the first line of its text ([MS-OXONOTE] 2.2.1.4)."""
    out: dict[str, Any] = {"class": NOTE_CLASS}
    body = spec.get("body")
    if "subject" not in spec and isinstance(body, str) and body.strip():
        out["subject"] = body.strip().splitlines()[0][:255]
    return out


def apply_note(color: int, msg: Message) -> None:
    p = msg.props
    put(p, "PidLidNoteColor", color)
    put(p, "PidLidNoteWidth", get(p, "PidLidNoteWidth") or NOTE_WIDTH)
    put(p, "PidLidNoteHeight", get(p, "PidLidNoteHeight") or NOTE_HEIGHT)
    put(p, "PidLidNoteX", get(p, "PidLidNoteX") or 0)
    put(p, "PidLidNoteY", get(p, "PidLidNoteY") or 0)
    refresh_note(msg)


def refresh_note(msg: Message) -> None:
    color = get(msg.props, "PidLidNoteColor", COLORS["yellow"])
    color = color if isinstance(color, int) and color in COLOR_NAMES else COLORS["yellow"]
    msg.props.set(ids.ICON_INDEX, t.PT_LONG, ICON_NOTE + color)


def read_note(msg: Message) -> dict[str, Any]:
    color = get(msg.props, "PidLidNoteColor")
    return {"color": COLOR_NAMES[color]} if isinstance(color, int) and color in COLOR_NAMES else {}
