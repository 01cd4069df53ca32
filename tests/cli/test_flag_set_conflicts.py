"""A flag of `add` and a --set of a property the flag writes: refused, naming both."""

from __future__ import annotations

from typing import Any

import pytest

from msgsess.composer import compose
from msgsess.props import registry
from msgsess.props import types as t
from msgsess.session.props import KEY_PROPERTIES
from tests.conftest import Run

APPOINTMENT = {"kind": "appointment", "start": "2024-05-01T10:00:00Z"}
CONTACT = {"kind": "contact", "name": "Ann Lee"}
#: key -> (a spec without it, the value that adds it)
CASES: dict[str, tuple[dict[str, Any], Any]] = {
    "subject": ({}, "S"),
    "body": ({}, "B"),
    "html": ({}, "<p>H</p>"),
    "rtf": ({}, "{\\rtf1 x}"),
    "class": ({}, "IPM.Note.Custom"),
    "from": ({}, "F <f@example.com>"),
    "sender": ({"from": "F <f@example.com>"}, "S <s@example.com>"),
    "reply_to": ({}, ["r@example.com"]),
    "date": ({"draft": False}, "2024-05-01T09:30:00Z"),
    "draft": ({}, False),
    "importance": ({}, "high"),
    "sensitivity": ({}, "private"),
    "categories": ({}, ["c"]),
    "headers": ({}, ["X-A: b"]),
    "message_id": ({}, "<m@example.com>"),
    "read_receipt": ({}, True),
    "delivery_receipt": ({}, True),
    "flag": ({}, "Follow up"),
    "due": ({"flag": "Follow up"}, "2024-05-03"),
    "end": (APPOINTMENT, "2024-05-01T11:00:00Z"),
    "location": (APPOINTMENT, "Room 1"),
    "busy": (APPOINTMENT, "oof"),
    "reminder": (APPOINTMENT, 10),
    "recurrence": (APPOINTMENT, "FREQ=DAILY;COUNT=3"),
    "company": (CONTACT, "ACME"),
    "job_title": (CONTACT, "CTO"),
    "birthday": (CONTACT, "1980-05-07"),
    "status": ({"kind": "task"}, "waiting"),
    "percent": ({"kind": "task"}, 50),
    "owner": ({"kind": "task"}, "Ann"),
    "color": ({"kind": "note"}, "blue"),
}


@pytest.mark.parametrize("key", sorted(KEY_PROPERTIES))
def test_each_key_writes_the_properties_it_is_said_to(key: str) -> None:
    base, value = CASES[key]
    now = t.FileTime(133_590_000_000_000_000)
    without = compose(base, now=now)
    with_key = compose({**base, key: value}, now=now)
    changed = []
    for name in KEY_PROPERTIES[key]:
        pid = registry.resolve(name).pid
        assert pid in with_key.props, (key, name)
        before = without.props.get(pid)
        changed.append(before is None or before.value != with_key.props[pid].value)
    assert any(changed), key  # (an address type may be SMTP either way)


def test_a_flag_and_a_set_of_its_property_are_one_usage_error(run: Run) -> None:
    assert run("open", "s").returncode == 0
    cases = [
        (["--category", "a", "--set", 'PidNameKeywords=["b"]'], "--category and --set PidNameKeywords=…"),
        (["--category", "a", "--set", 'PS_PUBLIC_STRINGS:Keywords=["b"]'], "--category and --set PS_PUBLIC"),
        (["--importance", "high", "--set", "PR_IMPORTANCE=2"], "--importance and --set PR_IMPORTANCE=…"),
        (["--subject", "x", "--set", "0x0037001F=y"], "--subject and --set 0x0037001F=…"),
        (["--sent", "--set", "PidTagMessageFlags=1"], "--sent and --set PidTagMessageFlags=…"),
        (["--from", "a@example.com", "--set", "PidTagSenderName=B"], "--from and --set PidTagSenderName"),
        (["--flag", "", "--due", "2024-05-03", "--set", "PidLidTaskDueDate=2024-05-04"], "--due and --set"),
        (
            ["--kind", "note", "--color", "blue", "--set", "PidLidNoteColor=1"],
            "--color and --set PidLidNoteColor",
        ),
        (
            ["--kind", "contact", "--job-title", "CTO", "--set", "PR_TITLE=x"],
            "--job-title and --set PR_TITLE=…",
        ),
    ]
    for args, words in cases:
        proc = run("add", "s", "a.msg", *args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stderr.count("\n") == 1 and words in proc.stderr and "give one of them" in proc.stderr
    assert run("show", "s", "--json").stdout == ""
    # Different properties, or a --set alone, are fine.
    ok = run(
        "add", "s", "a.msg", "--subject", "x", "--set", "PidTagImportance=2", "--set", "PidTagSubjectPrefix="
    )
    assert ok.returncode == 0, ok.stderr
