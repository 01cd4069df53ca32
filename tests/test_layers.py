"""The layers of docs/ARCHITECTURE.md hold: each module imports only layers above it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "msgsess"

#: Layer of each part of the package, top first; a module may import its own layer and those above.
LAYERS = [
    {"msgsess.errors", "msgsess.storage", "msgsess.inputs"},
    {"msgsess.props"},
    {"msgsess.model"},
    {"msgsess.oxmsg"},
    {"msgsess.spec"},
    {"msgsess.compose", "msgsess.dump", "msgsess.items", "msgsess.extract", "msgsess.mime"},
    {"msgsess.cfb", "msgsess.cfbwriter", "msgsess.savedir"},
    {"msgsess.session", "msgsess.convert"},
    {"msgsess.cli", "msgsess.__main__"},
]
#: Third-party packages and the layers allowed to import them (DESIGN.md); extract-msg is
#: the reference reader and writer of the tests and benchmarks only, so no module may import it.
THIRD_PARTY: dict[str, set[str]] = {
    "olefile": {"msgsess.cfb"},
    "extract_msg": set(),
    "red_black_dict_mod": set(),
    "compressed_rtf": {"msgsess.oxmsg"},
    "click": {"msgsess.cli"},
    "rich": {"msgsess.cli", "msgsess.dump"},
    "icalendar": {"msgsess.items"},
    "vobject": {"msgsess.items"},
    "dateutil": {"msgsess.items"},
}


def _part(module: str) -> str:
    for layer in LAYERS:
        for part in layer:
            if module == part or module.startswith(part + "."):
                return part
    raise AssertionError(f"{module} is in no layer of ARCHITECTURE.md")


def _level(module: str) -> int:
    part = _part(module)
    return next(i for i, layer in enumerate(LAYERS) if part in layer)


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        name = ".".join(rel.parts).removesuffix(".__init__")
        if name != "msgsess":
            out.append((name, path))
    return out


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize(("name", "path"), _modules(), ids=[n for n, _ in _modules()])
def test_imports_follow_the_layers(name: str, path: Path) -> None:
    level = _level(name)
    wrong = []
    for imported in sorted(_imports(path)):
        root = imported.split(".")[0]
        if root == "msgsess":
            try:
                target = _level(imported)
            except AssertionError:
                continue  # "msgsess" itself, or "msgsess.__version__": no layer to cross
            if target > level:
                wrong.append(f"{imported} (layer {target} below {level})")
        elif root in THIRD_PARTY and _part(name) not in THIRD_PARTY[root]:
            wrong.append(f"{imported} (third-party, allowed in {sorted(THIRD_PARTY[root])})")
    assert not wrong, f"{name} imports " + ", ".join(wrong)
