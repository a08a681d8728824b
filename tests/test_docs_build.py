"""The documentation site builds with warnings as errors and every gallery example executes.

Run by the test command (so CI, which runs exactly the README's test command, builds the docs);
it needs the ``docs`` extra and is skipped cleanly without sphinx. In its own file so that
pytest-xdist runs it beside the other tests."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sphinx")
pytest.importorskip("sphinx_gallery")
pytest.importorskip("numpydoc")

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_docs_build_with_warnings_as_errors(tmp_path):
    out = tmp_path / "html"
    env = {**os.environ, "MPLBACKEND": "Agg"}
    r = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
                        "-d", str(tmp_path / "doctrees"), str(ROOT / "docs"), str(out)],
                       capture_output=True, text=True, env=env, cwd=ROOT, timeout=1200)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    assert (out / "index.html").is_file()
    examples = sorted((ROOT / "docs" / "examples").glob("*.py"))
    pages = sorted((out / "auto_examples").glob("*.html"))
    assert len(examples) >= 10 and len(pages) >= len(examples), (len(examples), len(pages))
    for ex in examples:                                  # each executed example left its figure
        assert list((out / "_images").glob(f"sphx_glr_{ex.stem}_*.png")), ex.name
    # the equations render offline: MathJax is the docs extra's local copy, not the CDN's
    import importlib.util

    if importlib.util.find_spec("sphinx-mathjax-offline"):
        assert (out / "_static" / "mathjax" / "tex-chtml.js").is_file()
        assert 'src="_static/mathjax/tex-chtml.js"' in (out / "index.html").read_text()
