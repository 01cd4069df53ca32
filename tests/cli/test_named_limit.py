"""At most 32,767 named properties per .msg file (issue 9, item 10).

Before the fix ``add`` took 40,000 string-named properties and only ``close`` failed, with exit 8
("damaged input") and without naming the message. Now the command that goes past the limit is
refused with exit 11 (MAPI_E_TOO_BIG) naming the message, and ``close`` gives the same for what
only it can see (named properties of embedded messages share their parent's map).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import olefile

from tests.conftest import one_error

LIMIT = 32_767


def _named(count: int, prefix: str = "n") -> dict[str, str]:
    return {f"PS_PUBLIC_STRINGS:{prefix}{i}": "v" for i in range(count)}


def test_add_refuses_forty_thousand_named_properties(invoke: Any, workdir: Path) -> None:
    assert invoke("open", "s").exit_code == 0
    spec = {"id": "big", "output": "big.msg", "properties": _named(40_000)}
    (workdir / "in.json").write_text(json.dumps(spec))
    result = invoke("add", "s", "--json", "in.json")
    assert result.exit_code == 11, result.stderr
    line = one_error(result.stderr)
    assert "message big" in line and "40000 named properties" in line and "32,767" in line
    assert invoke("show", "s", "--json").stdout == ""  # nothing added


def test_the_last_named_property_that_fits_and_the_first_that_does_not(invoke: Any, workdir: Path) -> None:
    assert invoke("open", "s").exit_code == 0
    (workdir / "in.json").write_text(json.dumps({"output": "edge.msg", "properties": _named(LIMIT)}))
    assert invoke("add", "s", "--json", "in.json").exit_code == 0
    over = invoke("set", "s", "m1", "PS_PUBLIC_STRINGS:one-more", "x")
    assert over.exit_code == 11
    assert "message m1: 32768 named properties" in one_error(over.stderr)
    closed = invoke("close", "s")
    assert closed.exit_code == 0, closed.stderr
    with olefile.OleFileIO(str(workdir / "edge.msg")) as ole:  # the map holds every one
        assert ole.get_size("__nameid_version1.0/__substg1.0_00030102") == 8 * LIMIT


def test_close_names_a_message_whose_embedded_messages_go_past_the_limit(invoke: Any, workdir: Path) -> None:
    """Embedded messages share their parent's map: only close sees the sum."""
    assert invoke("open", "s").exit_code == 0
    lines = [
        {"id": "outer", "output": "outer.msg", "properties": _named(20_000, "a")},
        {"id": "inner", "properties": _named(20_000, "b")},
    ]
    (workdir / "in.json").write_text("\n".join(json.dumps(x) for x in lines))
    assert invoke("add", "s", "--json", "in.json").exit_code == 0
    assert invoke("attach", "s", "outer", "--message", "inner").exit_code == 0
    closed = invoke("close", "s")
    assert closed.exit_code == 11  # was 8, "damaged input"
    line = one_error(closed.stderr)
    assert "message outer" in line and "32,767" in line
    assert not (workdir / "outer.msg").exists() and (workdir / "s").exists()
