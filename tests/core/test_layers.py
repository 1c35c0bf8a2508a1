"""The folder listing is the architecture: a lower layer never imports a higher one.

Walks every module's imports with ``ast`` (top-level and function-local alike) and
checks each against the table of allowed directions below.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Bottom to top. A package may import itself and any package listed before it.
LAYERS = [
    "backtest.core",
    "backtest.data",
    "backtest.strategy",
    "backtest.emulator",
    "strategies",
    "backtest.engines",
    "backtest.runner",
    "backtest.analysis",
    "backtest.search",
    "backtest.promotion",
]
# Above the library: the command-line edges (invoke tasks, Fabric), the farm and the
# benchmarks. They may import the library and each other; the library never imports them.
TOP = {"farm", "tasks", "fabfile", "bench"}
# The users' command runs the runner and then writes the report: the top of backtest.
ENTRY_POINTS = {"backtest.run_parallel_backtest": "backtest.analysis"}


def layer_of(module: str) -> str | None:
    """The layer a dotted module name belongs to (None: outside the layered packages)."""
    if module in ENTRY_POINTS:
        return ENTRY_POINTS[module]
    for layer in LAYERS:
        if module == layer or module.startswith(layer + "."):
            return layer
    if module.split(".")[0] in TOP:
        return "top"
    return None


def imported_modules(path: Path) -> set[str]:
    """Every ibsweep module named by an import statement in ``path``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {n for n in names if n.split(".")[0] in {"backtest", "strategies", *TOP}}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def violations(paths: list[Path]) -> list[str]:
    """``"importer -> imported"`` for every import that points up or sideways out."""
    found = []
    for path in paths:
        source = module_name(path)
        own = layer_of(source)
        if own is None or own == "top":
            continue
        allowed = set(LAYERS[: LAYERS.index(own) + 1])
        for target in imported_modules(path):
            if target == "backtest":  # the package root: __version__ only
                continue
            if layer_of(target) not in allowed:
                found.append(f"{source} -> {target}")
    return sorted(found)


def layered_files() -> list[Path]:
    return sorted([*(ROOT / "backtest").rglob("*.py"), *(ROOT / "strategies").rglob("*.py")])


def top_files() -> list[Path]:
    return sorted(
        [
            *(ROOT / "farm").rglob("*.py"),
            *(ROOT / "tasks").rglob("*.py"),
            *(ROOT / "bench").rglob("*.py"),
            ROOT / "fabfile.py",
        ]
    )


def private_imports(paths: list[Path]) -> list[str]:
    """``"importer -> module._name"`` for every private name imported from another layer
    (a private name is its module's own business; another package calls a public one)."""
    found = []
    for path in paths:
        source = module_name(path)
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.ImportFrom) and node.module and node.level == 0):
                continue
            if layer_of(node.module) in (None, layer_of(source)):
                continue
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{source} -> {node.module}.{alias.name}")
    return sorted(found)


def test_no_lower_layer_imports_a_higher_one():
    assert violations(layered_files()) == []


def test_the_top_is_above_the_library():
    # Arrange: the top's own files are layered too
    paths = top_files()
    # Act
    outside = [module_name(p) for p in paths if layer_of(module_name(p)) != "top"]
    # Assert: nothing of the library imports the top (checked with the library's files)
    assert outside == []
    assert [v for v in violations(layered_files()) if "-> farm" in v or "-> tasks" in v] == []


def test_no_private_name_is_imported_across_packages():
    assert private_imports(layered_files() + top_files()) == []


def test_every_module_is_in_a_layer():
    outside = [module_name(p) for p in layered_files() if layer_of(module_name(p)) is None]
    assert outside == ["backtest"]


@pytest.mark.parametrize(
    "importer, imported",
    [
        ("backtest/data/bars.py", "from backtest.runner.outputs import write_results"),
        ("backtest/strategy/metrics.py", "import backtest.engines.sweep"),
        ("backtest/runner/pool.py", "def f():\n    from backtest.analysis.merge import merge_dirs"),
        ("backtest/core/config.py", "from farm.hosts import load_hosts"),
        ("backtest/runner/plan.py", "from bench.bench import main"),
    ],
)
def test_an_upward_import_is_caught(tmp_path, monkeypatch, importer, imported):
    fake_root = tmp_path
    target = fake_root / importer
    target.parent.mkdir(parents=True)
    target.write_text(imported + "\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", fake_root)
    assert violations([target]) != []
