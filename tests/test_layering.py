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
