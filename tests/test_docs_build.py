"""The documentation site builds with warnings as errors and nitpicky (every cross-reference
resolves), every gallery example executes, and the built pages read as typed: flags with two
hyphens, no raw reStructuredText, every public function or class on a page of its own with a
gallery example or an Examples section, the gallery's code linked to those pages.

Run by the test command (so CI, which runs exactly the README's test command, builds the docs);
it needs the ``docs`` extra and is skipped cleanly without sphinx. In its own file so that
pytest-xdist runs it beside the other tests. One build serves every check (a module fixture)."""
import html
import importlib.util
import os
import re
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest

pytest.importorskip("sphinx")
pytest.importorskip("sphinx_gallery")
pytest.importorskip("numpydoc")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs" / "_ext"))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("docs")
    out = tmp / "html"
    env = {**os.environ, "MPLBACKEND": "Agg"}
    r = subprocess.run([sys.executable, "-m", "sphinx", "-W", "-n", "--keep-going", "-q", "-b", "html",
                        "-d", str(tmp / "doctrees"), str(ROOT / "docs"), str(out)],
                       capture_output=True, text=True, env=env, cwd=ROOT, timeout=1200)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    return out


def visible_text(page: Path) -> str:
    """What a reader sees of a page: its text without tags, scripts and styles, entities decoded."""
    text = re.sub(r"<(script|style)\b.*?</\1>", "", page.read_text(), flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def pages(site: Path):
    """The pages written from our sources (not the highlighted module sources)."""
    return [p for p in site.rglob("*.html") if not {"_modules", "_sources", "_static"} & set(p.relative_to(site).parts)]


@pytest.mark.slow
def test_docs_build_with_warnings_as_errors(site):
    assert (site / "index.html").is_file()
    examples = sorted((ROOT / "docs" / "examples").glob("*.py"))
    built = sorted((site / "auto_examples").glob("*.html"))
    assert len(examples) >= 10 and len(built) >= len(examples), (len(examples), len(built))
    for ex in examples:                                  # each executed example left its figure
        assert list((site / "_images").glob(f"sphx_glr_{ex.stem}_*.png")), ex.name
    # the equations render offline: MathJax is the docs extra's local copy, not the CDN's
    if importlib.util.find_spec("sphinx-mathjax-offline"):
        assert (site / "_static" / "mathjax" / "tex-chtml.js").is_file()
        assert 'src="_static/mathjax/tex-chtml.js"' in (site / "index.html").read_text()


@pytest.mark.slow
def test_pages_show_flags_as_typed_and_no_raw_markup(site):
    """No en-dash where a flag was written (smartquotes), no ``:math:`` role or double backquotes
    left unrendered, on any page; the CLI reference sets every flag as a literal."""
    found = []
    for page in pages(site):
        text = visible_text(page)
        for pattern in ("\u2013[A-Za-z]", "\u2014[A-Za-z]", r":(math|func|class|mod|data|meth|attr|obj):`", "``"):
            for m in re.finditer(pattern, text):
                found.append((str(page.relative_to(site)), text[max(0, m.start() - 30):m.end() + 30]))
    assert not found, found[:10]
    cli = (site / "cli.html").read_text()
    for flag in ("--t-end", "--no-predict", "--out", "--models"):
        assert f'<span class="pre">{flag}</span>' in cli, flag


@pytest.mark.slow
def test_every_public_object_has_a_page_with_an_example(site):
    """One page per exported function or class; each shows the gallery examples that use it
    ("Examples using ...") or, where none does, an Examples section of its docstring."""
    import ssldyn_api

    objects = ssldyn_api.public_objects()
    assert len(objects) > 80
    with_gallery = 0
    for public, _, _, _ in objects:
        page = site / "generated" / f"{public}.html"
        assert page.is_file(), public
        text = page.read_text()
        gallery = "Examples using" in text and "sphx-glr-thumbcontainer" in text
        assert gallery or 'class="rubric">Examples<' in text, public
        with_gallery += gallery
    assert with_gallery >= 20, with_gallery


@pytest.mark.slow
def test_gallery_code_links_to_the_api_and_outside_docs(site):
    """Names in the examples' code link to our API pages; numpy's and matplotlib's through the
    shipped inventories (intersphinx, offline)."""
    linked = set()
    for page in sorted((site / "auto_examples").glob("plot_*.html")):
        text = page.read_text()
        assert 'href="../generated/' in text, page.name
        linked.update(re.findall(r'href="(https://[^"#]+)', text))
    assert any(u.startswith("https://numpy.org/doc/stable/") for u in linked), linked
    assert any(u.startswith("https://matplotlib.org/stable/") for u in linked), linked


@pytest.mark.slow
def test_every_internal_link_and_anchor_exists(site):
    """Each link between the built pages (the highlighted sources included) leads to a page that
    exists and, where it names an anchor, to an element with that id."""
    ids, broken = {}, []
    files = list(site.rglob("*.html"))
    for page in files:
        text = page.read_text()
        ids[page.resolve()] = set(re.findall(r'\bid="([^"]+)"', text))
    for page in files:
        for href in re.findall(r'href="([^"]+)"', page.read_text()):
            href = html.unescape(href)
            if re.match(r"^[a-z]+:|^//", href):
                continue
            path, _, anchor = href.partition("#")
            target = (page.parent / urllib.parse.unquote(path.split("?")[0])).resolve() if path else page.resolve()
            missing_anchor = anchor and target.suffix == ".html" and urllib.parse.unquote(anchor) not in ids.get(target, ())
            if not target.exists() or missing_anchor:
                broken.append((str(page.relative_to(site)), href))
    assert not broken, (len(broken), broken[:10])
