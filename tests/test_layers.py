"""The layers of DESIGN.md, enforced: imports point down only, the core stays lean."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "servicekpi"
OPTIONAL = {"pandas", "polars", "pyarrow", "narwhals", "matplotlib", "dask", "distributed",
            "tqdm", "scipy"}
STDLIB = set(sys.stdlib_module_names)

# Rank of each layer; a module may import servicekpi modules of its own rank or below.
DOMAIN, CORE, POLICIES, USE_CASES, EDGES = range(5)
RANKS = {
    "exceptions": DOMAIN, "domain": DOMAIN,
    "kernel": CORE, "_frozen": CORE, "_structure": CORE, "_codec": CORE, "_extras": CORE,
    "calendar": CORE,
    "policy": CORE,
    "tables": CORE, "dataset": CORE, "rulebook": CORE,
    "metrics": POLICIES, "scoring": POLICIES, "rules": POLICIES, "clocks": POLICIES,
    "evaluation": USE_CASES,
    "cli": EDGES, "__main__": EDGES, "report": EDGES, "io": EDGES, "dask": EDGES,
    "synth": EDGES, "__init__": EDGES, "_bench": EDGES,
}


def _modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def _top(path: Path) -> str:
    """The first component below the package: 'domain', 'tables', '__init__'…"""
    rel = path.relative_to(SRC)
    return rel.parts[0].removesuffix(".py")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "servicekpi":
                names.extend(f"servicekpi.{alias.name}" for alias in node.names)
            else:
                names.append(node.module)
    return names


def _internal_top(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if parts[0] == "servicekpi" and len(parts) > 1 else None


class TestLayers:
    """Every module imports only its own layer or those below."""

    def test_every_module_has_a_layer(self) -> None:
        unknown = sorted({_top(p) for p in _modules()} - set(RANKS))
        assert [] == unknown

    @pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
    def test_imports_point_down(self, path: Path) -> None:
        own = RANKS[_top(path)]
        upward = [name for name in _imports(path)
                  if (top := _internal_top(name)) is not None and RANKS.get(top, EDGES) > own]
        assert [] == upward

    @pytest.mark.parametrize("path", sorted((SRC / "domain").rglob("*.py")),
                             ids=lambda p: p.name)
    def test_domain_is_pure(self, path: Path) -> None:
        allowed = STDLIB | {"attrs", "dateutil", "servicekpi"}
        foreign = [n for n in _imports(path) if n.split(".")[0] not in allowed]
        internal = [n for n in _imports(path)
                    if n.startswith("servicekpi.") and _internal_top(n) not in ("domain",
                                                                                "exceptions")]
        assert ([], []) == (foreign, internal)

    @pytest.mark.parametrize("path", sorted((SRC / "kernel").rglob("*.py")),
                             ids=lambda p: p.name)
    def test_kernel_knows_arrays_only(self, path: Path) -> None:
        allowed = STDLIB | {"numpy", "servicekpi"}
        foreign = [n for n in _imports(path) if n.split(".")[0] not in allowed]
        internal = [n for n in _imports(path)
                    if n.startswith("servicekpi.") and _internal_top(n) != "kernel"]
        assert ([], []) == (foreign, internal)

    @pytest.mark.parametrize("path", [p for p in _modules() if RANKS[_top(p)] < EDGES],
                             ids=lambda p: str(p.relative_to(SRC)))
    def test_core_has_no_optional_dependency(self, path: Path) -> None:
        allowed = STDLIB | {"attrs", "numpy", "dateutil", "servicekpi"}
        foreign = [n for n in _imports(path) if n.split(".")[0] not in allowed]
        assert [] == foreign


def _edge_calls(path: Path) -> list[object]:
    """The arguments of every ``edge(...)`` / ``_extras.edge(...)`` call in *path*."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[object] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name == "edge":
                arg = node.args[0] if node.args else None
                found.append(arg.value if isinstance(arg, ast.Constant) else ast.dump(node))
    return found


class TestEdgeDoor:
    """The core reaches edge modules only through ``_extras.edge`` with a literal name."""

    @pytest.mark.parametrize("path", [p for p in _modules() if RANKS[_top(p)] < EDGES],
                             ids=lambda p: str(p.relative_to(SRC)))
    def test_core_asks_for_edge_modules_by_name(self, path: Path) -> None:
        from servicekpi._extras import EDGE_MODULES

        wrong = [name for name in _edge_calls(path)
                 if not isinstance(name, str) or name not in EDGE_MODULES]
        assert [] == wrong

    def test_every_door_leads_to_an_edge(self) -> None:
        from servicekpi._extras import EDGE_MODULES

        assert [] == [name for name in sorted(EDGE_MODULES)
                      if RANKS[name.split(".")[0]] != EDGES]

    def test_no_other_dynamic_import_in_the_core(self) -> None:
        offenders = [str(p.relative_to(SRC)) for p in _modules()
                     if RANKS[_top(p)] < EDGES and p.name != "_extras.py"
                     and ("importlib" in p.read_text(encoding="utf-8")
                          or "__import__" in p.read_text(encoding="utf-8"))]
        assert [] == offenders


class TestImportCost:
    """``import servicekpi`` needs only attrs, numpy and python-dateutil."""

    def test_no_optional_module_is_loaded(self) -> None:
        code = ("import sys, servicekpi; "
                "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True).stdout.split()
        assert [] == sorted(OPTIONAL & set(out))


def _offences(source: str) -> list[str]:
    """``assert`` statements and clock reads (``.now()``, ``.utcnow()``, ``.today()``,
    ``time.time()``) in *source*."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assert):
            found.append(f"assert on line {node.lineno}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            attr = node.func.attr
            owner = node.func.value
            if attr in ("now", "utcnow", "today") or (
                    attr == "time" and isinstance(owner, ast.Name) and owner.id == "time"):
                found.append(f"clock read on line {node.lineno}")
    return found


class TestHouseRules:
    """No ambient clock and no ``assert`` for validation in library code."""

    def test_the_scan_finds_offences(self) -> None:
        source = "import time\nassert x\nd = datetime.now(tz)\nt = time.time()\n"
        assert ["assert on line 2", "clock read on line 3",
                "clock read on line 4"] == sorted(_offences(source))

    @pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
    def test_no_clock_and_no_assert(self, path: Path) -> None:
        assert [] == _offences(path.read_text(encoding="utf-8"))
