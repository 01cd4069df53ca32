"""Outlook templates (.oft) from the command line (issue 5).

A template is a ``.msg`` file whose root storage has CLSID_TemplateMessage
{0006F046-0000-0000-C000-000000000046}; it stays an ``IPM.Note`` and opens in Outlook as a new,
unsent item (Choose Form → User Templates in File System), so it is always a draft and carries
no submit or delivery time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import extract_msg
import olefile
import pytest
from click.testing import Result

from tests.conftest import check_errors, prop

Invoke = Callable[..., Result]

TEMPLATE_CLSID = "0006F046-0000-0000-C000-000000000046"
MESSAGE_CLSID = "00020D0B-0000-0000-C000-000000000046"
MSGFLAG_READ = 0x1
MSGFLAG_UNSENT = 0x8


def root_clsid(path: Path) -> str:
    with olefile.OleFileIO(str(path)) as ole:
        return str(ole.root.clsid).upper()


def close_ok(invoke: Invoke, *, env: dict[str, str] | None = None) -> None:
    closed = invoke("close", "s", env=env)
    assert closed.exit_code == 0, closed.stderr


def add_ok(invoke: Invoke, *args: str, input: str | None = None) -> None:
    added = invoke("add", "s", *args, input=input)
    assert added.exit_code == 0, added.stderr


@pytest.fixture
def session(invoke: Invoke) -> None:
    assert invoke("open", "s").exit_code == 0


def assert_template(path: Path) -> None:
    assert root_clsid(path) == TEMPLATE_CLSID
    assert check_errors(path) == []
    with extract_msg.openMsg(str(path)) as m:
        assert m.getStringStream("__substg1.0_001A") == "IPM.Note"  # a template of a mail message
        flags = prop(m, "0E070003")
        assert flags & MSGFLAG_UNSENT and not flags & MSGFLAG_READ  # opens as a new, unsent item
        assert prop(m, "00390040") is None  # PR_CLIENT_SUBMIT_TIME
        assert prop(m, "0E060040") is None  # PR_MESSAGE_DELIVERY_TIME


@pytest.mark.usefixtures("session")
def test_oft_output_is_a_template(invoke: Invoke, workdir: Path) -> None:
    add_ok(invoke, "weekly.oft", "--subject", "Weekly status", "--body", "Done:\nNext:\nBlocked:")
    add_ok(invoke, "plain.msg", "--subject", "Not a template")
    close_ok(invoke)
    assert_template(workdir / "weekly.oft")
    assert root_clsid(workdir / "plain.msg") == MESSAGE_CLSID
    with extract_msg.openMsg(str(workdir / "weekly.oft")) as m:
        assert m.subject == "Weekly status"
        assert m.body == "Done:\nNext:\nBlocked:"


@pytest.mark.usefixtures("session")
def test_upper_case_extension_and_template_flag(invoke: Invoke, workdir: Path) -> None:
    add_ok(invoke, "UPPER.OFT", "--subject", "a")
    add_ok(invoke, "flagged.msg", "--template", "--subject", "b")
    close_ok(invoke)
    assert_template(workdir / "UPPER.OFT")
    assert_template(workdir / "flagged.msg")


@pytest.mark.usefixtures("session")
def test_template_false_in_json_wins_over_the_extension(invoke: Invoke, workdir: Path) -> None:
    add_ok(invoke, "--json", "-", input='{"output": "x.oft", "template": false, "subject": "msg"}')
    close_ok(invoke)
    assert root_clsid(workdir / "x.oft") == MESSAGE_CLSID


@pytest.mark.usefixtures("session")
def test_a_template_is_never_sent(invoke: Invoke, workdir: Path) -> None:
    result = invoke("add", "s", "t.oft", "--sent", "--subject", "x")
    assert result.exit_code == 3
    assert "a template is an unsent draft" in result.stderr
    result = invoke("add", "s", "t.msg", "--template", "--sent")
    assert result.exit_code == 3
    result = invoke("add", "s", "--json", "-", input='{"output": "t.oft", "draft": false}')
    assert result.exit_code == 3 and "a template is an unsent draft" in result.stderr
    assert invoke("show", "s", "--json").stdout == ""


@pytest.mark.usefixtures("session")
def test_date_of_a_template_is_its_creation_time_only(invoke: Invoke, workdir: Path) -> None:
    add_ok(invoke, "t.oft", "--date", "2024-05-01T09:30:00+02:00", "--subject", "dated")
    close_ok(invoke, env={"SOURCE_DATE_EPOCH": "1700000000"})
    assert_template(workdir / "t.oft")
    with extract_msg.openMsg(str(workdir / "t.oft")) as m:
        assert prop(m, "30070040") == dt.datetime(2024, 5, 1, 7, 30, tzinfo=dt.UTC)  # PR_CREATION_TIME


@pytest.mark.usefixtures("session")
def test_rich_template_with_inline_image_recipients_and_flag(invoke: Invoke, workdir: Path) -> None:
    (workdir / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(16))
    html = '<p>Hello team — Grüße <img src="cid:logo"></p>'
    add_ok(
        invoke, "rich.oft", "--subject", "Monthly", "--html", html,
        "--to", "Team <team@example.com>", "--cc", "boss@example.com",
        "--category", "Reports", "--flag", "Review", "--importance", "high",
    )  # fmt: skip
    assert invoke("attach", "s", "m1", "logo.png", "--content-id", "logo").exit_code == 0
    close_ok(invoke)
    path = workdir / "rich.oft"
    assert_template(path)
    with extract_msg.openMsg(str(path)) as m:
        assert m.htmlBody.decode("utf-8") == html
        assert [r.email for r in m.recipients] == ["team@example.com", "boss@example.com"]
        (att,) = m.attachments
        assert (att.cid, att.hidden) == ("logo", True)


@pytest.mark.usefixtures("session")
def test_embedded_message_in_a_template_is_an_ordinary_message(invoke: Invoke, workdir: Path) -> None:
    add_ok(invoke, "--id", "inner", "--subject", "Inner", "--sent", "--date", "2024-01-02T03:04:05Z")
    add_ok(invoke, "outer.oft", "--id", "outer", "--subject", "Outer")
    assert invoke("attach", "s", "outer", "--message", "inner").exit_code == 0
    close_ok(invoke)
    path = workdir / "outer.oft"
    assert_template(path)
    with extract_msg.openMsg(str(path)) as m:
        (att,) = m.attachments
        inner = att.data
        assert inner.subject == "Inner"
        assert prop(inner, "00390040") == dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


@pytest.mark.usefixtures("session")
def test_template_is_reproducible(invoke: Invoke, workdir: Path) -> None:
    add_ok(invoke, "r.oft", "--subject", "same", "--html", "<p>same</p>")
    env = {"SOURCE_DATE_EPOCH": "1714557600"}
    assert invoke("close", "s", "--keep", env=env).exit_code == 0
    first = (workdir / "r.oft").read_bytes()
    close_ok(invoke, env=env)
    assert (workdir / "r.oft").read_bytes() == first
