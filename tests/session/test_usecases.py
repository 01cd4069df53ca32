"""Use cases: values are checked when given, specs keep the user's spelling, embedding is acyclic."""

from __future__ import annotations

import contextlib
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from msgsess import session as use
from msgsess.errors import Collision, InvalidParameter, NotFound, TooBig


@pytest.fixture
def s(workdir: Path) -> str:
    use.open_session("s", ansi=False, codepage=None, force=False)
    return "s"


def test_outputs_are_absolute_and_unique(s: str, workdir: Path) -> None:
    use.add(s, [("", {"output": "out/a.msg"})])
    assert next(use.show(s))["output"] == str(workdir / "out" / "a.msg")
    with pytest.raises(Collision, match="already the output of message m1"):
        use.add(s, [("", {"output": str(workdir / "out" / "a.msg")})])


def test_attachment_bytes_are_captured_when_added(s: str, workdir: Path) -> None:
    (workdir / "a.txt").write_bytes(b"first")
    use.add(s, [("", {"output": "a.msg", "attachments": [{"file": "a.txt"}]})])
    (workdir / "a.txt").write_bytes(b"changed later")
    att = next(use.show(s))["attachments"][0]
    assert att == {"data": "Zmlyc3Q=", "name": "a.txt"}
    brief = next(use.show(s, data=False))["attachments"][0]
    assert brief == {"data": None, "size": 5, "name": "a.txt"}


@pytest.mark.parametrize(
    ("spec", "error", "words"),
    [
        ({"to": ["bob"]}, InvalidParameter, ["out/r7.msg: ", "'bob' is not an e-mail address"]),
        ({"properties": {"PidTagNoSuchThing": 1}}, NotFound, ["out/r7.msg: ", "PidTagNoSuchThing"]),
        ({"properties": {"PidTagImportance": "high"}}, InvalidParameter, ["PidTagImportance", "'high'"]),
        ({"attachments": [{"file": "nope.pdf"}]}, NotFound, ["out/r7.msg: attachment 0", "nope.pdf"]),
        ({"attachments": [{"data": "***"}]}, InvalidParameter, ["attachment 0", "base64"]),
        ({"attachments": [{"message": "m9"}]}, NotFound, ["out/r7.msg: ", "'m9'"]),
        ({"date": "yesterday"}, InvalidParameter, ["'yesterday'"]),
    ],
)
def test_values_are_checked_when_added(
    s: str, spec: dict[str, object], error: type, words: list[str]
) -> None:
    # Errors name the message by what the user typed (its OUTPUT here), never by an id that an
    # add which fails never gives it.
    with pytest.raises(error) as info:
        use.add(s, [("", {"output": "out/r7.msg", **spec})])
    for word in words:
        assert word in str(info.value)
    assert "m1" not in str(info.value)
    with pytest.raises(error) as info:
        use.add(s, [("", {"id": "r7", **spec})])
    assert str(info.value).startswith("message r7: ")
    assert list(use.show(s)) == []


def test_set_keeps_the_spelling_and_replaces_other_spellings(s: str) -> None:
    use.add(s, [("", {"output": "a.msg", "properties": {"PR_IMPORTANCE": 0}})])
    key = use.set_property(s, "m1", "PidTagImportance", "2")
    assert key == "PidTagImportance"
    assert next(use.show(s))["properties"] == {"PidTagImportance": 2}
    use.unset_property(s, "m1", "0x0017")
    assert next(use.show(s))["properties"] == {"0x0017": None}


def test_set_with_a_type_the_name_does_not_say_becomes_a_tag(s: str) -> None:
    use.add(s, [("", {"output": "a.msg"})])
    assert use.set_property(s, "m1", "0x6701", "7", type_name="PT_I8") == "0x67010014"
    assert use.set_property(s, "m1", "PS_PUBLIC_STRINGS:Project", "Apollo") == "PS_PUBLIC_STRINGS:Project"
    props = next(use.show(s))["properties"]
    assert props == {"0x67010014": 7, "PS_PUBLIC_STRINGS:Project": "Apollo"}
    with pytest.raises(InvalidParameter, match=r"message m1: .*PT_LONG.*'many'"):
        use.set_property(s, "m1", "PidTagImportance", "many")
    with pytest.raises(InvalidParameter, match="unknown property type"):
        use.set_property(s, "m1", "0x6702", "1", type_name="PT_NUMBER")


def test_set_refuses_a_type_the_tables_contradict(s: str) -> None:
    use.add(s, [("", {"output": "a.msg"})])
    with pytest.raises(InvalidParameter) as info:
        use.set_property(s, "m1", "PR_IMPORTANCE", "1", type_name="PT_BOOLEAN")
    assert str(info.value) == "message m1: property PR_IMPORTANCE is PT_LONG; --type PT_BOOLEAN does not fit"
    assert info.value.where == ("message m1",)
    assert info.value.hint == "use a hex tag such as 0x0017000B to force another type"
    assert "properties" not in next(use.show(s))
    assert use.set_property(s, "m1", "0x0017000B", "1") == "0x0017000B"
    assert use.set_property(s, "m1", "PidTagSubject", "Hi", type_name="PT_STRING8") == "subject"
    assert next(use.show(s))["properties"] == {"0x0017000B": True}


