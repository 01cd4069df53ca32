"""Every internal error is a defect (issue 9): the fuzz harness, bounded and derandomized for CI.

Mutants of ``../shared/corpus`` (``mutants.py``, nine families of structure-aware damage) run
through ``dump``, ``dump --json``, ``check``, ``extract``, ``export``, ``edit`` + ``close`` and a
re-dump of what was written (``fuzzer.py``); a failure names the mutant, reproduced with
``python tests/fuzz/fuzzer.py --only N``. CI runs :data:`MUTANTS` of them, the same ones every
time, in :data:`CHUNKS` tests so that pytest-xdist spreads them; ``make fuzz`` runs thousands.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("_fuzzer", HERE / "fuzzer.py")
assert _spec is not None and _spec.loader is not None
fuzzer = importlib.util.module_from_spec(_spec)
sys.modules["_fuzzer"] = fuzzer  # its dataclasses look their module up there
_spec.loader.exec_module(fuzzer)

MUTANTS = 240
CHUNKS = 4
#: Also as real processes: one mutant in this many (half of them with PYTHONIOENCODING=utf-8).
SUBPROCESS_EVERY = 40
SEEDS = fuzzer.seeds()

pytestmark = pytest.mark.skipif(not SEEDS, reason=f"no corpus at {fuzzer.CORPUS}")


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_mutated_files_never_cause_an_internal_error(chunk: int) -> None:
    numbers = range(chunk, MUTANTS, CHUNKS)
    report = fuzzer.fuzz_range(numbers, SEEDS, "ci", subprocess_every=SUBPROCESS_EVERY)
    assert report.mutants == len(numbers)
    assert report.runs >= 3 * report.mutants  # dump, dump --json and check at least
    assert not report.problems, "\n".join(report.problems[:20])


def test_the_mutants_are_the_same_every_run() -> None:
    first = [fuzzer.mutant_bytes(SEEDS, n, "ci") for n in range(8)]
    assert first == [fuzzer.mutant_bytes(SEEDS, n, "ci") for n in range(8)]
    assert len({data for data, _ in first}) == 8


def test_the_harness_sees_what_it_must_refuse() -> None:
    """The judge itself: an internal error, two error lines, bytes that are no UTF-8, a slow run."""
    run = fuzzer.Run(["dump", "x"], 1, b"", b"msgsess: error: internal error: KeyError: 1\n", 0.1)
    assert any("internal error" in p for p in fuzzer.judge(run))
    run = fuzzer.Run(["check", "x"], 8, b"", b"msgsess: error: a\nmsgsess: error: b\n", 0.1)
    assert fuzzer.judge(run)
    run = fuzzer.Run(["dump", "x"], 0, b"caf\xe9\n", b"", 0.1)
    assert any("not UTF-8" in p for p in fuzzer.judge(run))
    run = fuzzer.Run(["dump", "x"], 0, b"", b"", fuzzer.MAX_SECONDS + 1)
    assert any("took" in p for p in fuzzer.judge(run))
    run = fuzzer.Run(["dump", "--json", "x"], 0, b"{", b"", 0.1)
    assert any("not JSON" in p for p in fuzzer.judge(run))
    assert fuzzer.judge(fuzzer.Run(["check", "x"], 8, b"", b"msgsess: error: x: damaged\n", 0.1)) == []


def test_the_harness_sees_extract_write_outside_its_folder(tmp_path: Path) -> None:
    (tmp_path / fuzzer.EXTRACTED).mkdir()
    (tmp_path / fuzzer.EXTRACTED / "a.txt").write_bytes(b"")
    (tmp_path / "m.msg").write_bytes(b"")
    assert fuzzer._outside(tmp_path, ["extract"]) == []
    (tmp_path / "evil.txt").write_bytes(b"")
    (tmp_path / fuzzer.EXTRACTED / "sub").mkdir()
    (found,) = fuzzer._outside(tmp_path, ["extract"])
    assert "evil.txt" in found and "sub" in found
    run = fuzzer.Run(["extract", "--json", "x"], 0, b"[", b"", 0.1)
    assert any("not JSON" in p for p in fuzzer.judge(run))
