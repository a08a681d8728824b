"""The public API's docstrings: numpydoc sections present, and their examples run.

Covers every function and class that ``dynamics``, ``symbolic``, ``figures`` and ``sims`` export
(``EXPORTS``, exceptions and warnings included; the trainer's objects only where torch is installed), and
the result classes in :data:`RETURNED`. The kernels the examples use are compiled into the cache
the other tests use (``SSLDYN_CACHE_DIR`` is not overridden), so the examples are slow only on a
cold cache.
"""
from __future__ import annotations

import doctest
import enum
import importlib
import importlib.util
import inspect

import pytest

PACKAGES = ("dynamics", "symbolic", "figures", "sims")
#: result classes returned by exported functions but not exported themselves: held to the same standard
RETURNED = ("dynamics.equilibria:EigenEquilibria", "dynamics.regimes:FateCheck", "dynamics.sgd_mean_field:Prediction",
            "symbolic.gradient_check:GradientCheck")
#: exported from modules that import torch (the ``torch`` extra): checked only where it is installed
NEEDS_TORCH = ("sims.train",)
HAVE_TORCH = importlib.util.find_spec("torch") is not None


def _public_objects() -> list:
    """``(public name, object)`` for each exported function or class, once per object (the first
    package exporting it names it)."""
    out, seen = [], set()
    for pkg_name in PACKAGES:
        pkg = importlib.import_module(pkg_name)
        for name in sorted(pkg.EXPORTS):
            module, _, attr = pkg.EXPORTS[name].partition(":")
            if module.startswith(NEEDS_TORCH) and not HAVE_TORCH:
                continue
            obj = getattr(importlib.import_module(module), attr)
            if not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            out.append((f"{pkg_name}.{name}", obj))
    for target in RETURNED:
        module, _, attr = target.partition(":")
        out.append((f"{module}.{attr}", getattr(importlib.import_module(module), attr)))
    return out


OBJECTS = _public_objects()
IDS = [name for name, _ in OBJECTS]


def test_the_selection_is_not_empty():
    # the names the issue lists must be among them (a rename would silently shrink the check)
    names = {n.split(".", 1)[1] for n in IDS}
    for want in ("find_equilibria", "find_eigen_equilibria", "critical_value", "classify", "basins",
                 "predict_fate", "regime_map", "equilibrium_branches", "saddle_node_curve", "Recipe",
                 "epoch_lrs", "flow_time", "sgd_mean_field", "register_model", "get_model", "model_names",
                 "field_name", "load_model_file", "derive", "check_gradient", "CosineParams", "L2Params",
                 "Equilibria", "RegimeMap", "Branches", "FoldCurve", "Status", "Result", "ModelSpec"):
        assert want in names, want


def _has_parameters(obj) -> bool:
    if inspect.isclass(obj) and issubclass(obj, enum.Enum):
        return False                         # an enum's members are its values, not parameters
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return False
    return any(p.name not in ("self", "cls") for p in sig.parameters.values())


@pytest.mark.parametrize("name,obj", OBJECTS, ids=IDS)
def test_numpydoc_sections(name, obj):
    docscrape = pytest.importorskip("numpydoc.docscrape")
    doc = inspect.getdoc(obj)
    assert doc, f"{name} has no docstring"
    parsed = docscrape.ClassDoc(obj, config={"show_class_members": False}) if inspect.isclass(obj) \
        else docscrape.FunctionDoc(obj)
    assert "".join(parsed["Summary"]).strip(), f"{name}: no one-line summary"
    if _has_parameters(obj):
        assert parsed["Parameters"], f"{name}: no Parameters section"
        documented = {n.strip() for p in parsed["Parameters"] for n in p.name.split(",")}
        params = [p for p in inspect.signature(obj).parameters.values()
                  if p.name not in ("self", "cls") and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        missing = [p.name for p in params if p.name not in documented]
        assert not missing, f"{name}: parameters not documented: {missing}"
    if inspect.isfunction(obj):
        assert parsed["Returns"], f"{name}: no Returns section"
    assert "".join(parsed["Examples"]).strip(), f"{name}: no Examples section"
    assert ">>>" in "\n".join(parsed["Examples"]), f"{name}: the Examples section has no doctest"
    for line in doc.splitlines():
        assert len(line) <= 120, f"{name}: docstring line longer than 120 characters: {line!r}"


@pytest.fixture
def restore_registry():
    """Examples may register models (``register_model``): leave the registry as it was."""
    from symbolic import registry, user_models

    before, args = dict(registry._REGISTRY), dict(user_models._USER_ARGS)
    yield
    registry._REGISTRY.clear()
    registry._REGISTRY.update(before)
    user_models._USER_ARGS.clear()
    user_models._USER_ARGS.update(args)


def _doctests() -> list:
    finder = doctest.DocTestFinder(recurse=False, exclude_empty=True)
    out = []
    for name, obj in OBJECTS:
        module = importlib.import_module(obj.__module__)
        # fresh globals: an example imports what it uses, so it runs as pasted into a session
        tests = [t for t in finder.find(obj, name, module=module, globs={"__name__": module.__name__})
                 if t.examples]
        out.extend((name, t) for t in tests)
    return out


DOCTESTS = _doctests()


@pytest.mark.slow
@pytest.mark.parametrize("name,test", DOCTESTS, ids=[n for n, _ in DOCTESTS])
def test_examples_run(name, test, restore_registry):
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report = []
    runner.run(test, out=report.append)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} examples failed\n" + "".join(report)
    assert result.attempted > 0


MODULES = sorted({obj.__module__ for _, obj in OBJECTS})


@pytest.mark.parametrize("module", MODULES)
def test_docstrings_have_no_invalid_escapes(module):
    # a LaTeX backslash in a docstring that is not raw (r\"\"\"...\"\"\") is an invalid escape sequence
    import warnings

    path = importlib.import_module(module).__file__
    with open(path, encoding="utf-8") as f:
        source = f.read()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compile(source, path, "exec")
