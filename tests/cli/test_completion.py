"""Shell completion (the scripts, their protocol, what they complete), the man page, the wheel."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from msgsess.cli.completion import SCRIPTS
from msgsess.cli.main import COMMANDS
from tests.conftest import Invoke, Run

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def test_completion_prints_the_shipped_script(run: Run) -> None:
    for shell, name in SCRIPTS.items():
        proc = run("completion", shell)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == (ROOT / "completions" / name).read_text(encoding="utf-8")
        assert proc.stdout == (ROOT / "msgsess" / "cli" / "completions" / name).read_text(encoding="utf-8")
    helped = run("completion", "--help").stdout
    assert 'eval "$(msgsess completion bash)"' in helped and "~/.bashrc" in helped
    assert "~/.zshrc" in helped and "~/.config/fish/completions/msgsess.fish" in helped
    bad = run("completion", "tcsh")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1


# --- bash, for real --------------------------------------------------------------------------

_HARNESS = r"""
source "$1"
compopt() { printf 'compopt %s %s\n' "$1" "$2" >&2; }
COMP_LINE="$2"; COMP_POINT=${#COMP_LINE}
# The words as bash splits them: at blanks, and at = and : (COMP_WORDBREAKS), which are words too.
COMP_WORDS=(); rest="$COMP_LINE"
while [[ -n "$rest" ]]; do
    if [[ "$rest" =~ ^[[:space:]]+(.*)$ ]]; then rest="${BASH_REMATCH[1]}"
    elif [[ "$rest" =~ ^([=:]+)(.*)$ || "$rest" =~ ^([^[:space:]=:]+)(.*)$ ]]; then
        COMP_WORDS+=("${BASH_REMATCH[1]}"); rest="${BASH_REMATCH[2]}"
    fi
done
[[ "$COMP_LINE" =~ [[:space:]]$ ]] && COMP_WORDS+=("")
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
_msgsess_completion msgsess
printf '%s\n' "${COMPREPLY[@]}"
"""


def _bash(workdir: Path, line: str) -> tuple[list[str], bool]:
    """What bash's completion gives for ``line`` (cursor at its end), and whether it asked for no space."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.run(
        ["bash", "--norc", "-c", _HARNESS, "bash", str(ROOT / "completions" / "msgsess.bash"), line],
        capture_output=True,
        text=True,
        cwd=workdir,
        env=env,
        check=True,
        timeout=60,
    )
    return [x for x in proc.stdout.split("\n") if x], "compopt -o nospace" in proc.stderr


@pytest.mark.skipif(shutil.which("bash") is None or not (BIN / "msgsess").exists(), reason="no bash")
def test_bash_completes_values_and_waits_after_set_name(invoke: Invoke, workdir: Path) -> None:
    assert invoke("open", "s").exit_code == 0
    (workdir / "a.txt").write_text("a")
    assert (
        invoke(
            "add", "s", "a.msg", "--id", "m1", "--to", "Bob <b@example.com>", "--attach", "a.txt"
        ).exit_code
        == 0
    )
    assert invoke("recipient", "s", "m1", "--cc", "c@example.com").exit_code == 0

    items, nospace = _bash(workdir, "msgsess add s b.msg --set PidTagSubj")
    assert "PidTagSubject=" in items and nospace
    items, nospace = _bash(workdir, "msgsess add s b.msg --set PSETID_Comm")
    assert items == ["PSETID_Common:"] and nospace
    # bash splits at ':' — what it is given back is the part after it.
    items, nospace = _bash(workdir, "msgsess add s b.msg --set PSETID_Common:0x851")
    assert "0x8514=" in items and all(i.startswith("0x851") for i in items) and nospace
    items, _ = _bash(workdir, "msgsess set s m1 PS_PUBLIC_STRINGS:Keyw")
    assert items == ["Keywords"]
    items, nospace = _bash(workdir, "msgsess set s m1 PidTagImporta")
    assert "PidTagImportance" in items and not nospace
    assert _bash(workdir, "msgsess set s m1 0x6601 5 --type PT_S")[0] == [
        "PT_SHORT",
        "PT_STRING8",
        "PT_SYSTIME",
    ]
    assert _bash(workdir, "msgsess add s b.msg --importance ")[0] == ["low", "normal", "high"]
    assert _bash(workdir, "msgsess add s b.msg --sensitivity p")[0] == ["personal", "private"]
    assert _bash(workdir, "msgsess open t --ansi --codepage koi")[0] == ["koi8-r", "koi8-u"]
    assert _bash(workdir, "msgsess close s --ansi --codepage 125")[0][:2] == ["1252", "1250"]
    assert _bash(workdir, "msgsess detach s m1 ")[0] == ["0"]
    assert _bash(workdir, "msgsess recipient s m1 --remove ")[0] == ["0", "1"]
    assert _bash(workdir, "msgsess set s m1 PidTagSubject x --attachment ")[0] == ["0"]
    assert _bash(workdir, "msgsess unset s m1 PidTagSubject --recipient ")[0] == ["0", "1"]
    assert _bash(workdir, "msgsess set s m")[0] == ["m1"]
    # Correcting a session (issue 8): ids for rm and output, and add's --replace.
    assert _bash(workdir, "msgsess rm s ")[0] == ["m1"]
    assert _bash(workdir, "msgsess remove s m")[0] == ["m1"]
    assert _bash(workdir, "msgsess output s ")[0] == ["m1"]
    assert "--replace" in _bash(workdir, "msgsess add s b.msg --repl")[0]
    assert _bash(workdir, "msgsess comp")[0] == ["completion"]


