"""Headers and envelope from the command line (issue 5), read back with extract-msg and olefile.

Reply-to entries and names, read and delivery receipts, categories as Keywords, the follow-up
flag with its due date, --sender vs --from ("on behalf of"), --date for drafts and sent
messages, and ``show --json`` -> ``add --json`` keeping every one of them.
"""

from __future__ import annotations

import datetime as dt
import json
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import extract_msg
import olefile
import pytest
from click.testing import Result
from extract_msg.constants import ps
from extract_msg.structures.entry_id import EntryID, OneOffRecipient

from tests.conftest import check_errors, prop

Invoke = Callable[..., Result]

MSGFLAG_READ = 0x1
MSGFLAG_UNSENT = 0x8
UTC = dt.UTC


def build(invoke: Invoke, workdir: Path, *args: str, output: str = "e.msg") -> Path:
    assert invoke("open", "s").exit_code == 0
    added = invoke("add", "s", output, *args)
    assert added.exit_code == 0, added.stderr
    closed = invoke("close", "s")
    assert closed.exit_code == 0, closed.stderr
    path = workdir / output
    assert check_errors(path) == []
    return path


def stream(path: Path, name: str) -> bytes | None:
    with olefile.OleFileIO(str(path)) as ole:
        return ole.openstream(name).read() if ole.exists(name) else None


def text_stream(path: Path, tag: str) -> str | None:
    data = stream(path, f"__substg1.0_{tag}001F")
    return None if data is None else data.decode("utf-16-le")


def flat_entry_list(data: bytes) -> list[bytes]:
    """[MS-OXCDATA] 2.3.3 FlatEntryList: count, size, then (cb, entry id, pad to 4) per entry."""
    count, size = struct.unpack_from("<II", data)
    assert size == len(data) - 8
    entries, off = [], 8
    for _ in range(count):
        (length,) = struct.unpack_from("<I", data, off)
        entries.append(data[off + 4 : off + 4 + length])
        off += 4 + length
        off += -off % 4
    assert off == len(data)
    return entries


# --- reply-to --------------------------------------------------------------------------------


def test_reply_to_entries_and_names(invoke: Invoke, workdir: Path) -> None:
    path = build(
        invoke,
        workdir,
        "--from",
        "News <news@example.com>",
        "--reply-to",
        "Éditeur Ünï <editor@example.com>",
        "--reply-to",
        "desk@example.com",
    )
    assert text_stream(path, "0050") == "Éditeur Ünï; desk@example.com"  # PR_REPLY_RECIPIENT_NAMES
    flat = stream(path, "__substg1.0_004F0102")  # PR_REPLY_RECIPIENT_ENTRIES
    assert flat is not None
    parsed = [EntryID.autoCreate(e) for e in flat_entry_list(flat)]
    assert all(isinstance(e, OneOffRecipient) for e in parsed)
    got = [(e.displayName, e.addressType, e.emailAddress) for e in parsed]
    assert got == [
        ("Éditeur Ünï", "SMTP", "editor@example.com"),
        ("desk@example.com", "SMTP", "desk@example.com"),
    ]


def test_malformed_reply_to_is_refused(invoke: Invoke) -> None:
    assert invoke("open", "s").exit_code == 0
    result = invoke("add", "s", "a.msg", "--reply-to", "not an address")
    assert result.exit_code == 3
    assert "reply_to[0]" in result.stderr and "'not an address' is not an e-mail address" in result.stderr


# --- receipts, categories, flag --------------------------------------------------------------


def test_receipts_default_off(invoke: Invoke, workdir: Path) -> None:
    path = build(invoke, workdir, "--subject", "plain")
    with extract_msg.openMsg(str(path)) as m:
        assert prop(m, "0029000B") is False  # PR_READ_RECEIPT_REQUESTED
        assert prop(m, "0023000B") is False  # PR_ORIGINATOR_DELIVERY_REPORT_REQUESTED


@pytest.mark.parametrize(
    ("flags", "read", "delivery"),
    [
        (["--read-receipt"], True, False),
        (["--delivery-receipt"], False, True),
        (["--read-receipt", "--delivery-receipt"], True, True),
    ],
)
def test_receipts(invoke: Invoke, workdir: Path, flags: list[str], read: bool, delivery: bool) -> None:
    path = build(invoke, workdir, "--to", "bob@example.com", *flags)
    with extract_msg.openMsg(str(path)) as m:
        assert prop(m, "0029000B") is read
        assert prop(m, "0023000B") is delivery


