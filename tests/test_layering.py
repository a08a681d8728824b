"""Data flows symbolic -> dynamics -> sims, figures; core packages never import torch at import."""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
ALLOWED = {  # package -> project packages it may import
    "symbolic": set(),
    "dynamics": {"symbolic"},
    "figures": {"symbolic", "dynamics"},
    "sims": {"symbolic", "dynamics", "figures"},
}


def _imports(path, top_level_only=False):
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else ast.walk(tree)
    for node in nodes:
        if isinstance(node, ast.Import):
            for a in node.names:
                yield a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0]


@pytest.mark.parametrize("pkg", sorted(ALLOWED))
def test_no_backward_imports(pkg):
    bad = []
    for f in (ROOT / pkg).rglob("*.py"):
        for mod in _imports(f):
            if mod in ALLOWED and mod != pkg and mod not in ALLOWED[pkg]:
                bad.append(f"{f.relative_to(ROOT)} imports {mod}")
    assert not bad, bad


@pytest.mark.parametrize("pkg", ["symbolic", "dynamics", "figures"])
def test_core_does_not_import_torch_at_module_level(pkg):
    bad = [str(f.relative_to(ROOT)) for f in (ROOT / pkg).rglob("*.py") if "torch" in set(_imports(f, True))]
    assert not bad, bad


# --- no import circle among the modules of the four packages ----------------------------------
#: circles among modules that this check found when it was written, in code outside the model
#: layer; each must go (the test fails when one disappears, so the list only shrinks) and no
#: new one may appear
KNOWN_CIRCLES: set = set()


def _module_name(f):
    parts = list(f.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_only(tree):
    """Nodes inside ``if TYPE_CHECKING:`` blocks (never executed: not an import at run time)."""
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", getattr(node.test, "attr", None)) == "TYPE_CHECKING":
            skip.update(id(n) for b in node.body for n in ast.walk(b))
    return skip


def import_graph():
    """Module -> the project modules it imports, from the source with ``ast``: every ``import``
    and ``from ... import`` statement anywhere in the file (module level and inside functions,
    relative ones resolved; ``from pkg import mod`` names the module ``pkg.mod``), except those
    under ``if TYPE_CHECKING:``. Imports made by name at run time (``__import__``,
    ``importlib.import_module``, the lazy ``EXPORTS`` tables) are not statements and not counted."""
    files = {_module_name(f): f for pkg in ALLOWED for f in (ROOT / pkg).rglob("*.py")}

    def known(name):
        while name and name not in files:
            name = name.rpartition(".")[0]
        return name or None

    graph = {}
    for mod, f in files.items():
        here = mod if f.name == "__init__.py" else mod.rpartition(".")[0]
        tree = ast.parse(f.read_text())
        skip = _type_checking_only(tree)
        edges = set()
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            if isinstance(node, ast.Import):
                edges.update(known(a.name) for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = here.split(".")[:len(here.split(".")) - node.level + 1]
                    base = ".".join(up + ([base] if base else []))
                edges.update(known(f"{base}.{a.name}") if f"{base}.{a.name}" in files else known(base)
                             for a in node.names)
        graph[mod] = edges - {None, mod}
    return graph


def circles(graph):
    """The strongly connected components of more than one module (Tarjan), as frozensets."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(frozenset(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return set(out)


def test_the_circle_finder_finds_circles():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == {frozenset("abc")}
    assert circles({"a": {"b"}, "b": set()}) == set()
    g = import_graph()
    assert "symbolic.registry" in g["symbolic.model"] and "symbolic.codegen" in g["symbolic.model"]  # in a function


def test_no_import_circle():
    found = circles(import_graph())
    assert not found - KNOWN_CIRCLES, sorted(sorted(c) for c in found - KNOWN_CIRCLES)
    assert not KNOWN_CIRCLES - found, f"gone, remove from KNOWN_CIRCLES: {sorted(sorted(c) for c in KNOWN_CIRCLES - found)}"
