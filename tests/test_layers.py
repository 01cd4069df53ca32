"""The layers of docs/ARCHITECTURE.md hold: each module imports only layers above it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "msgsess"

#: Layer of each part of the package, top first; a module may import its own layer and those above.
LAYERS = [
    {"msgsess.errors", "msgsess.storage", "msgsess.records", "msgsess.inputs", "msgsess.mailfields"},
    {"msgsess.props"},
    {"msgsess.model"},
    {"msgsess.oxmsg"},
    {"msgsess.spec", "msgsess.spectypes"},
    {"msgsess.composer", "msgsess.dump", "msgsess.items", "msgsess.extract", "msgsess.mime"},
    {
        "msgsess.cfb",
        "msgsess.cfbwriter",
        "msgsess.cfbreader",
        "msgsess.cfbformat",
        "msgsess.savedir",
        "msgsess.msgfile",
    },
    {"msgsess.session", "msgsess.convert"},
    {"msgsess.api", "msgsess.results"},
    {"msgsess.cli", "msgsess.__main__"},
]
#: Third-party packages and the layers allowed to import them (DESIGN.md); extract-msg is
#: the reference reader and writer of the tests and benchmarks only, and so is olefile since
#: msgsess reads compound files itself (msgsess.cfbreader), so no module may import them.
THIRD_PARTY: dict[str, set[str]] = {
    "olefile": set(),
    "extract_msg": set(),
    "red_black_dict_mod": set(),
    "compressed_rtf": {"msgsess.oxmsg"},
    "click": {"msgsess.cli"},
    "rich": {"msgsess.cli"},
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


#: Parts of the package that make no session and speak to no user: the pure core.
PURE = ("msgsess.oxmsg", "msgsess.props", "msgsess.model", "msgsess.spec", "msgsess.spectypes")
#: What the pure core never imports (DESIGN.md): sessions, the command line, and their libraries.
NOT_IN_THE_CORE = ("msgsess.session", "msgsess.cli", "sqlite3", "click", "rich")


def _module_names() -> set[str]:
    return {name for name, _path in _modules()} | {"msgsess"}


def _edges(path: Path, modules: set[str]) -> set[str]:
    """The msgsess modules a file imports, anywhere in it (inside functions too).

    ``from msgsess.x import y`` is an import of ``msgsess.x.y`` when that is a module, else of
    ``msgsess.x``: the package's ``__init__`` is what runs.
    """
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                if sub in modules:
                    found.add(sub)
                elif node.module in modules:
                    found.add(node.module)
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (or a module importing itself)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan; the package is small enough for recursion
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            if len(group) > 1 or node in graph.get(node, ()):
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_no_import_cycle_even_inside_functions() -> None:
    modules = _module_names()
    paths = dict(_modules()) | {"msgsess": PACKAGE / "__init__.py"}
    graph = {name: _edges(path, modules) - {name} for name, path in paths.items()}
    assert _cycles(graph) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize(
    ("name", "path"),
    [(n, p) for n, p in _modules() if _part(n) in PURE],
    ids=[n for n, _ in _modules() if _part(n) in PURE],
)
def test_the_pure_core_imports_no_session_cli_sqlite_click_or_rich(name: str, path: Path) -> None:
    wrong = [
        imported
        for imported in sorted(_imports(path))
        if any(imported == banned or imported.startswith(banned + ".") for banned in NOT_IN_THE_CORE)
    ]
    assert not wrong, f"{name} imports {wrong}"


#: All the command line may import of the package, inside functions too: the public API (which
#: does the work), the errors it raises and maps to exit codes, the spec's types, the package's
#: version, and its own modules. Everything else goes through msgsess.api.
CLI_MAY_IMPORT = ("msgsess.api", "msgsess.errors", "msgsess.spec", "msgsess.cli")
#: Commands still being moved onto the API, by whom (remove the entry with the move).
CLI_PENDING: dict[str, set[str]] = {}


@pytest.mark.parametrize(
    ("name", "path"),
    [(n, p) for n, p in _modules() if _part(n) == "msgsess.cli"],
    ids=[n for n, _ in _modules() if _part(n) == "msgsess.cli"],
)
def test_the_cli_calls_the_public_api_and_nothing_below_it(name: str, path: Path) -> None:
    modules = _module_names()
    wrong = sorted(
        imported
        for imported in _edges(path, modules)
        if imported != "msgsess"  # msgsess.__version__
        and not any(imported == ok or imported.startswith(ok + ".") for ok in CLI_MAY_IMPORT)
        and imported not in CLI_PENDING.get(name, ())
    )
    assert not wrong, f"{name} imports {wrong}: call msgsess.api instead"


def test_the_cli_rule_sees_an_import_inside_a_function(tmp_path: Path) -> None:
    module = tmp_path / "cmd_x.py"
    module.write_text("def run():\n    from msgsess.session import usecases\n    from msgsess import api\n")
    assert _edges(module, _module_names()) == {"msgsess.session.usecases", "msgsess.api"}
