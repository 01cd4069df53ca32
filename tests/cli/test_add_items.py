"""``add --kind`` and each kind's flags (and the same keys in ``add --json``), through the CLI.

Every kind of tests/items/test_items.py's SPECS is added to a session with flags, written by
``close`` as a Unicode and an ANSI ``.msg`` and as an ``.oft``, and read back by extract-msg's
item classes with the same checks (``CHECKS``); the same spec given as JSON writes the same
bytes; xcheck's readers parse every file; recurrence comes back from extract-msg's reader as
the rule given. Flags of another kind are usage errors naming flag and kind.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import extract_msg
import pytest

from msgsess import cfb, items
from msgsess.oxmsg import decode
from tests.conftest import Invoke, Run, ok, one_error
from tests.items.test_items import CHECKS, JPEG, SPECS, xcheck_every_file
from tests.items.test_recurrence import expand, extract_msg_rule

#: spec key -> add's flag, where the two are not spelled alike.
FLAG = {"attendees": "--attendee", "resources": "--resource", "emails": "--email", "phones": "--phone"}
FLAG |= {"addresses": "--address", "members": "--member", "exdate": "--exdate", "optional": "--optional"}
EPOCH = {"SOURCE_DATE_EPOCH": "1704164645"}
ANN = ["--kind", "contact", "--name", "Ann Lee"]


def flags(spec: dict[str, Any], photo: Path | None = None) -> list[str]:
    """add's options for a spec of SPECS."""
    out: list[str] = []
    for key, value in spec.items():
        flag = FLAG.get(key, "--" + key.replace("_", "-"))
        if key == "photo":
            assert photo is not None
            photo.write_bytes(base64.b64decode(value["data"]))
            out += [flag, str(photo)]
        elif isinstance(value, list):
            for one in value:
                out += [flag, str(one)]
        else:
            out += [flag, str(value)]
    return out


def add_every_kind(invoke: Invoke, session: str, folder: str, ext: str = ".msg") -> dict[str, Path]:
    written = {}
    for kind, spec in SPECS.items():
        output = f"{folder}/{kind}{ext}"
        ok(invoke("add", session, output, "--id", kind, *flags(spec, Path(f"{kind}.jpg"))))
        written[kind] = Path(output)
    return written


@pytest.fixture
def by_flags(invoke: Invoke) -> dict[tuple[str, str], Path]:
    """Every kind through flags: Unicode, ANSI (code page 1252) and .oft."""
    files: dict[tuple[str, str], Path] = {}
    for form, opts, ext in (("unicode", [], ".msg"), ("ansi", ["--ansi"], ".msg"), ("template", [], ".oft")):
        ok(invoke("open", f"{form}.session", *opts))
        for kind, path in add_every_kind(invoke, f"{form}.session", form, ext).items():
            files[kind, form] = path
        ok(invoke("close", f"{form}.session", env=EPOCH))
    return files


def test_every_kind_from_flags_reads_back_as_that_kind(by_flags: dict[tuple[str, str], Path]) -> None:
    for (kind, form), path in by_flags.items():
        with extract_msg.openMsg(str(path)) as m:
            CHECKS[kind](m)
        msg = decode(cfb.read_file(path))
        assert items.kind_of(msg) == kind
        assert msg.source_unicode == (form != "ansi"), (kind, form)


def test_json_with_the_same_keys_writes_the_same_bytes(
    invoke: Invoke, by_flags: dict[tuple[str, str], Path]
) -> None:
    ok(invoke("open", "json.session"))
    lines = [json.dumps({"id": kind, "output": f"json/{kind}.msg", **spec}) for kind, spec in SPECS.items()]
    ok(invoke("add", "json.session", "--json", "-", input="\n".join(lines)))
    ok(invoke("close", "json.session", env=EPOCH))
    for kind in SPECS:
        assert Path(f"json/{kind}.msg").read_bytes() == by_flags[kind, "unicode"].read_bytes(), kind


