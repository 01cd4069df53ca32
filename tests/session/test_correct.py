"""Sessions that can be corrected (issue 8): add --replace, rm, output, and add-time warnings."""

from __future__ import annotations

import base64
import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import extract_msg
import pytest

from msgsess import session as use
from msgsess.errors import Collision, InvalidParameter, NotFound
from msgsess.session import correct
from msgsess.session.close import close


@pytest.fixture
def s(workdir: Path) -> str:
    use.open_session("s", ansi=False, codepage=None, force=False)
    return "s"


def rows(session: str) -> list[tuple[int, str, str | None]]:
    """(seq, id, output) of every message, straight from the session file."""
    with sqlite3.connect(session) as conn:
        return [tuple(r) for r in conn.execute("SELECT seq, id, output FROM messages ORDER BY seq")]


def table(session: str, name: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(session) as conn:
        return sorted(tuple(r) for r in conn.execute(f"SELECT * FROM {name}"))


def spec(**kw: Any) -> tuple[str, dict[str, Any]]:
    return ("", dict(kw))


# --- add --replace ---------------------------------------------------------------------------


def test_replace_by_output_keeps_the_id_and_place_and_takes_only_the_new_content(
    s: str, workdir: Path
) -> None:
    (workdir / "a.txt").write_bytes(b"old attachment")
    first = spec(output="out/a.msg", subject="Old", to=["x@example.com"], attachments=[{"file": "a.txt"}])
    assert use.add(s, [first, spec(output="out/b.msg", subject="B")]) == ["m1", "m2"]
    assert use.add(s, [spec(output="out/a.msg", subject="New", cc=["y@example.com"])], replace=True) == ["m1"]
    assert rows(s) == [(1, "m1", str(workdir / "out/a.msg")), (2, "m2", str(workdir / "out/b.msg"))]
    new = next(use.show(s, "m1"))
    assert new == {
        "id": "m1",
        "output": str(workdir / "out/a.msg"),
        "subject": "New",
        "cc": ["y@example.com"],
    }
    close(s)
    with extract_msg.openMsg(str(workdir / "out/a.msg")) as msg:
        assert msg.subject == "New"
        assert [r.email for r in msg.recipients] == ["y@example.com"]
        assert list(msg.attachments) == []


def test_replace_by_id_may_move_the_output(s: str, workdir: Path) -> None:
    use.add(s, [spec(id="r1", output="a.msg", subject="one")])
    assert use.add(s, [spec(id="r1", output="b.msg", subject="two")], replace=True) == ["r1"]
    assert rows(s) == [(1, "r1", str(workdir / "b.msg"))]
    assert table(s, "outputs") == [(str(workdir / "b.msg"), "r1")]
    # a.msg is free again
    assert use.add(s, [spec(output="a.msg")]) == ["m1"]


def test_replace_without_a_match_adds_and_twice_leaves_one_message(s: str, workdir: Path) -> None:
    for _ in range(3):
        assert use.add(s, [spec(output="a.msg", subject="same rule")], replace=True) == ["m1"]
        assert use.add(s, [spec(id="k", output="k.msg")], replace=True) == ["k"]
    assert [r[1] for r in rows(s)] == ["m1", "k"]


def test_replace_by_id_refuses_an_output_another_message_has(s: str) -> None:
    use.add(s, [spec(id="a", output="a.msg"), spec(id="b", output="b.msg")])
    with pytest.raises(Collision, match="already the output of message b") as err:
        use.add(s, [spec(id="a", output="b.msg")], replace=True)
    assert "--id b" in str(err.value.hint) and "msgsess rm s b" in str(err.value.hint)
    assert [r[2] for r in rows(s)] == [os.path.abspath("a.msg"), os.path.abspath("b.msg")]


def test_without_replace_a_clash_names_replace_and_rm(s: str) -> None:
    use.add(s, [spec(id="a", output="a.msg")])
    with pytest.raises(Collision) as by_output:
        use.add(s, [spec(output="a.msg")])
    assert "--replace" in str(by_output.value.hint) and "msgsess rm s a" in str(by_output.value.hint)
    with pytest.raises(Collision) as by_id:
        use.add(s, [spec(id="a", output="z.msg")])
    assert "--replace" in str(by_id.value.hint) and "msgsess rm s a" in str(by_id.value.hint)


def test_json_replace_per_line(s: str) -> None:
    use.add(s, [spec(id="a", output="a.msg", subject="1"), spec(id="b", output="b.msg", subject="1")])
    lines = [spec(id="a", output="a.msg", subject="2", replace=True), spec(id="c", output="c.msg")]
    assert use.add(s, lines) == ["a", "c"]
    with pytest.raises(Collision):  # the line without "replace" still clashes
        use.add(s, [spec(id="b", output="b.msg", subject="2")])
    shown = {m["id"]: m for m in use.show(s)}
    assert shown["a"]["subject"] == "2" and shown["b"]["subject"] == "1"
    assert "replace" not in shown["a"]  # a directive of add, not part of the message


def test_one_input_may_replace_a_message_twice(s: str) -> None:
    lines = [spec(output="a.msg", subject=str(i), replace=True) for i in range(3)]
    assert use.add(s, lines) == ["m1", "m1", "m1"]
    assert next(use.show(s))["subject"] == "2"


def test_replacing_forgets_what_the_old_message_embedded_and_keeps_its_embedders(s: str) -> None:
    use.add(s, [spec(id="child"), spec(id="mid", attachments=[{"message": "child"}])])
    use.add(s, [spec(id="top", output="top.msg", attachments=[{"message": "mid"}])])
    use.add(s, [spec(id="mid", subject="no attachments now")], replace=True)
    assert table(s, "embeds") == [("top", "mid")]
    # The new content may embed what once embedded it only if that makes no cycle.
    with pytest.raises(InvalidParameter, match="cycle"):
        use.add(s, [spec(id="mid", attachments=[{"message": "top"}])], replace=True)
    assert table(s, "embeds") == [("top", "mid")]


def test_a_refused_replace_leaves_the_message_as_it_was(s: str) -> None:
    use.add(s, [spec(id="a", output="a.msg", subject="kept")])
    with pytest.raises(NotFound):
        use.add(s, [spec(id="a", output="a.msg", attachments=[{"file": "missing.txt"}])], replace=True)
    assert next(use.show(s))["subject"] == "kept"


def test_replace_of_an_edited_message_by_its_file(s: str, workdir: Path) -> None:
    use.add(s, [spec(output="orig.msg", subject="Original")])
    close(s)
    use.open_session(s, ansi=False, codepage=None, force=False)
    from msgsess.session.usecases import edit_file

    assert edit_file(s, "orig.msg") == "m1"
    assert use.add(s, [spec(source={"file": "orig.msg"}, subject="Edited twice")], replace=True) == ["m1"]
    assert [r[1] for r in rows(s)] == ["m1"]
    close(s)
    with extract_msg.openMsg(str(workdir / "orig.msg")) as msg:
        assert msg.subject == "Edited twice"


# --- rm --------------------------------------------------------------------------------------


def test_rm_removes_messages_and_never_renumbers_or_reuses_ids(s: str, workdir: Path) -> None:
    use.add(s, [spec(output=f"{i}.msg") for i in range(4)])
    done = correct.remove(s, ["m2", "m3", "m2"])
    assert done.ids == ["m2", "m3"] and done.detached == []
    assert [r[1] for r in rows(s)] == ["m1", "m4"]
    assert use.add(s, [spec(output="new.msg")]) == ["m5"]
    assert use.add(s, [spec(output="2.msg")]) == ["m6"]  # its output is free again
    assert sorted(r[1] for r in table(s, "outputs")) == ["m1", "m4", "m5", "m6"]


def test_rm_is_all_or_nothing(s: str) -> None:
    use.add(s, [spec(output="a.msg")])
    with pytest.raises(NotFound, match="'nope'"):
        correct.remove(s, ["m1", "nope"])
    assert [r[1] for r in rows(s)] == ["m1"]


def test_rm_refuses_an_embedded_message_naming_the_embedder(s: str) -> None:
    use.add(s, [spec(id="child"), spec(id="parent", output="p.msg", attachments=[{"message": "child"}])])
    with pytest.raises(InvalidParameter, match="message child is embedded in message parent") as err:
        correct.remove(s, ["child"])
    assert "--force" in str(err.value.hint) and "msgsess rm s parent child" in str(err.value.hint)
    correct.remove(s, ["parent", "child"])  # both at once is fine
    assert rows(s) == []


def test_rm_force_removes_the_embedding_attachment_too(s: str, workdir: Path) -> None:
    (workdir / "f.txt").write_bytes(b"file")
    atts = [{"file": "f.txt"}, {"message": "child"}, {"data": "eA==", "name": "x"}, {"message": "child"}]
    use.add(s, [spec(id="child"), spec(id="keep"), spec(id="parent", output="p.msg", attachments=atts)])
    use.attach(s, "parent", [{"message": "keep"}])
    done = correct.remove(s, ["child"], force=True)
    assert done.detached == [("parent", 1, "child"), ("parent", 3, "child")]
    names = [a.get("name", a.get("message")) for a in next(use.show(s, "parent"))["attachments"]]
    assert names == ["f.txt", "x", "keep"]
    assert table(s, "embeds") == [("parent", "keep")]
    close(s)
    with extract_msg.openMsg(str(workdir / "p.msg")) as msg:
        assert len(msg.attachments) == 3


def test_rm_warns_about_messages_it_leaves_written_nowhere(s: str) -> None:
    use.add(s, [spec(id="child"), spec(id="parent", output="p.msg", attachments=[{"message": "child"}])])
    warnings: list[str] = []
    correct.remove(s, ["parent"], warn=warnings.append)
    assert len(warnings) == 1 and warnings[0].startswith("child has no output")
    assert "msgsess output s child PATH" in warnings[0]


# --- output ----------------------------------------------------------------------------------


def test_output_reads_changes_and_clears(s: str, workdir: Path) -> None:
    use.add(s, [spec(id="a", output="a.msg"), spec(id="b")])
    assert correct.output(s, "a") == str(workdir / "a.msg")
    assert correct.output(s, "b") is None
    assert correct.set_output(s, "b", "out/b.msg") == str(workdir / "out/b.msg")
    assert correct.set_output(s, "a", None) is None
    assert rows(s) == [(1, "a", None), (2, "b", str(workdir / "out/b.msg"))]
    assert table(s, "outputs") == [(str(workdir / "out/b.msg"), "b")]
    assert use.add(s, [spec(output="a.msg")]) == ["m1"]  # free again
    with pytest.raises(NotFound):
        correct.set_output(s, "nope", "x.msg")


def test_output_refuses_another_messages_output(s: str, workdir: Path) -> None:
    use.add(s, [spec(id="a", output="a.msg"), spec(id="b", output="b.msg")])
    (workdir / "lnk").symlink_to(workdir)
    with pytest.raises(Collision, match="already the output of message a") as err:
        correct.set_output(s, "b", "lnk/a.msg")
    assert "msgsess rm s a" in str(err.value.hint)
    correct.set_output(s, "a", "a.msg")  # its own output again: no collision
    assert rows(s)[1][2] == str(workdir / "b.msg")


def test_output_none_of_an_unembedded_message_warns(s: str) -> None:
    use.add(s, [spec(id="a", output="a.msg"), spec(id="e"), spec(id="p", attachments=[{"message": "e"}])])
    warnings: list[str] = []
    correct.set_output(s, "e", None, warn=warnings.append)  # embedded: fine
    correct.set_output(s, "a", None, warn=warnings.append)
    assert len(warnings) == 1 and warnings[0].startswith("a has no output")


def test_close_names_output_and_rm_for_a_message_written_nowhere(s: str) -> None:
    use.add(s, [spec(id="lost", subject="x")])
    with pytest.raises(InvalidParameter, match="message lost has no output") as err:
        close(s)
    assert "msgsess output s lost PATH" in str(err.value.hint)
    assert "msgsess rm s lost" in str(err.value.hint)


# --- warnings at add -------------------------------------------------------------------------


def warnings_of(s: str, *specs: tuple[str, dict[str, Any]], replace: bool = False) -> list[str]:
    found: list[str] = []
    use.add(s, list(specs), warn=found.append, replace=replace)
    return found


def test_add_warns_about_an_output_that_is_no_msg(s: str) -> None:
    for name in ("world", "out/h", "out/h.txt", "x.msg.bak"):
        (text,) = warnings_of(s, spec(output=name))
        assert f"output {name} does not end in .msg or .oft" in text
        assert "msgsess output s" in text
    assert warnings_of(s, spec(output="A.MSG"), spec(output="b.Oft")) == []


def test_add_warns_about_a_message_without_output_unless_the_input_embeds_it(s: str) -> None:
    (text,) = warnings_of(s, spec(id="alone"))
    assert text.startswith("alone has no output") and "msgsess output s alone PATH" in text
    assert warnings_of(s, spec(id="c"), spec(id="p", output="p.msg", attachments=[{"message": "c"}])) == []
    # Replacing an embedded message without an output is fine too.
    assert warnings_of(s, spec(id="c", subject="new"), replace=True) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write to any folder")
def test_add_warns_about_an_output_folder_that_is_not_writable(s: str, workdir: Path) -> None:
    (workdir / "ro").mkdir(mode=0o555)
    try:
        (text,) = warnings_of(s, spec(output="ro/new/deeper/a.msg"))
        assert f"folder {workdir / 'ro'} of output ro/new/deeper/a.msg is not writable now" in text
    finally:
        (workdir / "ro").chmod(0o755)


def test_add_warns_about_a_file_on_the_way_to_the_output(s: str, workdir: Path) -> None:
    (workdir / "plain").write_text("x")
    (text,) = warnings_of(s, spec(output="plain/a.msg"))
    assert "is not a folder" in text


def test_show_json_round_trips_after_replace_and_rm(s: str, workdir: Path) -> None:
    data = base64.b64encode(b"payload").decode()
    use.add(s, [spec(id="a", output="a.msg", attachments=[{"data": data, "name": "p.bin"}])])
    use.add(s, [spec(id="b", output="b.msg")])
    use.add(
        s,
        [spec(id="a", output="a.msg", subject="v2", attachments=[{"data": data, "name": "q"}])],
        replace=True,
    )
    correct.remove(s, ["b"])
    dump = [json.dumps(m) for m in use.show(s)]
    use.open_session("t", ansi=False, codepage=None, force=False)
    use.add("t", [("", json.loads(line)) for line in dump])
    assert [json.dumps(m) for m in use.show("t")] == dump


# --- attachment bytes no message needs are deleted -------------------------------------------


def blobs(session: str) -> set[bytes]:
    with sqlite3.connect(session) as conn:
        return {bytes(r[0]) for r in conn.execute("SELECT data FROM blobs")}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_blobs_go_with_the_last_message_that_needs_them(s: str) -> None:
    shared, own = {"data": b64(b"shared"), "name": "s"}, {"data": b64(b"own"), "name": "o"}
    use.add(s, [spec(id="a", output="a.msg", attachments=[shared, own]), spec(id="b", attachments=[shared])])
    assert blobs(s) == {b"shared", b"own"}
    use.add(s, [spec(id="a", output="a.msg", attachments=[{"data": b64(b"new"), "name": "n"}])], replace=True)
    assert blobs(s) == {b"shared", b"new"}  # "own" was a's alone; b still needs "shared"
    correct.remove(s, ["b"])
    assert blobs(s) == {b"new"}
    from msgsess.session.usecases import detach

    detach(s, "a", 0)
    assert blobs(s) == set()
    assert table(s, "blob_refs") == []