def test_unknown_property_set_is_not_found(s: str) -> None:
    use.add(s, [("", {"output": "a.msg"})])
    with pytest.raises(NotFound, match="unknown property set 'PS_NOPE'"):
        use.set_property(s, "m1", "PS_NOPE:Name", "x")
    with pytest.raises(NotFound, match="unknown property set 'PS_NOPE'"):
        use.add(s, [("", {"properties": {"PS_NOPE:0x8001": 1}})])
    with pytest.raises(InvalidParameter, match="malformed GUID"):
        use.set_property(s, "m1", "{0000}:Name", "x")


def test_attachments_and_recipients_stop_at_2048(s: str, workdir: Path) -> None:
    many = [{"data": "YQ==", "name": f"{i}.txt"} for i in range(2048)]
    use.add(s, [("", {"output": "a.msg", "attachments": many, "to": ["a@example.com"] * 2048})])
    with pytest.raises(TooBig, match="message m1: 2049 attachments; MS-OXMSG allows at most 2048") as info:
        use.attach(s, "m1", [{"data": "Yg=="}])
    assert info.value.exit_code == 11 and info.value.hint is not None and "it has 2048" in info.value.hint
    with pytest.raises(TooBig, match="message m1: 2050 recipients"):
        use.add_recipients(s, "m1", "bcc", ["b@example.com", "c@example.com"])
    spec = next(use.show(s, data=False))
    assert len(spec["attachments"]) == 2048 and "bcc" not in spec
    with pytest.raises(TooBig, match=r"^2049 attachments") as info:
        use.add(s, [("", {"attachments": [*many, {"data": "Yg=="}]})])
    assert "m2" not in str(info.value)  # the id it would have had is named nowhere
    assert len(list(use.show(s))) == 1


def test_recipients_are_numbered_across_to_cc_bcc(s: str) -> None:
    use.add(s, [("", {"output": "a.msg", "to": ["a@example.com"], "bcc": ["c@example.com"]})])
    assert use.add_recipients(s, "m1", "cc", ["b@example.com", "B2 <b2@example.com>"]) == [1, 2]
    use.set_property(s, "m1", "PidTagRecipientTrackStatus", "1", recipient=3)
    spec = next(use.show(s))
    assert spec["bcc"] == [{"address": "c@example.com", "properties": {"PidTagRecipientTrackStatus": 1}}]
    use.unset_property(s, "m1", "PidTagRecipientTrackStatus", recipient=3)
    assert next(use.show(s))["bcc"] == [
        {"address": "c@example.com", "properties": {"PidTagRecipientTrackStatus": None}}
    ]
    with pytest.raises(NotFound, match="no recipient 4 \\(it has 4\\)"):
        use.set_property(s, "m1", "PidTagRecipientTrackStatus", "1", recipient=4)
    with pytest.raises(InvalidParameter, match=r"\$\.to\[0\]: must not be empty"):
        use.add_recipients(s, "m1", "to", [""])


def test_attach_numbers_and_embedding_cycles(s: str, workdir: Path) -> None:
    (workdir / "a.txt").write_text("a")
    use.add(s, [("", {"id": "outer", "output": "o.msg"}), ("", {"id": "inner"}), ("", {"id": "deep"})])
    assert use.attach(s, "outer", [{"file": "a.txt"}, {"message": "inner"}]) == [0, 1]
    assert use.attach(s, "inner", [{"message": "deep"}]) == [0]
    with pytest.raises(InvalidParameter, match="cycle: deep → outer → inner → deep"):
        use.attach(s, "deep", [{"message": "outer"}])
    with pytest.raises(InvalidParameter, match="cycle: outer → outer"):
        use.attach(s, "outer", [{"message": "outer"}])
    with pytest.raises(NotFound, match="no message with id 'ghost'"):
        use.attach(s, "ghost", [{"file": "a.txt"}])
    with pytest.raises(InvalidParameter, match="mime"):
        use.attach(s, "outer", [{"file": "a.txt", "mime": "text"}])


def test_a_batch_may_embed_messages_it_adds_later(s: str) -> None:
    ids = use.add(
        s, [("", {"id": "p", "output": "p.msg", "attachments": [{"message": "c"}]}), ("", {"id": "c"})]
    )
    assert ids == ["p", "c"]
    with pytest.raises(InvalidParameter, match="cycle"):
        use.add(
            s,
            [
                ("", {"id": "x", "attachments": [{"message": "y"}]}),
                ("", {"id": "y", "attachments": [{"message": "x"}]}),
            ],
        )