def test_recurrence_read_by_extract_msg_is_the_rule_given(invoke: Invoke) -> None:
    rules = [
        "FREQ=DAILY;INTERVAL=3;COUNT=5",
        "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;COUNT=12",
        "FREQ=DAILY;UNTIL=20240430",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE;COUNT=8",
    ]
    ok(invoke("open", "r.session"))
    start = ["--start", "2024-04-01T09:30:00+02:00", "--timezone", "Europe/Paris"]
    for n, rule in enumerate(rules):
        ok(invoke("add", "r.session", f"r{n}.msg", "--kind", "appointment", *start, "--recurrence", rule))
    ok(invoke("close", "r.session"))
    first = dt.datetime(2024, 4, 1, 9, 30)
    for n, rule in enumerate(rules):
        with extract_msg.openMsg(f"r{n}.msg") as m:
            assert m.recurring
            blob = m.getNamedProp("8216", extract_msg.constants.ps.PSETID_APPOINTMENT)
        # extract-msg's RecurrencePattern reader gives the fields; expanded, they are the rule's days.
        assert expand(extract_msg_rule(blob), first) == expand(rule, first), rule


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--kind", "contact", "--start", "2024-01-01"], ["--start", "contact"]),
        (["--start", "2024-01-01T10:00:00Z"], ["--start", "mail", "--kind appointment"]),
        (["--kind", "note", "--email", "a@example.com"], ["--email", "note"]),
        (["--kind", "appointment", "--due", "2024-01-01"], ["--due", "appointment"]),
        (["--kind", "task", "--location", "here"], ["--location", "task"]),
        (["--kind", "appointment", "--start", "2024-01-01T10:00:00Z", "--reminder", "soon"], ["MINUTES"]),
        (["--kind", "task", "--reminder", "15"], ["--reminder", "ISO 8601", "task"]),
    ],
)
def test_a_field_of_another_kind_is_a_usage_error(invoke: Invoke, args: list[str], words: list[str]) -> None:
    ok(invoke("open", "s.session"))
    result = invoke("add", "s.session", "x.msg", *args)
    one_error(result, 2, *words)
    assert ok(invoke("show", "s.session", "--json")) == ""


def test_bad_field_values_are_one_line_errors_naming_them(invoke: Invoke) -> None:
    ok(invoke("open", "s.session"))
    appointment = ["--kind", "appointment", "--start", "2024-01-01T10:00:00Z"]
    emails = [arg for n in range(4) for arg in ("--email", f"{n}@x.example")]
    cases = [
        (["--kind", "appointment", "--start", "tomorrow"], 3, "start"),
        ([*appointment, "--recurrence", "FREQ=DAILY;BYSECOND=5"], 3, "BYSECOND"),
        ([*appointment, "--timezone", "Mars/Olympus"], 3, "Mars/Olympus"),
        (["--kind", "contact", *emails], 2, "--email"),
        (["--kind", "contact", "--photo", "missing.jpg"], 4, "missing.jpg"),
    ]
    for args, code, word in cases:
        one_error(invoke("add", "s.session", "x.msg", *args), code, word)
    assert ok(invoke("show", "s.session", "--json")) == ""


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            ["--kind", "appointment", "--start", "2024-05-01", "--all-day", "2024-05-01"],
            ["x.msg: --all-day: give either --all-day or --start/--end (--all-day takes DATE"],
        ),
        (
            ["--kind", "appointment", "--start", "2024-05-01T10:00"],
            ["x.msg: --start: ", "or give --timezone)"],
        ),
        (
            ["--kind", "appointment", "--start", "2024-05-01T10:00+05:30"],
            ["--start: ", "give --timezone, an"],
        ),
        (
            ["--kind", "appointment", "--start", "2024-05-01T10:00Z", "--timezone", "Mars/X"],
            ["x.msg: --timezone: "],
        ),
        (
            ["--kind", "appointment", "--start", "2024-05-01T10:00Z", "--exdate", "2024-05-02"],
            ["(give --recurrence"],
        ),
        (
            [
                "--kind",
                "appointment",
                "--start",
                "2024-05-01T10:00Z",
                "--recurrence",
                "FREQ=DAILY;BYSECOND=5",
            ],
            ["x.msg: --recurrence: BYSECOND=5: "],
        ),
        (
            ["--kind", "meeting", "--start", "2024-05-01T10:00Z", "--attendee", "nobody"],
            ["x.msg: --attendee: "],
        ),
        (["--kind", "contact", "--name", "Bo", "--phone", "pager2=1"], ["x.msg: --phone: 'pager2'"]),
        (["--kind", "contact", "--name", "Bo", "--birthday", "2024-13-01"], ["x.msg: --birthday: "]),
        (["--kind", "task", "--subject", "t", "--due", "2024-99-01"], ["x.msg: --due: "]),
        (["--kind", "distlist", "--subject", "Team"], ["x.msg: --name: ", "(give --name NAME)"]),
        (["--to", "bad<"], ["x.msg: --to: 'bad<'"]),
        (["--kind", "appointment", "--start", "x"], ["command line: --start: "]),
    ],
)
def test_errors_name_the_flag_the_user_typed(invoke: Invoke, args: list[str], words: list[str]) -> None:
    """A value from a flag is named by the flag (``--all-day``), hints too; never the spec key."""
    ok(invoke("open", "s.session"))
    line = one_error(invoke("add", "s.session", "x.msg", *args), 3, *words)
    for key in ("all_day", "start/end", " timezone", " recurrence RRULE", "attendees", "phones", "emails"):
        assert key not in line, line
    assert ok(invoke("show", "s.session", "--json")) == ""