def test_categories_are_keywords(invoke: Invoke, workdir: Path) -> None:
    path = build(invoke, workdir, "--category", "Red team", "--category", "Проект", "--category", "Q2")
    with extract_msg.openMsg(str(path)) as m:
        assert m.getNamedProp("Keywords", ps.PS_PUBLIC_STRINGS) == ["Red team", "Проект", "Q2"]


def test_follow_up_flag_with_due_date(invoke: Invoke, workdir: Path) -> None:
    path = build(invoke, workdir, "--flag", "Call back", "--due", "2024-05-03T17:00:00+02:00")
    due = dt.datetime(2024, 5, 3, 15, 0, tzinfo=UTC)
    with extract_msg.openMsg(str(path)) as m:
        assert prop(m, "10900003") == 2  # PR_FLAG_STATUS: followupFlagged
        assert prop(m, "10950003") == 6  # PR_FOLLOWUP_ICON: red flag
        assert prop(m, "0E2B0003") == 1  # PR_TODO_ITEM_FLAGS: a to-do item
        assert m.getNamedProp("8530", ps.PSETID_COMMON) == "Call back"  # PidLidFlagRequest
        assert m.getNamedProp("8105", ps.PSETID_TASK) == due  # PidLidTaskDueDate
        assert m.getNamedProp("8104", ps.PSETID_TASK) == due  # PidLidTaskStartDate


def test_flag_without_text_or_due(invoke: Invoke, workdir: Path) -> None:
    path = build(invoke, workdir, "--flag", "")
    with extract_msg.openMsg(str(path)) as m:
        assert m.getNamedProp("8530", ps.PSETID_COMMON) == "Follow up"
        assert m.getNamedProp("8105", ps.PSETID_TASK) is None


def test_due_needs_a_flag_and_a_date(invoke: Invoke) -> None:
    assert invoke("open", "s").exit_code == 0
    result = invoke("add", "s", "a.msg", "--due", "2024-05-03")
    assert result.exit_code == 2 and "--due needs --flag" in result.stderr
    result = invoke("add", "s", "--json", "-", input='{"output": "a.msg", "due": "2024-05-03"}')
    assert result.exit_code == 3 and "a due date needs a follow-up flag" in result.stderr
    result = invoke("add", "s", "a.msg", "--flag", "x", "--due", "next tuesday")
    assert result.exit_code == 3 and "due" in result.stderr


# --- from / sender ---------------------------------------------------------------------------

SENDER = ("0C1A", "0C1F", "5D01")  # PR_SENDER_NAME, _EMAIL_ADDRESS, _SMTP_ADDRESS
REPRESENTING = ("0042", "0065", "5D02")  # PR_SENT_REPRESENTING_NAME, _EMAIL_ADDRESS, _SMTP_ADDRESS


def person(path: Path, tags: tuple[str, str, str], entry: str) -> tuple[Any, ...]:
    raw = stream(path, f"__substg1.0_{entry}0102")
    one_off = EntryID.autoCreate(raw) if raw else None
    assert isinstance(one_off, OneOffRecipient)
    return (*(text_stream(path, t) for t in tags), one_off.displayName, one_off.emailAddress)


def test_from_alone_sets_both_sets_equal(invoke: Invoke, workdir: Path) -> None:
    path = build(invoke, workdir, "--from", "Ann Example <ann@example.com>")
    expected = ("Ann Example", "ann@example.com", "ann@example.com", "Ann Example", "ann@example.com")
    assert person(path, SENDER, "0C19") == expected  # PR_SENDER_ENTRYID
    assert person(path, REPRESENTING, "0041") == expected  # PR_SENT_REPRESENTING_ENTRYID
    with extract_msg.openMsg(str(path)) as m:
        assert m.sender == "Ann Example <ann@example.com>"


def test_sender_sends_on_behalf_of_from(invoke: Invoke, workdir: Path) -> None:
    path = build(
        invoke, workdir, "--from", "Boss <boss@example.com>", "--sender", "Assistant <pa@example.com>"
    )
    assert person(path, SENDER, "0C19") == (
        "Assistant",
        "pa@example.com",
        "pa@example.com",
        "Assistant",
        "pa@example.com",
    )
    assert person(path, REPRESENTING, "0041") == (
        "Boss",
        "boss@example.com",
        "boss@example.com",
        "Boss",
        "boss@example.com",
    )
    with extract_msg.openMsg(str(path)) as m:
        assert m.sender == "Assistant <pa@example.com>"  # the one who sent it…
        assert m.getStringStream("__substg1.0_0042") == "Boss"  # …on behalf of this one