@contextlib.contextmanager
def counting_calls(*functions: Any) -> Iterator[Counter[str]]:
    """How often each function runs meanwhile (a profile hook that observes, replacing nothing)."""
    codes = {f.__code__: f.__qualname__ for f in functions}
    counts: Counter[str] = Counter()

    def profile(frame: FrameType, event: str, arg: object) -> None:
        if event == "call" and frame.f_code in codes:
            counts[codes[frame.f_code]] += 1

    sys.setprofile(profile)
    try:
        yield counts
    finally:
        sys.setprofile(None)


@pytest.mark.parametrize("before", [9, 499])
def test_attach_and_recipient_compose_only_what_they_add(s: str, before: int) -> None:
    from msgsess.composer import addresses, attachments

    atts = [{"data": "YQ==", "name": f"{i}.txt"} for i in range(before)]
    to = [f"r{i}@example.com" for i in range(before)]
    use.add(s, [("", {"output": "a.msg", "attachments": atts, "to": to})])
    with counting_calls(attachments.attachment, addresses.recipient) as counts:
        assert use.attach(s, "m1", [{"data": "Yg==", "name": "new.txt"}]) == [before]
        assert use.add_recipients(s, "m1", "cc", ["new@example.com"]) == [before]
    # One attachment and one recipient composed, however many the message has: adding n one by
    # one costs O(n), not O(n²).
    assert counts == {"attachment": 1, "recipient": 1}
    spec = next(use.show(s, data=False))
    assert len(spec["attachments"]) == before + 1 and spec["cc"] == ["new@example.com"]


def test_errors_in_added_entries_name_them_by_their_place_in_the_message(s: str) -> None:
    use.add(s, [("", {"output": "a.msg", "attachments": [{"data": "YQ=="}] * 3, "to": ["a@example.com"]})])
    with pytest.raises(InvalidParameter, match=r"message m1: attachments\[4\]\.content_id: expected a non"):
        use.attach(s, "m1", [{"data": "Yg=="}, {"data": "Yw==", "content_id": "<>"}])
    with pytest.raises(InvalidParameter, match=r"message m1: to\[2\]: NUL at character 1"):
        use.add_recipients(s, "m1", "to", ["b@example.com", "c\0@example.com"])
    with pytest.raises(InvalidParameter, match=r"message m1: cc: 'bob' is not an e-mail address"):
        use.add_recipients(s, "m1", "cc", ["bob"])
    spec = next(use.show(s))
    assert len(spec["attachments"]) == 3 and spec["to"] == ["a@example.com"] and "cc" not in spec


# --- show reads in batches: the session must stay the same one (review 2) ---------------------


def _many(path: str, count: int, prefix: str) -> None:
    use.add(path, [("", {"output": f"{prefix}{i}.msg", "subject": f"{prefix}{i}"}) for i in range(count)])


def test_show_stops_when_the_session_is_replaced_between_batches(s: str) -> None:
    from msgsess.errors import SessionError

    _many(s, 100, "old")
    shown = use.show(s)
    first = [next(shown) for _ in range(64)]  # the first batch
    assert first[-1]["subject"] == "old63"
    use.open_session(s, ansi=False, codepage=None, force=True)
    _many(s, 200, "new")
    with pytest.raises(SessionError, match=r"was replaced .*or closed while it was shown") as info:
        next(shown)
    assert info.value.exit_code == 5


def test_show_stops_when_the_session_is_closed_between_batches(s: str) -> None:
    from msgsess.errors import SessionError
    from msgsess.session.close import close

    _many(s, 100, "old")
    shown = use.show(s, data=False)
    for _ in range(64):
        next(shown)
    close(s)
    with pytest.raises(SessionError, match="was closed while it was shown"):
        next(shown)


def test_show_of_an_unchanged_session_reads_every_batch(s: str) -> None:
    _many(s, 150, "m")
    assert [m["subject"] for m in use.show(s)] == [f"m{i}" for i in range(150)]


def test_a_changed_symlink_is_no_false_collision(s: str, workdir: Path) -> None:
    (workdir / "a").mkdir()
    (workdir / "b").mkdir()
    (workdir / "link").symlink_to("a")
    use.add(s, [("", {"output": "link/x.msg"})])
    (workdir / "link").unlink()
    (workdir / "link").symlink_to("b")  # m1 is now written to b/x.msg
    assert use.add(s, [("", {"output": "a/x.msg"})]) == ["m2"]
    with pytest.raises(Collision, match="already the output of message m1"):
        use.add(s, [("", {"output": "b/x.msg"})])


def test_discard_keeps_a_session_put_at_the_path_meanwhile(s: str, workdir: Path) -> None:
    # discard's COMMIT and its removal of the file are two steps: what is removed must be the
    # file discarded. Simulated by the store function it uses, with the file it had open.
    import os

    from msgsess.session.store import remove_store

    st = os.stat(s)
    use.open_session(s, ansi=False, codepage=None, force=True)
    use.add(s, [("", {"output": "a.msg"})])
    remove_store(s, (st.st_dev, st.st_ino))
    assert use.session_info(s)[2] == 1