def test_errors_from_json_keep_the_key(invoke: Invoke) -> None:
    ok(invoke("open", "s.session"))
    spec = {"output": "x.msg", "kind": "appointment", "start": "2024-05-01", "all_day": "2024-05-01"}
    line = one_error(invoke("add", "s.session", "--json", "-", input=json.dumps(spec)), 3)
    assert "x.msg: all_day: give either all_day or start/end (all_day takes DATE" in line
    spec = {"output": "x.msg", "kind": "contact", "emails": [f"{n}@x.example" for n in range(4)]}
    one_error(
        invoke("add", "s.session", "--json", "-", input=json.dumps(spec)), 3, "x.msg: emails: 4 addresses"
    )
    # After a flag-built add fails, the next JSON add is not named by flags (the names do not linger).
    ok(invoke("open", "t.session"))
    one_error(invoke("add", "t.session", "y.msg", "--kind", "appointment", "--start", "2024-05-01T10:00"), 3)
    from msgsess.api import Session
    from msgsess.errors import InvalidParameter

    with pytest.raises(InvalidParameter) as caught:
        Session("t.session").add(output="y.msg", kind="appointment", start="2024-05-01T10:00")
    assert caught.value.where[-1] == "start" and caught.value.hint is not None
    assert caught.value.hint.endswith("or give timezone")


def test_a_fourth_email_is_a_usage_error_naming_the_flag(invoke: Invoke) -> None:
    ok(invoke("open", "s.session"))
    emails = [arg for n in range(4) for arg in ("--email", f"{n}@x.example")]
    one_error(
        invoke("add", "s.session", "x.msg", "--kind", "contact", "--name", "Bo", *emails), 2, "--email", "3"
    )
    three = emails[:6]
    ok(invoke("add", "s.session", "x.msg", "--kind", "contact", "--name", "Bo", *three, "-q"))


def test_class_still_overrides(invoke: Invoke) -> None:
    ok(invoke("open", "s.session"))
    ok(invoke("add", "s.session", "c.msg", *ANN, "--class", "IPM.Contact.Custom"))
    ok(invoke("close", "s.session"))
    msg = decode(cfb.read_file(Path("c.msg")))
    assert msg.props.value(0x001A) == "IPM.Contact.Custom"
    assert items.read(msg)["name"] == {"given": "Ann", "surname": "Lee"}


def test_a_task_s_due_date_needs_no_flag(invoke: Invoke) -> None:
    ok(invoke("open", "s.session"))
    one_error(invoke("add", "s.session", "m.msg", "--due", "2024-05-03"), 2, "--flag")
    ok(invoke("add", "s.session", "t.msg", "--kind", "task", "--subject", "T", "--due", "2024-05-03"))
    ok(invoke("close", "s.session"))
    with extract_msg.openMsg("t.msg") as m:
        assert m.taskDueDate.date().isoformat() == "2024-05-03"


