"""``add --ics`` / ``--vcard`` and ``export --ics`` / ``--vcard`` through the CLI.

The iCalendar and vCard files of tests/data/items (icalendar's and vobject's test suites, with
their sources and licences there) go into a session, are written by ``close``, read by
extract-msg as the kind they are, exported again and compared with the original through
icalendar / vobject (tests/items/test_ical_vcard.py's comparisons).
"""

from __future__ import annotations

from pathlib import Path

import extract_msg
import pytest

from tests.conftest import Invoke, Run, ok, one_error
from tests.items.test_ical_vcard import DATA, ICS, VCF, compare_ics, compare_vcf, components


@pytest.mark.parametrize("path", ICS, ids=[f"{p.parent.name}/{p.name}" for p in ICS])
def test_ics_files_through_the_cli(invoke: Invoke, path: Path) -> None:
    ok(invoke("open", "s.session"))
    ids = ok(invoke("add", "s.session", "out/item-{n}.msg", "--ics", str(path), "--id", "e{n}")).split()
    count = len(components(path.read_bytes()))
    assert ids == [f"e{n}" for n in range(1, count + 1)]
    ok(invoke("close", "s.session"))
    files = [f"out/item-{n}.msg" for n in range(1, count + 1)]
    for name, comp in zip(files, components(path.read_bytes()), strict=True):
        with extract_msg.openMsg(name) as m:
            wanted = {"VEVENT": ("AppointmentMeeting", "MeetingRequest"), "VTODO": ("Task",)}[comp.name]
            assert type(m).__name__ in wanted, name
            assert (m.subject or "") == str(comp.get("SUMMARY", ""))
    assert ok(invoke("export", "--ics", *files, "-o", "back.ics")) == "back.ics\n"
    compare_ics(path.read_bytes(), Path("back.ics").read_bytes())


@pytest.mark.parametrize("path", VCF, ids=[f"{p.parent.name}/{p.name}" for p in VCF])
def test_vcf_files_through_the_cli(invoke: Invoke, path: Path) -> None:
    ok(invoke("open", "s.session"))
    ids = ok(invoke("add", "s.session", "out/card-{n}.msg", "--vcard", str(path))).split()
    ok(invoke("close", "s.session"))
    files = [f"out/card-{n}.msg" for n in range(1, len(ids) + 1)]
    for name in files:
        with extract_msg.openMsg(name) as m:
            assert type(m).__name__ == "Contact"
    ok(invoke("export", "--vcard", *files, "-o", "back.vcf"))
    compare_vcf(path.read_text(encoding="utf-8"), Path("back.vcf").read_text(encoding="utf-8"))


def test_stdin_and_a_real_process_and_export_beside_each_file(run: Run, workdir: Path) -> None:
    source = (DATA / "vobject" / "vtodo.ics").read_text(encoding="utf-8")
    assert run("open", "p.session").returncode == 0
    done = run("add", "p.session", "todo.msg", "--ics", "-", input=source)
    assert done.returncode == 0 and done.stdout == "m1\n", done.stderr
    assert run("close", "p.session").returncode == 0
    done = run("export", "--ics", "todo.msg")
    assert done.returncode == 0 and done.stdout == "todo.ics\n", done.stderr
    compare_ics(source, (workdir / "todo.ics").read_text(encoding="utf-8"))
    card = (DATA / "vobject" / "vcard40_full.vcf").read_text(encoding="utf-8")
    assert run("open", "q.session").returncode == 0
    assert run("add", "q.session", "c.msg", "--vcard", "-", input=card).returncode == 0
    assert run("close", "q.session").returncode == 0
    done = run("export", "--vcard", "c.msg", "-o", "-")
    assert done.returncode == 0
    compare_vcf(card, done.stdout)
    (workdir / "junk.vcf").write_bytes(bytes(range(256)) * 4)
    assert run("open", "r.session").returncode == 0
    done = run("add", "r.session", "x.msg", "--vcard", "junk.vcf")
    assert done.returncode == 3, done.stderr
    # One line: vobject's own log of each line it skipped stays out of our stderr.
    assert done.stderr == "msgsess: error: junk.vcf: holds no card\n"


def test_wrong_inputs_are_one_line_errors(invoke: Invoke) -> None:
    ok(invoke("open", "s.session"))
    # Two calendars in one file: two components.
    Path("many.ics").write_bytes(
        b"".join((DATA / "vobject" / n).read_bytes() for n in ("vtodo.ics", "ms_tzid.ics"))
    )
    many = "many.ics"
    one_error(invoke("add", "s.session", "one.msg", "--ics", many), 3, "many.ics", "{n}")
    Path("empty.ics").write_text("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n")
    one_error(invoke("add", "s.session", "x.msg", "--ics", "empty.ics"), 3, "empty.ics", "VEVENT")
    one_error(invoke("add", "s.session", "x.msg", "--ics", "missing.ics"), 4, "missing.ics")
    one_error(invoke("add", "s.session", "x.msg", "--vcard", many, "--subject", "x"), 2, "--subject")
    one_error(invoke("add", "s.session", "x.msg", "--ics", many, "--json", "-"), 2, "--json")
    assert ok(invoke("show", "s.session", "--json")) == ""
    ok(invoke("add", "s.session", "mail.msg", "--subject", "Hi"))
    ok(invoke("close", "s.session"))
    one_error(invoke("export", "--ics", "mail.msg"), 3, "mail.msg", "mail")
    one_error(invoke("export", "--vcard", "mail.msg", "-o", "x.vcf"), 3, "mail.msg", "--ics")
    assert not Path("x.vcf").exists()
    Path("taken.ics").write_text("mine")
    ok(invoke("open", "t.session"))
    ok(invoke("add", "t.session", "a.msg", "--kind", "appointment", "--start", "2024-05-01T10:00:00Z"))
    ok(invoke("close", "t.session"))
    one_error(invoke("export", "--ics", "a.msg", "-o", "taken.ics"), 10, "taken.ics")
    assert Path("taken.ics").read_text() == "mine"
    one_error(invoke("export", "--ics", "--crlf", "a.msg"), 2, "--crlf")


def test_add_replace_imports_again_and_again(invoke: Invoke) -> None:
    ok(invoke("open", "s.session"))
    Path("two.ics").write_bytes(
        b"".join((DATA / "vobject" / n).read_bytes() for n in ("vtodo.ics", "ms_tzid.ics"))
    )
    first = ok(invoke("add", "s.session", "out/{n}.msg", "--ics", "two.ics"))
    again = ok(invoke("add", "--replace", "s.session", "out/{n}.msg", "--ics", "two.ics"))
    assert first == again == "m1\nm2\n"
    ok(invoke("close", "s.session"))
    with extract_msg.openMsg("out/1.msg") as m:
        assert type(m).__name__ == "Task"
    with extract_msg.openMsg("out/2.msg") as m:
        assert type(m).__name__ == "AppointmentMeeting"
