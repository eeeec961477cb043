"""The import graph of `coop/` keeps the layers of docs/architecture.md: no circle, no upward import, a pure core.

Every import counts, including those inside functions (a function-local import that closes a circle is still a
circle); only `if TYPE_CHECKING:` blocks are left out. The graph is read from the source with `ast`, so the test
needs no app and fails with the offending edges named.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "coop"

# The pure core: the standard library and each other only — no Flask, no SQLAlchemy, no I/O.
PURE_CORE = {"coop.core.money", "coop.core.text", "coop.core.numerals", "coop.core.clock", "coop.core.errors",
             "coop.core.export_safety"}

# Layer of each module, by longest matching prefix; a module imports only from its own layer or lower ones.
LAYERS = [
    ("coop.core", 0),       # pure core (above) and the app's extensions, locale and security plumbing
    ("coop.ledger", 0),     # the pure ledger core: frozen records and functions on them
    ("coop.models", 2),
    ("coop.schemas", 3),
    ("coop.services", 4),   # the only code that writes
    ("coop.documents", 5),  # PDFs, xlsx, charts: rendered from what services return
    ("coop.reports", 5),
    ("coop.web", 6), ("coop.api", 6), ("coop.cli", 6), ("coop.demo", 6),
    ("coop", 7),            # create_app
]
# Same-layer interfaces stay apart, except for the request plumbing the JSON API shares with the pages.
INTERFACES = {"coop.web", "coop.api", "coop.cli", "coop.demo"}
INTERFACE_SHARED = {"coop.web.errors", "coop.web.idempotency", "coop.demo"}


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _known(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str, path: Path) -> set[str]:
    """Every module `module` imports (coop modules resolved to the deepest existing one; others by top name)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()

    def visit(node):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and getattr(child.test, "id", "") == "TYPE_CHECKING":
                continue
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                assert child.level == 0, f"{module}: relative import (coop uses absolute imports)"
                for alias in child.names:
                    full = f"{child.module}.{alias.name}"
                    found.add(full if full in MODULES else child.module)
            visit(child)

    visit(tree)
    return found


GRAPH = {m: _imports(m, p) for m, p in MODULES.items()}


def _coop_edges(module: str) -> set[str]:
    return {k for name in GRAPH[module] if name.startswith("coop") and (k := _known(name)) and k != module}


def _layer(module: str) -> int:
    for prefix, rank in LAYERS:
        if module == prefix or module.startswith(prefix + "."):
            return rank
    raise AssertionError(f"{module} is in no layer of tests/test_architecture.py")


def _interface(module: str) -> str | None:
    return next((i for i in INTERFACES if module == i or module.startswith(i + ".")), None)


def test_no_module_at_the_top_of_the_package():
    loose = sorted(p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py")
    assert loose == []


def test_no_import_circle():
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))

    def strong(v: str) -> None:  # Tarjan
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in _coop_edges(v):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for module in sorted(MODULES):
        if module not in index:
            strong(module)
    assert not circles, "import circles:\n" + "\n".join(" ↔ ".join(c) for c in circles)


def test_no_upward_import():
    upward = sorted(f"{m} → {t}" for m in MODULES for t in _coop_edges(m)
                    if _layer(t) > _layer(m) and not (m == "coop" or t in PURE_CORE))
    assert not upward, "upward imports:\n" + "\n".join(upward)


def test_interfaces_do_not_import_each_other():
    crossing = sorted(f"{m} → {t}" for m in MODULES for t in _coop_edges(m)
                      if (a := _interface(m)) and (b := _interface(t)) and a != b
                      and not any(t == s or t.startswith(s + ".") for s in INTERFACE_SHARED))
    assert not crossing, "interfaces importing each other:\n" + "\n".join(crossing)


def test_the_core_is_pure():
    """The ledger core and the pure part of coop.core import only the standard library and each other."""
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    impure = []
    for module in MODULES:
        if not (module in PURE_CORE or module == "coop.ledger" or module.startswith("coop.ledger.")):
            continue
        for name in GRAPH[module]:
            if name.startswith("coop"):
                target = _known(name)
                if not (target in PURE_CORE or target == "coop.ledger" or target.startswith("coop.ledger.")
                        or target == "coop.core"):
                    impure.append(f"{module} → {target}")
            elif name.partition(".")[0] not in stdlib:
                impure.append(f"{module} → {name}")
    assert not impure, "impure core imports:\n" + "\n".join(sorted(impure))


def test_the_architecture_page_shows_these_layers():
    """docs/architecture.md's layer table names every package of coop/ with the rank enforced above."""
    import re

    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    table = {}
    for rank, cells in re.findall(r"^\| (\d) \| ([^|]+) \|", text, flags=re.M):
        for path in re.findall(r"`coop/([\w/.]*)`", cells):
            name = "coop" if path == "__init__.py" else "coop." + path.strip("/").replace("/", ".")
            table[name] = int(rank)
    assert table == dict(LAYERS)
    packages = {"coop." + p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert packages <= set(table), f"packages missing from docs/architecture.md: {sorted(packages - set(table))}"
