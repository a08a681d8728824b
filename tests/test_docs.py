"""The documentation's generated parts (docs/_ext/ssldyn_docs.py) and its gallery, checked
without building the site (tests/test_docs_build.py builds it, warnings as errors)."""
import ast
import importlib
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS / "_ext"))

ssldyn_docs = pytest.importorskip("ssldyn_docs")     # needs sphinx (the docs extra)


def test_cli_reference_lists_every_subcommand_and_flag():
    """Against the subcommand modules themselves: each NAME, and every option string its
    add_arguments registers."""
    import argparse

    from sims.cli import build_parser
    from sims.commands import MODULES

    subs = dict(ssldyn_docs.subcommands(build_parser()))
    assert list(subs) == [importlib.import_module(f"sims.commands.{m}").NAME for m in MODULES]
    for m in MODULES:
        mod = importlib.import_module(f"sims.commands.{m}")
        fresh = argparse.ArgumentParser(prog=mod.NAME)
        mod.add_arguments(fresh)
        expected = {s for a in fresh._actions for s in a.option_strings if a.help != argparse.SUPPRESS}
        documented = {s for flags, _, _, _ in ssldyn_docs.options(subs[mod.NAME]) for s in flags.split(", ")}
        assert expected <= documented, (mod.NAME, expected - documented)


def test_option_defaults_are_the_parsers():
    """The documented default of each flag is what argparse fills in when the flag is left out."""
    from sims.cli import build_parser

    subs = dict(ssldyn_docs.subcommands(build_parser()))
    sub = subs["integrate"]
    by_flag = {s: a for a in sub._actions for s in a.option_strings}
    checked = 0
    for flags, _, _, default in ssldyn_docs.options(sub):
        action = by_flag.get(flags.split(", ")[0])
        if action is not None and default is not None:
            assert sub.get_default(action.dest) == default, flags
            checked += 1
    assert checked >= 3


def test_bars_in_docstrings_are_literal_not_substitutions():
    from docutils.core import publish_doctree

    text = "the distance |p - p4|/p4 and ``|q|`` and :math:`|x|`"
    escaped = ssldyn_docs.escape_bars(text)
    assert escaped == r"the distance \|p - p4\|/p4 and ``|q|`` and :math:`|x|`"
    tree = publish_doctree(escaped, settings_overrides={"report_level": 5, "halt_level": 5})
    assert "|p - p4|/p4" in tree.astext()
    assert not list(tree.findall(lambda n: n.tagname in ("problematic", "system_message")))


def test_discrepancies_page_finds_the_documented_slips():
    """Each docstring that the source marks as a slip or a garbled line is collected."""
    found = ssldyn_docs.discrepancy_paragraphs()
    quals = {q for q, _ in found}
    sources = {}
    for pkg in ("symbolic", "dynamics"):
        for f in (ROOT / pkg).glob("*.py"):
            if re.search(r"\bslip\b|garbled", f.read_text()):
                sources[f"{pkg}.{f.stem}"] = f
    assert sources, "the sources mark slips: the check must see some"
    for modname in sources:
        assert any(q == modname or q.startswith(modname + ".") for q in quals), modname
    assert all(ssldyn_docs.DISCREPANCY.search(p) for _, p in found)


def test_trajectory_table_is_the_summaries():
    files = sorted((ROOT / "sims" / "results" / "trajectory").glob("*/summary.json"))
    rows = ssldyn_docs.trajectory_rows()
    assert [r[0] for r in rows] == [f.parent.name for f in files]
    for row, f in zip(rows, files):
        tr = json.loads(f.read_text())["trajectory"]
        assert float(row[1]) == pytest.approx(tr["median_rel_err_top8"], abs=5e-4)
        assert float(row[2]) == pytest.approx(tr["max_rel_err_top8"], abs=5e-4)


ssldyn_api = pytest.importorskip("ssldyn_api")


def test_exports_directive_covers_every_public_name():
    """Every exported function or class of the four packages gets one page, documented at a path
    that leads back to the object; every public name and EXPORTS path is an alias of that path."""
    import inspect

    pages = {public: (obj, documented) for public, obj, _, documented in ssldyn_api.public_objects()}
    aliases = ssldyn_api.aliases()
    seen = {id(obj) for obj, _ in pages.values()}
    for pkg in ("dynamics", "symbolic", "figures", "sims"):
        mod = importlib.import_module(pkg)
        assert set(mod.EXPORTS) == set(mod.__all__)
        assert f"ssldyn-exports:: {pkg}" in (DOCS / "api.rst").read_text()
        for name, path in mod.EXPORTS.items():
            module, _, attr = path.partition(":")
            obj = getattr(importlib.import_module(module), attr)
            assert obj is getattr(mod, name)
            if inspect.isfunction(obj) or inspect.isclass(obj):
                assert id(obj) in seen, f"{pkg}.{name} has no page"
                target = aliases[f"{pkg}.{name}"]
                assert aliases[f"{module}.{attr}"] == target
                home, qual, found = ssldyn_api.locate(target)
                assert found is obj and target == (f"{home}.{qual}" if qual else home), (pkg, name, target)
    for public, (obj, documented) in pages.items():
        text = ssldyn_api.page_text(public, obj, [], documented, [public])
        assert text.startswith(f"{public}\n{'=' * len(public)}\n")
        assert f":: {documented}\n" in text and f".. minigallery:: {public}" in text


