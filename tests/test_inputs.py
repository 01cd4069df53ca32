"""msgsess.inputs: every input is a regular file (or stdin), read within a limit (issue 9, item 4).

Before the fix ``/dev/zero`` given as any input ran out of memory (``internal error: MemoryError``
or the OOM killer), and a FIFO without a writer hung ``add``, ``edit``, ``--json`` and ``check``
forever. Each command here runs in a real process with a timeout, so a hang fails the test.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

from msgsess import cfb, inputs
from msgsess.errors import InvalidParameter, NotFound, TooBig
from tests.conftest import one_error


@pytest.fixture
def session(run: Any, workdir: Path) -> str:
    assert run("open", "s").returncode == 0
    assert run("add", "s", "a.msg", "--subject", "x").returncode == 0
    return "s"


#: Every way a command is given a file to read; {F} is the file.
COMMANDS = {
    "add --attach": ["add", "s", "o.msg", "--attach", "{F}"],
    "add --body-file": ["add", "s", "o.msg", "--body-file", "{F}"],
    "add --html-file": ["add", "s", "o.msg", "--html-file", "{F}"],
    "add --rtf-file": ["add", "s", "o.msg", "--rtf-file", "{F}"],
    "add --set @FILE": ["add", "s", "o.msg", "--set", "0x66000102=@{F}"],
    "add --json": ["add", "s", "--json", "{F}"],
    "add --json source.file": ["add", "s", "--json", "-", '{"source": {"file": "{F}"}, "output": "e.msg"}'],
    "add --json attachments.file": [
        "add",
        "s",
        "--json",
        "-",
        '{"output": "o.msg", "attachments": [{"file": "{F}"}]}',
    ],
    "add --json attachments.msg": [
        "add",
        "s",
        "--json",
        "-",
        '{"output": "o.msg", "attachments": [{"msg": "{F}"}]}',
    ],
    "edit": ["edit", "s", "{F}", "--out", "e.msg"],
    "attach": ["attach", "s", "m1", "{F}"],
    "attach --msg": ["attach", "s", "m1", "--msg", "{F}"],
    "set @FILE": ["set", "s", "m1", "0x66000102", "@{F}"],
    "dump": ["dump", "{F}"],
    "dump --json": ["dump", "--json", "{F}"],
    "check": ["check", "{F}"],
}


def _run_with(run: Any, command: str, path: str, **kw: Any) -> Any:
    args = [a.replace("{F}", path) for a in COMMANDS[command]]
    stdin = None
    if args[-1].startswith("{"):
        stdin = args.pop()
    return run(*args, input=stdin, **kw)  # a hang ends in the fixture's timeout


@pytest.mark.parametrize("command", list(COMMANDS))
def test_dev_zero_is_refused_before_a_byte_is_read(run: Any, session: str, command: str) -> None:
    before = run("show", "s", "--json").stdout
    done = _run_with(run, command, "/dev/zero")
    assert done.returncode == 3, done.stderr
    assert "/dev/zero is a character device, not a regular file" in one_error(done.stderr)
    assert run("show", "s", "--json").stdout == before


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_fifo_without_a_writer_is_refused_without_waiting(
    run: Any, session: str, workdir: Path, command: str
) -> None:
    os.mkfifo(workdir / "fifo")
    done = _run_with(run, command, "fifo")  # before the fix: hung until the timeout
    assert done.returncode == 3, done.stderr
    assert "fifo is a FIFO (named pipe), not a regular file" in one_error(done.stderr)


@pytest.mark.parametrize("command", ["add --attach", "add --json attachments.file", "attach", "edit", "dump"])
def test_an_input_over_the_limit_is_refused(run: Any, session: str, workdir: Path, command: str) -> None:
    (workdir / "big").write_bytes(bytes(5000))
    done = _run_with(run, command, "big", env={"MSGSESS_MAX_INPUT": "4K"})
    assert done.returncode == 11, done.stderr
    assert "big is 5000 bytes, more than the 4096 bytes an input may have" in one_error(done.stderr)
    assert "MSGSESS_MAX_INPUT" in done.stderr


def test_stdin_over_the_limit_is_refused(run: Any, session: str) -> None:
    text = json.dumps({"output": "o.msg", "body": "x" * 3000})
    done = run("add", "s", "--json", "-", input=text, env={"MSGSESS_MAX_INPUT": "2k"})
    assert done.returncode == 11
    assert one_error(done.stderr).startswith("msgsess: error: --json -: stdin holds more than the 2048 bytes")
    # Within the limit, the same input is taken.
    assert run("add", "s", "--json", "-", input=text, env={"MSGSESS_MAX_INPUT": "1M"}).returncode == 0


def test_inputs_within_the_limit_are_read_whole(run: Any, session: str, workdir: Path) -> None:
    (workdir / "exact").write_bytes(b"y" * 4096)
    done = run("add", "s", "o.msg", "--attach", "exact", env={"MSGSESS_MAX_INPUT": "4096"})
    assert done.returncode == 0, done.stderr
    shown = json.loads(run("show", "s", done.stdout.strip(), "--json").stdout)
    assert len(shown["attachments"][0]["data"]) == len("eXl5" * (4096 // 3)) + 4


@pytest.mark.parametrize("value", ["lots", "-1", "0", "1.5G", "12Q", "٣"])
def test_a_bad_limit_is_an_invalid_value(run: Any, session: str, workdir: Path, value: str) -> None:
    (workdir / "f").write_bytes(b"x")
    done = run("attach", "s", "m1", "f", env={"MSGSESS_MAX_INPUT": value})
    assert done.returncode == 3
    assert f"MSGSESS_MAX_INPUT={value!r} is not a size" in one_error(done.stderr)


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("1", 1),
        ("4096", 4096),
        ("4k", 4096),
        ("4KiB", 4096),
        ("512M", 512 << 20),
        ("2G", 2 << 30),
        (" 3 T ", 3 << 40),
    ],
)
def test_limit_syntax(monkeypatch: pytest.MonkeyPatch, text: str, size: int) -> None:
    monkeypatch.setenv("MSGSESS_MAX_INPUT", text)
    assert inputs.max_input() == size


def test_the_default_limit_is_two_gib(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MSGSESS_MAX_INPUT", raising=False)
    assert inputs.max_input() == inputs.DEFAULT_MAX_INPUT == 2 << 30


def test_missing_folder_and_unnamable_inputs(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="does not exist"):
        inputs.read_input(tmp_path / "nope", "--attach")
    with pytest.raises(NotFound, match="does not exist"):
        inputs.read_input(tmp_path / "nope" / "deeper")
    with pytest.raises(NotFound, match="is a folder, not a file") as caught:
        inputs.read_input(tmp_path, "--attach")
    assert caught.value.where == ("--attach",)
    with pytest.raises(InvalidParameter, match="is not a file name"):
        inputs.read_input("a\x00b")


def test_a_file_is_read_in_one_read_without_a_copy(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"abc" * 1000)
    with inputs.open_input(tmp_path / "f") as f:
        reads: list[int] = []
        real = f.read

        class Counting(io.RawIOBase):
            def read(self, n: int = -1) -> bytes:
                reads.append(n)
                return real(n)

        assert inputs._read_all(Counting(), 3001, 10_000) == b"abc" * 1000  # type: ignore[arg-type]
    assert reads == [3001, 10_001 - 3000]  # the file, then its end (up to the limit)


def test_a_stream_longer_than_it_said_is_cut_off_at_the_limit() -> None:
    """A file that grows while it is read, or a pipe, stops at limit + 1 bytes."""
    endless = io.BytesIO(bytes(10_000))
    assert inputs._read_all(endless, 10, 4096) is None  # type: ignore[arg-type]
    assert endless.tell() == 4097
    assert inputs._read_all(io.BytesIO(bytes(4096)), 10, 4096) == bytes(4096)  # type: ignore[arg-type]


def test_cfb_read_file_refuses_what_is_not_a_regular_file(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(InvalidParameter, match="FIFO"):
        cfb.read_file(tmp_path / "fifo")
    with pytest.raises(InvalidParameter, match="character device"):
        cfb.read_file(Path("/dev/zero"))


def test_cfb_read_file_keeps_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "f.msg").write_bytes(bytes(3000))
    monkeypatch.setenv("MSGSESS_MAX_INPUT", "2K")
    with pytest.raises(TooBig, match="more than the 2048 bytes"):
        cfb.read_file(tmp_path / "f.msg")


# --- paths as pathlib shows them -----------------------------------------------------------------

PATHS = [
    "", ".", "./", "..", "a", "a/", "a//b", "a/./b", "./a/../b/", "/", "//", "///", "//a", "///a",
    "/a/b/", "a b/ç.msg", "~/x", "-", ".hidden", "a/.", "s.session", "../../up", "a\\b",
]  # fmt: skip


@pytest.mark.parametrize("text", PATHS)
def test_path_text_is_pathlib_str(text: str) -> None:
    assert inputs.path_text(text) == str(Path(text))
    assert inputs.path_text(Path(text)) == str(Path(text))


@pytest.mark.parametrize("cwd", ["/", "/tmp"])
@pytest.mark.parametrize("text", PATHS)
def test_absolute_text_is_pathlib_absolute(monkeypatch: pytest.MonkeyPatch, cwd: str, text: str) -> None:
    """From the root folder too (a container's or a service's working folder): "/" + "x" is
    "/x", never "//x", which a file: URI would read as a host."""
    monkeypatch.chdir(cwd)
    assert inputs.absolute_text(inputs.path_text(text)) == str(Path(text).absolute())


def test_path_exists_and_is_dir_are_pathlibs(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x")
    (tmp_path / "d").mkdir()
    (tmp_path / "loop").symlink_to("loop")
    (tmp_path / "dangling").symlink_to("nowhere")
    for name in ("f", "d", "loop", "dangling", "missing", "f/under"):
        path = tmp_path / name
        assert inputs.path_exists(str(path)) == path.exists(), name
        assert inputs.path_is_dir(str(path)) == path.is_dir(), name
