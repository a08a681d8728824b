"""The public API: ``dynamics``, ``figures`` and ``sims`` export their user-facing names with
``__all__``, lazily (``import dynamics`` stays light and never imports torch)."""
import importlib
import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("dynamics", "figures", "sims")
#: names the issue asks for, by package (a rename must keep them or update this list on purpose)
REQUIRED = {
    "dynamics": {"integrate", "find_equilibria", "basins", "predict_fate", "regime_map", "equilibrium_branches",
                 "saddle_node_curve", "CosineParams", "L2Params", "TwoLayerParams", "CosineDeltaParams", "Status",
                 "derive", "Recipe", "flow_time"},
    "figures": {"draw_phase_line", "plot_regime_map", "plot_branches", "bao_fig2", "regime_map_figure",
                "bifurcation_figure", "FIGURES"},
    "sims": {"train_simsiam", "TrainConfig", "predict_run", "run_sweep", "main"},
}


def _fresh(code: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT,
                          env=env).stdout


def test_acceptance_command_lists_the_public_names():
    out = _fresh("import dynamics, symbolic, figures, sims; print(dynamics.__all__)")
    listed = set(eval(out, {}))   # a printed list of strings
    assert REQUIRED["dynamics"] <= listed


@pytest.mark.parametrize("pkg", PACKAGES)
def test_required_names_exported(pkg):
    mod = importlib.import_module(pkg)
    assert REQUIRED[pkg] <= set(mod.__all__)
    assert list(mod.__all__) == sorted(set(mod.__all__))


@pytest.mark.parametrize("pkg", PACKAGES)
def test_every_export_resolves_to_its_dotted_path(pkg):
    mod = importlib.import_module(pkg)
    for name in mod.__all__:
        target_mod, _, attr = mod.EXPORTS[name].partition(":")
        assert getattr(mod, name) is getattr(importlib.import_module(target_mod), attr), name
        assert name in dir(mod)


@pytest.mark.parametrize("pkg", PACKAGES)
def test_no_export_is_named_like_another_submodule(pkg):
    """A name equal to a submodule's is shadowed by that submodule once anything imports it,
    unless it is that submodule's own function (then the package binds it eagerly)."""
    mod = importlib.import_module(pkg)
    for name, path in mod.EXPORTS.items():
        if (ROOT / pkg / f"{name}.py").exists() or (ROOT / pkg / name / "__init__.py").exists():
            assert path.partition(":")[0] == f"{pkg}.{name}", name


@pytest.mark.parametrize("pkg", PACKAGES)
def test_every_callable_export_is_documented(pkg):
    mod = importlib.import_module(pkg)
    missing = [n for n in mod.__all__ if callable(getattr(mod, n)) and not (inspect.getdoc(getattr(mod, n)) or "")]
    # build_parser documents itself through the parser it returns (the CLI reference)
    assert set(missing) <= {"build_parser"}, missing


@pytest.mark.parametrize("pkg", PACKAGES)
def test_unknown_name_is_an_attribute_error(pkg):
    mod = importlib.import_module(pkg)
    with pytest.raises(AttributeError, match="no_such_name"):
        mod.no_such_name  # noqa: B018
    assert not hasattr(mod, "no_such_name")


def test_import_is_light_and_never_imports_torch():
    """Nothing heavy at import: not even numpy, so ``ssldyn --help`` (sims.cli) stays fast."""
    out = _fresh("import sys, dynamics, figures, sims, sims.cli; "
                 "print(sorted(m for m in ('torch', 'numba', 'matplotlib', 'sympy', 'numpy') if m in sys.modules))")
    assert eval(out, {}) == []


@pytest.mark.parametrize("pkg, name", [("dynamics", "integrate"), ("dynamics", "sgd_mean_field"), ("sims", "overlay")])
def test_function_named_like_its_module_is_not_shadowed(pkg, name):
    """``dynamics.integrate`` / ``sims.overlay`` are the functions, also after the submodule's import
    (``sims.train`` is a package: its function is exported as ``train_simsiam``, see below)."""
    out = _fresh(f"import {pkg}.{name}, {pkg}; from {pkg} import {name} as f; "
                 f"print(callable(f), f.__name__, inspect.isfunction({pkg}.{name}))".replace(
                     "import ", "import inspect, ", 1))
    assert out.split() == ["True", name, "True"]


def test_a_package_is_never_shadowed_by_an_export():
    """No exported name equals a sub-package (``import sims.train as t`` must give the package)."""
    import pkgutil

    for pkg in ("dynamics", "symbolic", "figures", "sims"):
        mod = __import__(pkg)
        packages = {i.name for i in pkgutil.iter_modules(mod.__path__) if i.ispkg}
        assert not packages & set(mod.EXPORTS), (pkg, packages & set(mod.EXPORTS))
    out = _fresh("import sims.train as t, sims; print(type(t).__name__, hasattr(t, 'TrainConfig'), "
                 "sims.train_simsiam is t.train)")
    assert out.split() == ["module", "True", "True"]


def test_the_exported_integrate_runs_with_a_parameter_object():
    """Exponential decay of the L2 flow at p0 = 0 neighbourhood checked against the closed form:
    at tau = 0 the L2 reduced flow is pdot = -(1 + sigma2) p^3 - eta p (Tian eq. 16)."""
    import numpy as np

    import dynamics as dy

    params = dy.L2Params(eta=0.1, sigma2=0.5, tau=0.0)
    p0 = np.array([0.3, -0.2])
    run = dy.integrate("l2-byol", params, p0, t_end=5.0, rtol=1e-11, atol=1e-13)
    a, e = 1 + params.sigma2, params.eta
    # Bernoulli equation: 1/p^2 = (1/p0^2 + a/e) e^{2 e t} - a/e
    exact = np.sign(p0) / np.sqrt((1 / p0**2 + a / e) * np.exp(2 * e * 5.0) - a / e)
    assert np.all(run.status == dy.Status.SUCCESS)
    np.testing.assert_allclose(run.final, exact, rtol=1e-8)


def test_lazy_package_binds_the_function_not_its_module():
    """The import system's binding of a loaded submodule is replaced by its function of the same
    name; a submodule without that function (mid-move) stays bound as the module."""
    import types

    from dynamics import LazyPackage

    pkg = LazyPackage("pkgx")
    pkg.EXPORTS = {"step": "pkgx.step:step", "other": "pkgx.other:run"}
    sub = types.ModuleType("pkgx.step")
    sub.step = lambda: "the function"
    pkg.step = sub                      # what importlib does after loading pkgx.step
    assert pkg.step() == "the function"
    bare = types.ModuleType("pkgx.other")
    pkg.other = bare
    assert pkg.other is bare
    unrelated = types.ModuleType("elsewhere.step")
    pkg.step = unrelated                 # not the exported module: bound as given
    assert pkg.step is unrelated


@pytest.mark.parametrize("pkg", ("dynamics", "symbolic", "figures", "sims"))
def test_every_exported_function_has_type_hints(pkg):
    # issue #15: type hints on the public API (py.typed ships with every package)
    mod = importlib.import_module(pkg)
    missing = []
    for name in mod.__all__:
        obj = getattr(mod, name)
        if not inspect.isfunction(obj):
            continue
        sig = inspect.signature(obj)
        bare = [p.name for p in sig.parameters.values()
                if p.annotation is inspect.Parameter.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        if bare or sig.return_annotation is inspect.Signature.empty:
            missing.append(f"{name}({', '.join(bare)}){'' if bare else ' -> ?'}")
    assert not missing, missing
    assert (ROOT / pkg / "py.typed").is_file()