def test_locate_names_where_objects_are_defined():
    from dynamics.equilibria import find_equilibria
    assert ssldyn_api.locate("dynamics.find_equilibria") == ("dynamics.equilibria", "find_equilibria", find_equilibria)
    assert ssldyn_api.locate("dynamics.sgd_mean_field.Recipe.lrs")[:2] == ("dynamics.sgd_mean_field", "Recipe")
    assert ssldyn_api.locate("figures.style.save")[:2] == ("figures.style", "save")
    assert ssldyn_api.locate("dynamics.equilibria")[:2] == ("dynamics.equilibria", "")
    assert ssldyn_api.locate("dynamics.no_such_name") is None
    assert ssldyn_api.locate("numpy.ndarray") is None                  # not ours: intersphinx's
    text = ssldyn_api.absolute_roles("see :func:`dynamics.find_equilibria`, :class:`~Recipe` and :func:`nothing`",
                                     "dynamics.sgd_mean_field")
    assert text == ("see :func:`~dynamics.equilibria.find_equilibria`, :class:`~dynamics.sgd_mean_field.Recipe` "
                    "and :func:`nothing`")


def test_flags_become_literals_outside_code():
    text = "use --t-end, -h or ``--out``; beta = -ln(m), non-finite\n\n    ssldyn sweep --merge DIR"
    assert ssldyn_docs.literal_flags(text) == ("use ``--t-end``, ``-h`` or ``--out``; beta = -ln(m), non-finite\n\n"
                                              "    ssldyn sweep --merge DIR")
    parts = ssldyn_docs.flag_nodes("gather DIR into --out (default: none)")
    assert [p.astext() for p in parts] == ["gather DIR into ", "--out", " (default: none)"]
    assert parts[1].tagname == "literal"


def test_intersphinx_inventories_are_local_and_current(tmp_path):
    """conf.py reads every inventory from docs/_intersphinx (no network); each file is what
    make_inventories.py writes, and each entry is an address under its project's base URL."""
    from sphinx.util.inventory import InventoryFile

    ns = {"__file__": str(DOCS / "conf.py")}
    exec(compile((DOCS / "conf.py").read_text(), str(DOCS / "conf.py"), "exec"), ns)  # noqa: S102 - our own config
    assert set(ns["intersphinx_mapping"]) == {"python", "numpy", "scipy", "matplotlib", "torch"}
    sys.path.insert(0, str(DOCS / "_intersphinx"))
    make = importlib.import_module("make_inventories")
    make.main(tmp_path)
    for name, (url, inv) in ns["intersphinx_mapping"].items():
        assert url.startswith("https://") and Path(inv).is_file() and Path(inv).parent == DOCS / "_intersphinx"
        assert Path(inv).read_bytes() == (tmp_path / f"{name}.inv").read_bytes(), f"run make_inventories.py ({name})"
        with open(inv, "rb") as f:
            loaded = InventoryFile.load(f, url, lambda base, uri: base + uri)
        entries = [(kind, key, item) for kind, items in loaded.items() for key, item in items.items()]
        assert len(entries) == len(make.INVENTORIES[name][2])
        for kind, key, item in entries:
            uri = item.uri if hasattr(item, "uri") else item[2]
            assert uri.startswith(url) and " " not in uri, (kind, key, uri)
            if kind.startswith("py:"):
                assert uri.endswith("#" + key), (key, uri)
    assert "python" in make.INVENTORIES and ns["nitpicky"] is True


EXAMPLES = sorted((DOCS / "examples").glob("plot_*.py"))


