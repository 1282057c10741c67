"""The house: one package per pipeline stage, imports only downward, no circles, small modules.

Every module of mixedfit is read with ``ast`` (nothing is imported); each import of another
mixedfit module, at any place in the file (function-level and ``TYPE_CHECKING`` imports count),
must go to the same stage or an earlier one, and the module graph must have no cycle.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "mixedfit"
# pipeline order; the top (api, cli, fitted model class, package __init__) may import anything
STAGES = {
    "exceptions": 0,
    "version": 0,
    "formula": 1,
    "design": 2,
    "engine": 3,
    "model": 4,
    # the residual structure specs bind to data and build the engine's residual model (they import
    # engine.residual), so they sit with the model stage; nothing earlier may import them
    "covariance": 4,
    "inference": 5,
    "report": 6,
    "io": 7,
    # fits from cross products (issue 14): builds designs and the engine's factor, like the model
    "scale": 4,
}
TOP = 8
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def stage(module: str) -> int:
    parts = module.split(".")
    return STAGES.get(parts[1], TOP) if len(parts) > 1 else TOP


def imports(module: str) -> set[str]:
    """The mixedfit modules ``module`` imports (resolved to modules that exist)."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            subs = [f"{prefix}.{a.name}" for a in node.names]
            # ``from pkg import sub`` imports the submodule; ``from pkg import name`` reads the
            # package itself (its __init__), which is an edge even for the module's own package
            targets = [t for t in subs if t in MODULES]
            if len(targets) < len(subs):
                targets.append(prefix)
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and (
                (isinstance(node.func, ast.Name) and node.func.id == "__import__")
                or (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
            )
        ):
            targets = [node.args[0].value]  # importlib.import_module("mixedfit.x"), __import__
        for target in targets:
            if not target.startswith("mixedfit"):
                continue
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != module:
                out.add(target)
    return out


GRAPH = {m: imports(m) for m in MODULES}


def test_stages_are_packages():
    top_level = {
        p.stem if p.is_file() else p.name for p in ROOT.iterdir() if p.name != "__pycache__"
    }
    for name in STAGES:
        assert name in top_level, f"stage package or module {name!r} missing"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_run_downward(module):
    later = sorted(t for t in GRAPH[module] if stage(t) > stage(module))
    assert not later, f"{module} (stage {stage(module)}) imports later stages: {later}"


def test_no_import_cycles():
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for t in sorted(GRAPH[m]):
            if t == "mixedfit" or t not in GRAPH:
                continue
            if state.get(t) == 1:
                cycle = [*stack[stack.index(t) :], t]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(GRAPH):
        if m not in state:
            visit(m)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_are_small(module):
    lines = len(MODULES[module].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{module} has {lines} lines (at most {MAX_LINES})"


def _constants(tree: ast.Module) -> list[str]:
    """The module-level UPPER_CASE names a module assigns."""
    out = []
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        out += [t.id for t in targets if isinstance(t, ast.Name) and t.id.isupper()]
    return out


def test_no_dead_constants():
    """Every module-level constant of mixedfit is read somewhere: in its module (beyond its
    assignment and its ``__all__`` entry), in another module, a test, a benchmark or the docs
    (a refusal message of residual_varpar outlived the refusal it worded)."""
    top = ROOT.parent
    texts = {
        p: p.read_text(encoding="utf-8")
        for d in ("mixedfit", "tests", "benchmarks", "docs")
        for p in (top / d).rglob("*")
        if p.suffix in (".py", ".md")
    }
    dead = []
    for path in sorted(ROOT.rglob("*.py")):
        text = texts[path]
        body = re.sub(r"__all__ = \[[^\]]*\]", "", text)
        for name in _constants(ast.parse(text)):
            word = re.compile(rf"\b{name}\b")
            if len(word.findall(body)) > 1:
                continue
            if not any(word.search(t) for q, t in texts.items() if q != path):
                dead.append(f"{module_name(path)}.{name}")
    assert not dead, f"constants never read: {dead}"