def _protocol(workdir: Path, shell: str, words: list[str]) -> str:
    env = {**os.environ, "_MSGSESS_COMPLETE": f"{shell}_complete"}
    if shell == "zsh":
        env |= {"COMP_WORDS": " ".join(words), "COMP_CWORD": str(len(words) - 1)}
    else:
        env |= {"COMP_WORDS": " ".join(words), "COMP_CWORD": words[-1]}
    proc = subprocess.run(
        [sys.executable, "-m", "msgsess"],
        capture_output=True,
        text=True,
        env=env,
        cwd=workdir,
        check=True,
        timeout=300,
    )
    return proc.stdout


def test_zsh_and_fish_get_no_space_after_set_name(workdir: Path) -> None:
    words = ["msgsess", "add", "s", "--set", "PidTagSubje"]
    zsh = _protocol(workdir, "zsh", words).split("\n")
    assert zsh[zsh.index("PidTagSubject=") - 1] == "nospace"
    assert "compadd -S '' -U -V unsorted -a nospace" in (ROOT / "completions" / "_msgsess").read_text()
    fish = _protocol(workdir, "fish", words).split("\n")
    # fish adds no space after a completion ending in '='; its script treats nospace as plain.
    assert "nospace,PidTagSubject=" in fish
    assert '"nospace"' in (ROOT / "completions" / "msgsess.fish").read_text()


# --- the man page ----------------------------------------------------------------------------


def _roff_text(text: str) -> str:
    return text.replace("\\-", "-").replace("\\e", "\\").replace("\\&", "")


def test_the_man_page_says_what_help_says(invoke: Invoke) -> None:
    page = _roff_text((ROOT / "docs" / "msgsess.1").read_text(encoding="utf-8"))
    assert page.startswith(".TH MSGSESS 1")
    for name in COMMANDS:
        helped = invoke(name, "--help")
        assert helped.exit_code == 0
        options = re.findall(r"^  (-[^\s,]+(?:, --[^\s]+)?)", helped.stdout, re.MULTILINE)
        for option in options:
            if not option.endswith("--help"):
                assert option in page, (name, option)
        first = helped.stdout.split("\n\n", 2)[1].strip().split("\n")[0].strip()
        assert first in page, (name, first)
        assert f'.SS "msgsess {name} ' in page or f"msgsess {name}" in page


@pytest.mark.skipif(shutil.which("man") is None, reason="no man")
def test_man_renders_the_page() -> None:
    proc = subprocess.run(
        ["man", "-l", str(ROOT / "docs" / "msgsess.1")],
        capture_output=True,
        text=True,
        env={**os.environ, "MANWIDTH": "100", "MAN_KEEP_FORMATTING": ""},
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "msgsess extract [OPTIONS] FILE.msg" in proc.stdout and "EXIT STATUS" in proc.stdout


# --- the wheel -------------------------------------------------------------------------------


def test_the_wheel_ships_completions_and_the_man_page(tmp_path: Path) -> None:
    """`pip install .` and `python -m build` build this wheel (setuptools from the index)."""
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if proc.returncode != 0 and re.search(r"No matching distribution|Could not find a version", proc.stderr):
        pytest.skip("no package index to build with: " + proc.stderr.strip().splitlines()[-1])
    assert proc.returncode == 0, proc.stderr
    (wheel,) = tmp_path.glob("msgsess-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for shell_file in SCRIPTS.values():
        assert f"msgsess/cli/completions/{shell_file}" in names
    assert any(n.endswith(".data/data/share/man/man1/msgsess.1") for n in names)
    assert "msgsess/props/data/enums.tsv" in names and "msgsess/message.schema.json" in names
    # Installed from the wheel alone (dependencies from this environment), the command works.
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    out = subprocess.run(
        [sys.executable, "-c", "import msgsess, sys; print(msgsess.__file__)"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=True,
        timeout=300,
    )
    assert out.stdout.startswith(str(target))
    shown = subprocess.run(
        [sys.executable, "-m", "msgsess", "completion", "bash"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=True,
        timeout=300,
    )
    assert shown.stdout == (ROOT / "completions" / "msgsess.bash").read_text(encoding="utf-8")