def test_gallery_has_at_least_ten_examples():
    assert len(EXAMPLES) >= 10


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_gallery_example_is_a_titled_figure_script_on_the_public_api(path):
    """A docstring with a title (sphinx-gallery's), a figure, and only public names of dynamics."""
    import dynamics

    tree = ast.parse(path.read_text())
    doc = ast.get_docstring(tree)
    lines = [ln for ln in doc.splitlines() if ln.strip()]
    assert re.fullmatch(r"=+", lines[1]) and len(lines[1]) >= len(lines[0]), "title underlined"
    used = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)
            and isinstance(n.value, ast.Name) and n.value.id == "dy"}
    assert used, "uses the dynamics API"
    assert used <= set(dynamics.__all__), used - set(dynamics.__all__)
    calls = {n.func.attr for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)}
    assert {"subplots", "show"} <= calls


def test_sweep_config_page_falls_back_to_the_docstring():
    """docs/sweep_config.md when it exists, else the sims.sweep docstring page; never both, never none."""
    conf = (DOCS / "conf.py").read_text()
    ns = {"__file__": str(DOCS / "conf.py")}
    exec(compile(conf, str(DOCS / "conf.py"), "exec"), ns)  # noqa: S102 - our own config
    has_md = (DOCS / "sweep_config.md").exists()
    assert ("sweep_config_docstring.rst" in ns["exclude_patterns"]) == has_md
    assert "sweep_config*" in (DOCS / "index.rst").read_text()


def test_ci_runs_exactly_the_readme_test_command_which_builds_the_docs():
    """The README's test command installs the docs extra; its pytest run builds the site
    (tests/test_docs_build.py, warnings as errors); .ci/run runs exactly that line."""
    readme = (ROOT / "README.md").read_text()
    line = next(ln for ln in readme.splitlines() if ln.rstrip().endswith("# the tests"))
    cmd = line.split("#")[0].strip()
    assert "'.[dev,torch,docs]'" in cmd and cmd.endswith("python -m pytest -q")
    ci = [ln.strip() for ln in (ROOT / ".ci" / "run").read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    steps = [c for c in ci if not c.startswith(("set ", "cd ", "export PYTEST_ADDOPTS="))]   # CI's reports: PYTEST_ADDOPTS
    assert " && ".join(c.replace("python -m pip install -q", "pip install") for c in steps) == cmd
    assert (ROOT / "tests" / "test_docs_build.py").is_file()


# the shared notes lie in shared/theory beside the checkout (or beside a folder above it: a worktree)
SHARED_THEORY = next((p / "shared" / "theory" for p in ROOT.parents if (p / "shared" / "theory").is_dir()),
                     ROOT.parent / "shared" / "theory")


@pytest.mark.skipif(not SHARED_THEORY.is_dir(), reason="the shared theory notes are not on this machine")
@pytest.mark.parametrize("name", ["cosine_simsiam.md", "l2_byol_tian.md", "two_layer_jing.md", "landscape_ziyin.md",
                                  "trajectory_fidelity.md", "recipe_outcome.md"])
def test_theory_pages_are_the_current_notes(name):
    """docs/theory/ holds copies of the shared theory notes: a changed note must be copied again."""
    assert (DOCS / "theory" / name).read_text() == (SHARED_THEORY / name).read_text()


def test_generated_pages_build_without_warnings(tmp_path):
    """The directives in a small Sphinx project, warnings as errors and nitpicky (the full site with its
    gallery is built by CI); the discrepancy paragraphs' :math: roles become math nodes."""
    from sphinx.cmd.build import build_main

    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(
        f"import sys\nsys.path[:0] = [{str(ROOT)!r}, {str(DOCS / '_ext')!r}]\n"
        "extensions = ['sphinx.ext.autodoc', 'sphinx.ext.mathjax', 'numpydoc', 'myst_parser', 'ssldyn_docs',"
        " 'ssldyn_api']\nsmartquotes = False\nssldyn_api_packages = ['sims']\n"
        "numpydoc_show_class_members = False\nautodoc_typehints = 'none'\n")
    (src / "index.rst").write_text("Test\n====\n\n.. toctree::\n\n   cli\n   md\n\n.. ssldyn-trajectory-table::\n\n"
                                   ".. ssldyn-exports:: sims\n")
    (src / "cli.rst").write_text("CLI\n===\n\n.. ssldyn-cli::\n")
    (src / "md.md").write_text("# Discrepancies\n\n```{eval-rst}\n.. ssldyn-discrepancies::\n```\n")
    out = tmp_path / "html"
    assert build_main(["-W", "-n", "-q", "-b", "html", str(src), str(out)]) == 0
    cli = (out / "cli.html").read_text()
    assert "ssldyn integrate" in cli and '<span class="pre">--t-end</span>' in cli
    assert ":math:`" not in cli and "``" not in cli and "\u2013" not in cli     # no raw markup, no en-dash
    assert (out / "generated" / "sims.main.html").is_file()               # one page per public object
    md = (out / "md.html").read_text()
    assert ":math:" not in md and "math notranslate" in md