def test_show_json_gives_the_photo_back_and_add_takes_it(invoke: Invoke) -> None:
    Path("me.jpg").write_bytes(JPEG)
    ok(invoke("open", "s.session"))
    ok(invoke("add", "s.session", "c.msg", "--kind", "contact", "--name", "Ann Lee", "--photo", "me.jpg"))
    shown = json.loads(ok(invoke("show", "s.session", "--json")))
    assert base64.b64decode(shown["photo"]["data"]) == JPEG
    ok(invoke("open", "t.session"))
    shown["output"] = "d.msg"
    del shown["id"]
    ok(invoke("add", "t.session", "--json", "-", input=json.dumps(shown)))
    ok(invoke("close", "s.session"))
    ok(invoke("close", "t.session"))
    for name in ("c.msg", "d.msg"):
        with extract_msg.openMsg(name) as m:
            assert m.hasPicture
            assert [a.data for a in m.attachments] == [JPEG]


def test_a_photo_is_a_blob_of_the_session_while_a_contact_needs_it(invoke: Invoke) -> None:
    import sqlite3

    def blobs() -> list[str]:
        with sqlite3.connect("s.session") as conn:
            return [row[0] for row in conn.execute("SELECT sha256 FROM blobs")]

    Path("me.jpg").write_bytes(JPEG)
    ok(invoke("open", "s.session"))
    ok(invoke("add", "s.session", "c.msg", "--id", "c", *ANN, "--photo", "me.jpg"))
    Path("me.jpg").write_bytes(b"changed later")  # read when added: the session keeps its copy
    assert len(blobs()) == 1
    ok(invoke("rm", "s.session", "c"))
    assert blobs() == []


def test_every_kind_through_a_real_process(run: Run, workdir: Path) -> None:
    assert run("open", "p.session").returncode == 0
    for kind, spec in SPECS.items():
        done = run("add", "p.session", f"{kind}.msg", "--id", kind, *flags(spec, workdir / f"{kind}.jpg"))
        assert done.returncode == 0 and done.stdout == f"{kind}\n", done.stderr
    done = run("add", "p.session", "x.msg", "--kind", "note", "--owner", "me")
    assert done.returncode == 2 and "--owner" in done.stderr and "note" in done.stderr
    assert run("close", "p.session").returncode == 0
    for kind in SPECS:
        with extract_msg.openMsg(str(workdir / f"{kind}.msg")) as m:
            CHECKS[kind](m)


@pytest.mark.skipif(
    not os.environ.get("MSGSESS_XCHECK"), reason="set MSGSESS_XCHECK to run the seven readers"
)
def test_xcheck_parses_every_kind_the_cli_writes(by_flags: dict[tuple[str, str], Path]) -> None:
    xcheck_every_file([str(p) for p in by_flags.values()])


def test_show_and_dump_give_an_item_s_fields_in_words(invoke: Invoke) -> None:
    ok(invoke("open", "s.session"))
    ok(invoke("add", "s.session", "a.msg", *flags(SPECS["appointment"])))
    shown = ok(invoke("show", "s.session"))
    assert "    item\n      kind: appointment\n" in shown
    assert "      when: Tue 05 Mar 2024 09:30 to 09:45 (Europe/Berlin)\n" in shown
    assert "      recurs: every Tuesday, Thursday effective 3/5/2024" in shown
    assert "uid:" not in shown  # made when the message is written
    ok(invoke("close", "s.session"))
    dumped = ok(invoke("dump", "a.msg"))
    assert dumped.startswith("a.msg (Unicode)\n  item: appointment\n    when: Tue 05 Mar 2024 09:30 to 09:45")
    assert "(FREQ=WEEKLY;BYDAY=TU,TH;COUNT=10)" in dumped
    item = json.loads(ok(invoke("dump", "a.msg", "--json")))["item"]
    assert item["recurrence"] == "FREQ=WEEKLY;BYDAY=TU,TH;COUNT=10"
    assert item["start"] == "2024-03-05T09:30:00+01:00" and item["location"] == "Room 1"
    ok(invoke("open", "m.session"))
    ok(invoke("add", "m.session", "m.msg", "--subject", "mail"))
    assert "item" not in ok(invoke("show", "m.session"))
    ok(invoke("close", "m.session"))
    assert "item" not in json.loads(ok(invoke("dump", "m.msg", "--json")))
    assert "item:" not in ok(invoke("dump", "m.msg"))


