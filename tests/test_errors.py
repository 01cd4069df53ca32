"""The error hierarchy: exit codes, MAPI names, and locations added as an error travels up."""

from __future__ import annotations

import pickle

import pytest

from msgsess import errors
from msgsess.errors import EXIT_CODES, InvalidParameter, MsgsessError, NotFound, located


def test_a_location_is_added_outermost_first_as_the_error_travels_up() -> None:
    def attachment() -> None:
        raise NotFound("file r07.bin does not exist", hint="check the path").at("attachment 2")

    def message() -> None:
        with located("message m3"):
            attachment()

    with pytest.raises(NotFound) as info:
        try:
            message()
        except MsgsessError as exc:
            exc.at("stdin line 4")
            raise
    exc = info.value
    assert exc.where == ("stdin line 4", "message m3", "attachment 2")
    assert exc.message == "file r07.bin does not exist"  # the problem itself, never spliced
    assert str(exc) == "stdin line 4: message m3: attachment 2: file r07.bin does not exist"
    assert exc.one_line() == f"{exc} (check the path)"


def test_the_same_place_twice_in_a_row_is_named_once_and_empty_places_not_at_all() -> None:
    exc = InvalidParameter("bad").at("to[1]").at("message m1").at("message m1").at("")
    assert exc.where == ("message m1", "to[1]")


def test_an_error_keeps_its_kind_hint_and_location_through_pickle() -> None:
    exc = NotFound("no such file", hint="check the path").at("a.msg")
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is NotFound and back.where == ("a.msg",) and back.hint == "check the path"
    assert back.one_line() == exc.one_line()


def test_one_line_is_one_line() -> None:
    assert InvalidParameter("two\nlines", hint="a\nhint").one_line() == "two lines (a hint)"


def test_each_class_has_its_documented_exit_code_and_mapi_name() -> None:
    classes = [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, MsgsessError)]
    for cls in classes:
        assert cls.mapi_name.startswith("MAPI_E_")
        assert cls.exit_code in EXIT_CODES
    assert len({c.exit_code for c in classes if c.exit_code > 1}) == len(
        [c for c in classes if c.exit_code > 1]
    )