# --- dates -----------------------------------------------------------------------------------


def test_date_of_a_draft_is_its_delivery_time_only(invoke: Invoke, workdir: Path) -> None:
    path = build(invoke, workdir, "--date", "2024-05-01T09:30:00+02:00")
    when = dt.datetime(2024, 5, 1, 7, 30, tzinfo=UTC)
    with extract_msg.openMsg(str(path)) as m:
        flags = prop(m, "0E070003")
        assert flags & MSGFLAG_UNSENT and not flags & MSGFLAG_READ
        assert prop(m, "00390040") is None  # PR_CLIENT_SUBMIT_TIME: a draft was never submitted
        assert prop(m, "0E060040") == when  # PR_MESSAGE_DELIVERY_TIME
        assert prop(m, "30070040") == when  # PR_CREATION_TIME


def test_date_of_a_sent_message_is_submit_and_delivery_time(invoke: Invoke, workdir: Path) -> None:
    path = build(invoke, workdir, "--sent", "--date", "2024-05-01T09:30:00-04:00")
    when = dt.datetime(2024, 5, 1, 13, 30, tzinfo=UTC)
    with extract_msg.openMsg(str(path)) as m:
        flags = prop(m, "0E070003")
        assert flags & MSGFLAG_READ and not flags & MSGFLAG_UNSENT
        assert prop(m, "00390040") == when
        assert prop(m, "0E060040") == when
        assert m.parsedDate is not None


def test_sent_without_date_uses_source_date_epoch(invoke: Invoke, workdir: Path) -> None:
    assert invoke("open", "s").exit_code == 0
    assert invoke("add", "s", "e.msg", "--sent").exit_code == 0
    assert invoke("close", "s", env={"SOURCE_DATE_EPOCH": "1700000000"}).exit_code == 0
    with extract_msg.openMsg(str(workdir / "e.msg")) as m:
        assert prop(m, "00390040") == dt.datetime.fromtimestamp(1700000000, UTC)


# --- show --json -> add --json ---------------------------------------------------------------


def test_show_json_round_trips_the_new_keys(invoke: Invoke, workdir: Path) -> None:
    (workdir / "note.rtf").write_bytes(b"{\\rtf1\\ansi caf\xe9 \\u1046?\\par}")
    assert invoke("open", "s").exit_code == 0
    args = [
        "--from", "Boss <boss@example.com>", "--sender", "PA <pa@example.com>",
        "--reply-to", "desk@example.com", "--read-receipt", "--delivery-receipt",
        "--flag", "Follow up", "--due", "2024-05-03T12:00:00Z", "--category", "Blue",
        "--rtf-file", "note.rtf", "--date", "2024-05-01T09:30:00+02:00",
    ]  # fmt: skip
    assert invoke("add", "s", "a.msg", *args).exit_code == 0
    assert invoke("add", "s", "b.oft", "--template", "--html", "<p>T</p>").exit_code == 0
    dump = invoke("show", "s", "--json").stdout
    first = json.loads(dump.splitlines()[0])
    assert first["sender"] == "PA <pa@example.com>" and first["from"] == "Boss <boss@example.com>"
    assert first["read_receipt"] is first["delivery_receipt"] is True
    assert (first["flag"], first["due"]) == ("Follow up", "2024-05-03T12:00:00Z")
    assert first["rtf"].encode("latin-1") == (workdir / "note.rtf").read_bytes()
    assert json.loads(dump.splitlines()[1])["template"] is True

    assert invoke("open", "t").exit_code == 0
    rebuilt = invoke("add", "t", "--json", "-", input=dump)
    assert rebuilt.exit_code == 0, rebuilt.stderr
    assert invoke("show", "t", "--json").stdout == dump
    env = {"SOURCE_DATE_EPOCH": "1714557600"}
    assert invoke("close", "s", "--keep", env=env).exit_code == 0
    first_bytes = (workdir / "a.msg").read_bytes(), (workdir / "b.oft").read_bytes()
    assert invoke("close", "t", env=env).exit_code == 0
    assert ((workdir / "a.msg").read_bytes(), (workdir / "b.oft").read_bytes()) == first_bytes
    for name in ("a.msg", "b.oft"):
        assert check_errors(workdir / name) == []