def test_editing_an_item_file_keeps_what_derives_from_it(invoke: Invoke) -> None:
    ok(invoke("open", "s.session"))
    ok(invoke("add", "s.session", "a.msg", "--kind", "appointment", "--subject", "Call", "--reminder", "15",
              "--start", "2024-06-03T10:00:00+02:00", "--end", "2024-06-03T11:00:00+02:00",
              "--timezone", "Europe/Paris"))  # fmt: skip
    ok(invoke("add", "s.session", "c.msg", *ANN, "--email", "ann@old.example"))
    ok(invoke("close", "s.session"))
    ok(invoke("open", "e.session"))
    ok(invoke("edit", "e.session", "a.msg", "--out", "moved.msg", "--id", "a"))
    ok(invoke("set", "e.session", "a", "PidLidAppointmentStartWhole", "2024-06-04T08:00:00Z"))
    ok(invoke("set", "e.session", "a", "PidLidAppointmentEndWhole", "2024-06-04T09:00:00Z"))
    ok(invoke("edit", "e.session", "c.msg", "--out", "ann.msg", "--id", "c"))
    ok(invoke("set", "e.session", "c", "PidLidEmail1EmailAddress", "ann@new.example"))
    # The same through JSON: the item's own key, merged over the fields the file has.
    spec = {"source": {"file": "a.msg"}, "output": "json.msg", "start": "2024-06-05T09:00:00+02:00"}
    ok(invoke("add", "e.session", "--json", "-", input=json.dumps(spec)))
    ok(invoke("close", "e.session"))
    with extract_msg.openMsg("moved.msg") as m:
        start = dt.datetime(2024, 6, 4, 8, tzinfo=dt.UTC)
        assert m.appointmentStartWhole == start
        assert m.commonStart == start and m.commonEnd == start + dt.timedelta(hours=1)
        assert m.clipStart == start and m.clipEnd == start + dt.timedelta(hours=1)  # a single item's
        assert m.getNamedProp("8560", extract_msg.constants.ps.PSETID_COMMON) == start - dt.timedelta(
            minutes=15
        )
        assert m.appointmentDuration == 60
    with extract_msg.openMsg("json.msg") as m:
        start = dt.datetime(2024, 6, 5, 7, tzinfo=dt.UTC)
        assert m.appointmentStartWhole == start
        assert m.appointmentEndWhole == start + dt.timedelta(hours=1)  # a moved start moves the end
        assert m.subject == "Call"
    # A series whose start is set off its pattern starts on its next occurrence, as in Outlook.
    ok(invoke("open", "r.session"))
    ok(invoke("add", "r.session", "series.msg", *flags(SPECS["appointment"])))
    ok(invoke("close", "r.session"))
    ok(invoke("open", "r.session"))
    ok(invoke("edit", "r.session", "series.msg", "--out", "series2.msg"))
    ok(invoke("set", "r.session", "m1", "PidLidAppointmentStartWhole", "2024-03-06T08:30:00Z"))  # a Wednesday
    ok(invoke("set", "r.session", "m1", "PidLidAppointmentEndWhole", "2024-03-06T08:45:00Z"))
    ok(invoke("close", "r.session"))
    with extract_msg.openMsg("series2.msg") as m:
        thursday = dt.datetime(2024, 3, 7, 8, 30, tzinfo=dt.UTC)
        assert m.appointmentStartWhole == m.commonStart == thursday
        assert m.clipStart == dt.datetime(2024, 3, 6, 23, tzinfo=dt.UTC)  # its local midnight
        assert m.recurrencePattern.startswith("every Tuesday, Thursday effective 3/7/2024")
    with extract_msg.openMsg("ann.msg") as m:
        assert m.email1EmailAddress == "ann@new.example"
        assert m.email1DisplayName == "Ann Lee (ann@new.example)"
        assert m.email1OriginalEntryId.emailAddress == "ann@new.example"
