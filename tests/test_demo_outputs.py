"""The demo's outputs stay what they were before the API/spec re-layout (issue 10).

``tests/data/demo-before/`` holds the files ``examples/demo.sh`` wrote under its fixed
``SOURCE_DATE_EPOCH`` before the re-layout began. Running the demo now must give the same
messages. The comparison is made on the storage tree, read with olefile: the same storages and
streams, every storage's CLSID and every stream's bytes. It deliberately ignores the compound
file's own layout (sector order, directory order, padding, timestamps of the container), which
the compound-file writer decides and issue 11's streaming writer changes without changing what
any reader sees. When a change is *meant* to change what the demo writes, regenerate with

    MSGSESS=".venv/bin/python -m msgsess" sh examples/demo.sh /tmp/out
    cp /tmp/out/*.msg /tmp/out/*.oft tests/data/demo-before/

and say why in the commit.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import olefile
import pytest

ROOT = Path(__file__).resolve().parents[1]
BEFORE = Path(__file__).parent / "data" / "demo-before"
DEMO = ROOT / "examples" / "demo.sh"


def storage_tree(path: Path) -> dict[str, tuple[str, bytes]]:
    """Every entry of a compound file: path -> ("storage", CLSID) or ("stream", bytes)."""
    with olefile.OleFileIO(str(path)) as ole:
        tree: dict[str, tuple[str, bytes]] = {"/": ("storage", ole.root.clsid.encode())}
        for parts in ole.listdir(streams=True, storages=True):
            name = "/".join(parts)
            if ole.get_type(parts) == olefile.STGTY_STORAGE:
                tree[name] = ("storage", ole.getclsid(parts).encode())
            else:
                tree[name] = ("stream", ole.openstream(parts).read())
    return tree


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not DEMO.exists():
        pytest.skip("examples/demo.sh is not part of this checkout")
    out = tmp_path_factory.mktemp("demo") / "out"
    env = {**os.environ, "MSGSESS": f"{sys.executable} -m msgsess", "SOURCE_DATE_EPOCH": "1714557600"}
    done = subprocess.run(
        ["sh", str(DEMO), str(out)], capture_output=True, text=True, env=env, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr
    return out


def test_the_demo_writes_the_same_files(demo_out: Path) -> None:
    before = sorted(p.name for p in BEFORE.iterdir())
    now = sorted(p.name for p in demo_out.iterdir() if p.suffix in (".msg", ".oft"))
    assert now == before


@pytest.mark.parametrize("name", sorted(p.name for p in BEFORE.iterdir()))
def test_every_storage_and_stream_is_unchanged(demo_out: Path, name: str) -> None:
    expected = storage_tree(BEFORE / name)
    actual = storage_tree(demo_out / name)
    assert sorted(actual) == sorted(expected), f"{name}: other storages or streams"
    changed = [path for path in expected if actual[path] != expected[path]]
    assert not changed, f"{name}: these differ from before: {changed}"
