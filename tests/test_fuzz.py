"""Fuzzing: mutated Outlook files never make msgsess fail with anything but its own errors.

Hypothesis mutates real corpus files (byte flips, overwritten runs, truncation,
inserted garbage) and runs the whole read path — compound file, ``check``,
``decode`` — and, when a mutant still decodes, the write path too. Every outcome
must be a result or a ``MsgsessError`` (a one-line message), within seconds.

The run is bounded (derandomized, ``MSGSESS_FUZZ_EXAMPLES`` examples, 300 by
default) so CI time stays predictable; raise the number to fuzz longer locally.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from msgsess import cfb, oxmsg
from msgsess.errors import MsgsessError
from msgsess.oxmsg.check import check

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
SEEDS = [
    "msgreader/msgInMsg.msg",
    "msgreader/nonUnicodeCP932.msg",
    "msgreader/attachAndInline.msg",
    "email-outlook-message-perl/plain_jpeg_attached.msg",
]
EXAMPLES = int(os.environ.get("MSGSESS_FUZZ_EXAMPLES", "300"))

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no corpus at {CORPUS}")


@st.composite
def mutants(draw: st.DrawFn) -> bytes:
    data = bytearray((CORPUS / draw(st.sampled_from(SEEDS))).read_bytes())
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["flip", "flip", "run", "run", "truncate", "insert"]))
        # The header decides whether anything is read at all: hit it now and then, and
        # otherwise anywhere (property streams live in the mini stream, deep in the file).
        limit = draw(st.sampled_from([512, len(data), len(data), len(data)]))
        pos = draw(st.integers(0, max(0, min(limit, len(data)) - 1)))
        if kind == "flip":
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif kind == "run":
            run = draw(st.binary(min_size=1, max_size=16))
            data[pos : pos + len(run)] = run
        elif kind == "truncate":
            del data[max(pos, 1) :]
        else:
            data[pos:pos] = draw(st.binary(min_size=1, max_size=64))
    return bytes(data)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mutants())
def test_mutated_files_give_results_or_msgsess_errors(data: bytes) -> None:
    start = time.perf_counter()
    stage = "read"
    try:
        tree = cfb.read_bytes(data, "mutant.msg")
        stage = "decode"
        check(tree)
        msg = oxmsg.decode(tree, label="mutant.msg")
        stage = "encode"
        unicode = msg.source_unicode is not False
        cfb.to_bytes(oxmsg.encode(msg, unicode=unicode, codepage=msg.source_codepage or 1252))
        event("round trip")
    except MsgsessError as exc:
        event(f"{type(exc).__name__} at {stage}")
        line = exc.one_line()
        assert line and "\n" not in line
    assert time.perf_counter() - start < 10
