"""The first hour's rough edges (issue 12): typos, folders, missing values, a second close."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Run


def _one_line(proc: object, code: int) -> str:
    assert proc.returncode == code, (proc.returncode, proc.stderr)  # type: ignore[attr-defined]
    lines = str(proc.stderr).splitlines()  # type: ignore[attr-defined]
    assert len(lines) == 1 and lines[0].startswith("msgsess: error: "), lines
    return lines[0]


def test_a_mistyped_command_gets_a_suggestion(run: Run) -> None:
    line = _one_line(run("ad", "s"), 2)
    assert "No such command 'ad'. Did you mean 'add'?" in line and "(see 'msgsess --help')" in line
    assert "Did you mean 'extract'" in _one_line(run("extrac", "x.msg"), 2)
    assert "Did you mean 'extract' or 'export'" in _one_line(run("ex"), 2)
    assert "Did you mean" not in _one_line(run("xyzzy"), 2)


def test_a_missing_option_value_points_at_the_subcommands_help(run: Run, workdir: Path) -> None:
    assert run("open", "s").returncode == 0
    cases = [
        (["add", "s", "--subject"], "Option '--subject' requires an argument", "msgsess add --help"),
        (["add", "s", "a.msg", "--set"], "Option '--set' requires an argument", "msgsess add --help"),
        (["open", "t", "--ansi", "--codepage"], "requires an argument", "msgsess open --help"),
        (["set", "s", "m1", "P", "v", "--type"], "requires an argument", "msgsess set --help"),
        (["extract", "x.msg", "-d"], "requires an argument", "msgsess extract --help"),
        (["recipient", "s", "m1", "--remove"], "requires an argument", "msgsess recipient --help"),
    ]
    for args, what, where in cases:
        line = _one_line(run(*args), 2)
        assert what in line and f"(see '{where}')" in line, line
    # The group's own options still point at the group.
    assert "(see 'msgsess --help')" in _one_line(run("--bogus"), 2)


def test_attaching_a_folder_is_msgsess_own_error_like_a_missing_file(run: Run, workdir: Path) -> None:
    (workdir / "photos").mkdir()
    assert run("open", "s").returncode == 0
    assert run("add", "s", "a.msg", "--id", "m1").returncode == 0
    for args in (["attach", "s", "m1", "photos"], ["add", "s", "b.msg", "--attach", "photos/"]):
        line = _one_line(run(*args), 4)
        assert "is a folder, not a file" in line and "photos/*" in line and "Invalid value" not in line
    missing = _one_line(run("attach", "s", "m1", "nothing.pdf"), 4)
    assert "nothing.pdf does not exist" in missing
    shown = run("show", "s", "--json").stdout
    assert '"attachments"' not in shown and shown.count("\n") == 1


def test_closing_twice_says_that_close_removed_the_session(run: Run, workdir: Path) -> None:
    assert run("open", "s").returncode == 0
    assert run("add", "s", "a.msg", "--subject", "x").returncode == 0
    assert run("close", "s").returncode == 0
    line = _one_line(run("close", "s"), 5)
    assert (
        "session s does not exist" in line and "close removes a session once every output is written" in line
    )
    assert (workdir / "a.msg").exists()
