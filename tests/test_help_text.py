r"""``ssldyn --help`` and every ``ssldyn COMMAND --help`` as a terminal shows them: no reStructuredText
markup (the descriptions are the commands' module docstrings, written for the documentation), every
option explained with its default, on/off flags without a misleading ``(default: True)``.

The plain-text spellings are checked against hand-written expectations; the defaults a help states
against what argparse fills in when the option is left out.
"""
from __future__ import annotations

import argparse
import re

import pytest

from sims.cli import build_parser, main
from sims.helptext import HelpFormatter, latex_to_text, plain_text

SKIPPED = (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction)


def parsers() -> list:
    """``[(name, parser), ...]``: ``ssldyn`` itself and each subcommand."""
    top = build_parser()
    sub = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
    return [("ssldyn", top)] + [(f"ssldyn {n}", p) for n, p in sub.choices.items()]


PARSERS = parsers()
IDS = [n for n, _ in PARSERS]


def expanded_help(parser, action) -> str:
    """The help of ``action`` exactly as ``--help`` prints it, on one line."""
    return " ".join(parser._get_formatter()._expand_help(action).split())


# --- the conversion, against hand-written spellings ---------------------------------------------------
@pytest.mark.parametrize("tex, text", [
    (r"\eta_c=\tau^2/(4(1+\sigma^2))", "eta_c=tau^2/(4(1+sigma^2))"),
    (r"t=\sum_k\eta_k(1-\mu^{K-k})/(1-\mu)", "t=sum_k eta_k(1-mu^(K-k))/(1-mu)"),
    (r"\frac{d}{dt}(I)=r\,I", "d/dt(I)=r I"),
    (r"\frac{a+b}{2}", "(a+b)/2"),
    (r"\partial_t p = \dot{p}", "d_t p = p"),
    (r"|\dot p|", "|p|"),
    (r"s-p^2", "s-p^2"),
    (r"\rho\le\rho_c", "rho<=rho_c"),
    (r"\sqrt{1-4\eta(1+\sigma^2)}", "sqrt(1-4 eta(1+sigma^2))"),
    (r"\mathrm{tr}\,\Phi", "tr Phi"),
    (r"N_\Psi \to \infty", "N_Psi -> inf"),
])
def test_latex_to_text(tex, text):
    assert latex_to_text(tex) == text


@pytest.mark.parametrize("rst, text", [
    ("``--t-end`` is ODE time", "--t-end is ODE time"),
    (":mod:`dynamics.time_map` and :func:`~dynamics.regimes.basins`", "dynamics.time_map and basins"),
    (":class:`the result <dynamics.Equilibria>`", "the result"),
    (r"at :math:`\eta_c` (`p`)", "at eta_c (p)"),
    (r"the distance \|p\|", "the distance |p|"),
    ("Run it::\n\n    ssldyn demo", "Run it:\n\n    ssldyn demo"),
    ("Run it ::\n\n    ssldyn demo", "Run it\n\n    ssldyn demo"),
    ("a_b and snake_case_ and it's", "a_b and snake_case_ and it's"),
])
def test_plain_text(rst, text):
    assert plain_text(rst) == text


def test_paragraphs_and_indented_blocks_are_kept():
    parser = argparse.ArgumentParser(prog="x", formatter_class=HelpFormatter,
                                     description="First ``a``\nparagraph.\n\nExample::\n\n    x --a 1   --b 2\n")
    text = parser.format_help()
    assert "First a paragraph.\n\nExample:\n\n    x --a 1   --b 2\n" in text


# --- every command's --help -------------------------------------------------------------------------
MARKUP = re.compile(r"``|:(math|mod|func|class|data|attr|meth|obj|ref|doc|term):`")


@pytest.mark.parametrize("name, parser", PARSERS, ids=IDS)
def test_help_has_no_markup(name, parser):
    text = parser.format_help()
    assert not MARKUP.search(text), (name, MARKUP.search(text).group(0))
    assert "(default: True)" not in text and "(default: False)" not in text, name


@pytest.mark.parametrize("name, parser", PARSERS, ids=IDS)
def test_every_option_has_help_with_its_default(name, parser):
    """Each argument is explained; each option that takes a value and may be left out says what it is
    then (argparse's default, or in words where it is None or depends on another choice)."""
    for action in parser._actions:
        if isinstance(action, SKIPPED):
            continue
        flag = "/".join(action.option_strings) or action.dest
        text = expanded_help(parser, action)
        assert text.strip(), f"{name} {flag}: no help"
        if action.option_strings and action.nargs != 0 and not action.required:
            assert "default" in text, f"{name} {flag}: no default in {text!r}"


def _number(text: str):
    try:
        return float(text)
    except ValueError:
        return None


@pytest.mark.parametrize("name, parser", PARSERS, ids=IDS)
def test_stated_defaults_are_the_parsers(name, parser):
    """A number that a help gives as the default is the value argparse fills in."""
    checked = 0
    for action in parser._actions:
        if isinstance(action, SKIPPED) or not action.option_strings or action.nargs == 0:
            continue
        m = re.search(r"\bdefault:? ([-+0-9.e]+)[),;\s]", expanded_help(parser, action) + " ")
        stated = _number(m.group(1).rstrip(".")) if m else None
        if stated is None or not isinstance(action.default, (int, float)):
            continue
        assert stated == pytest.approx(float(action.default), rel=1e-12), (name, action.option_strings, stated)
        checked += 1
    assert checked or name in ("ssldyn", "ssldyn demo", "ssldyn derive", "ssldyn cache", "ssldyn figure",
                               "ssldyn sweep", "ssldyn equilibria", "ssldyn models"), name


def test_on_off_flags_do_not_claim_true():
    """``--predict``/``--no-predict`` (two store actions on one dest) and a BooleanOptionalAction name
    the flag that is on by default, never a bare True."""
    text = " ".join(dict(PARSERS)["ssldyn validate"].format_help().split())
    assert "--no-predict skip the trajectory prediction --" in text
    parser = argparse.ArgumentParser(prog="x", formatter_class=HelpFormatter)
    parser.add_argument("--fold", action=argparse.BooleanOptionalAction, default=True, help="overlay folds")
    parser.add_argument("--grid", action=argparse.BooleanOptionalAction, default=False, help="draw a grid")
    text = " ".join(parser.format_help().split())
    assert "overlay folds (default: --fold)" in text and "draw a grid (default: --no-grid)" in text
    assert "True" not in text and "False" not in text


def test_integrate_help_shows_its_formula_as_text(capsys):
    """The issue's example: ``integrate --help`` printed the ``:math:`` role raw."""
    with pytest.raises(SystemExit) as e:
        main(["integrate", "--help"])
    assert e.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "(dynamics.time_map: t=sum_k eta_k(1-mu^(K-k))/(1-mu)" in text
    assert "--t-end is ODE time" in text
