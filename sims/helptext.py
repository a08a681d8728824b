r"""``--help`` for the terminal: the subcommands' descriptions are their module docstrings, written in
reStructuredText for the documentation; argparse prints them raw. :func:`plain_text` turns the
markup into what a terminal should show (a ``:math:`` role becomes its formula in ASCII, an inline
literal loses its backquotes), and :class:`HelpFormatter` uses it for descriptions and option help,
keeps paragraphs and indented blocks, and ends each option's help with its default.
"""
from __future__ import annotations

import argparse
import re
import textwrap

#: LaTeX commands with a terminal spelling of their own (any other ``\name`` prints as ``name``)
LATEX_WORDS = {"cdot": "*", "times": "x", "le": "<=", "leq": "<=", "ge": ">=", "geq": ">=", "ne": "!=",
               "neq": "!=", "pm": "+-", "mp": "-+", "infty": "inf", "to": "->", "rightarrow": "->",
               "approx": "~", "sim": "~", "ldots": "...", "dots": "...", "cdots": "...", "in": "in",
               "quad": " ", "qquad": " ", "left": "", "right": "", "big": "", "Big": "", "partial": "d",
               "mid": "|", "lvert": "|", "rvert": "|"}
#: LaTeX commands whose braced argument prints as it is
LATEX_WRAPPERS = ("mathrm", "text", "operatorname", "mathbf", "mathit", "mathcal", "boldsymbol", "textrm",
                  "dot", "hat", "bar", "tilde", "widetilde", "overline", "vec")

_ROLE = re.compile(r":(?:[a-z]+:)?[a-z]+:`([^`]*)`")
_MATH = re.compile(r":math:`([^`]*)`")
_LITERAL = re.compile(r"``(.+?)``", re.S)
_INTERPRETED = re.compile(r"(?<![\w`])`([^`]+)`(?![\w`])")
_BRACED = r"\{([^{}]*)\}"


def _group(term: str) -> str:
    """``term`` in parentheses unless it is one symbol or number."""
    return term if re.fullmatch(r"\\?[\w.]+", term) else f"({term})"


def latex_to_text(tex: str) -> str:
    r"""Plain-text spelling of an inline LaTeX formula.

    ``\frac{a+b}{c}`` -> ``(a+b)/c``, ``\sqrt{x}`` -> ``sqrt(x)``, ``x^{K-k}`` -> ``x^(K-k)``,
    ``\eta`` -> ``eta``, the relations and dots of :data:`LATEX_WORDS` as ASCII, spacing commands
    dropped.

    Parameters
    ----------
    tex : str
        The formula, without ``$`` or the ``:math:`` role around it.

    Returns
    -------
    str
        The formula as a terminal shows it.

    Examples
    --------
    >>> latex_to_text(r"\eta_c=\tau^2/(4(1+\sigma^2))")
    'eta_c=tau^2/(4(1+sigma^2))'
    >>> latex_to_text(r"t=\sum_k\eta_k(1-\mu^{K-k})/(1-\mu)")
    't=sum_k eta_k(1-mu^(K-k))/(1-mu)'
    >>> latex_to_text(r"\frac{d}{dt}(I)=r\,I")
    'd/dt(I)=r I'
    >>> latex_to_text(r"p_\pm=\frac{\tau\pm\sqrt{\tau^2-4\eta}}{2(1+\sigma^2)}")
    'p_+-=(tau+-sqrt(tau^2-4 eta))/(2(1+sigma^2))'
    """
    s = re.sub(r"\\[,;:! ]", " ", tex)
    s = s.replace(r"\|", "||").replace(r"\{", "(").replace(r"\}", ")")
    structural = ("frac", "sqrt") + LATEX_WRAPPERS

    out, pos = [], 0                                      # \sum_k\eta_k -> sum_k eta_k, \tau\pm -> tau+-
    for m in re.finditer(r"\\([A-Za-z]+)", s):
        out.append(s[pos:m.start()])
        name, pos = m.group(1), m.end()
        word = m.group(0) if name in structural else LATEX_WORDS.get(name, name)
        glued = "".join(out)[-1:].isalnum() and word[:1].isalpha()
        out.append(" " + word if glued else word)
    s = "".join(out) + s[pos:]
    while True:                                           # innermost braces first
        before = s
        s = re.sub(r"\\frac\s*" + _BRACED + r"\s*" + _BRACED, lambda m: f"{_group(m.group(1))}/{_group(m.group(2))}", s)
        s = re.sub(r"\\sqrt\s*" + _BRACED, r"sqrt(\1)", s)
        s = re.sub(r"\\(?:" + "|".join(LATEX_WRAPPERS) + r")\s*" + _BRACED, r"\1", s)
        s = re.sub(r"([_^])" + _BRACED, lambda m: m.group(1) + _group(m.group(2)), s)
        if s == before:                                   # no command left around braces: drop them
            s = re.sub(_BRACED, r"\1", s)
            if s == before:
                break
    s = re.sub(r"\\(?:" + "|".join(LATEX_WRAPPERS) + r")\b\s*", "", s)      # an accent without braces: \dot p
    return re.sub(r"[ \t]{2,}", " ", s).strip()


def plain_text(rst: str) -> str:
    r"""The reStructuredText of a docstring as plain text for a terminal.

    Roles lose their markup (``:func:`~a.b``` -> ``b``, ``:mod:`a.b``` -> ``a.b``, a target in
    ``<...>`` dropped), ``:math:`` becomes :func:`latex_to_text`, inline literals and
    interpreted text lose their backquotes, ``\|`` is a bar and a paragraph's closing ``::`` is
    one colon. Line breaks and indentation are kept.

    Parameters
    ----------
    rst : str
        reStructuredText (a module docstring, an option's help).

    Returns
    -------
    str
        The text without markup.

    Examples
    --------
    >>> plain_text(r"``--t-end`` is ODE time (:mod:`dynamics.time_map`: :math:`t=\eta K`)")
    '--t-end is ODE time (dynamics.time_map: t=eta K)'
    >>> plain_text(":func:`~dynamics.regimes.basins` and :class:`the result <dynamics.Equilibria>`")
    'basins and the result'
    """
    s = _MATH.sub(lambda m: latex_to_text(m.group(1)), rst)

    def role(m):
        target = m.group(1)
        label = re.match(r"(.*?)\s*<[^<>]*>$", target, re.S)
        if label and label.group(1):
            return label.group(1)
        target = target.lstrip("!")
        return target.rsplit(".", 1)[-1] if target.startswith("~") else target

    s = _ROLE.sub(role, s)
    s = _LITERAL.sub(r"\1", s)
    s = _INTERPRETED.sub(r"\1", s)
    s = s.replace("\\|", "|")
    return re.sub(r"(\S)::$", r"\1:", re.sub(r"\s+::$", "", s, flags=re.M), flags=re.M)


def default_text(action: argparse.Action) -> str | None:
    """The default an option's help states, or None where it states none: an on/off flag (store_true,
    store_false; a ``--x/--no-x`` pair names the one that is the default), a positional, a value of None
    or an empty list (an option given any number of times) or a help that already says it."""
    if isinstance(action, argparse.BooleanOptionalAction):
        if action.default is None or action.default is argparse.SUPPRESS:
            return None
        on, off = (s for s in action.option_strings if not s.startswith("--no-")), \
            (s for s in action.option_strings if s.startswith("--no-"))
        return next(on if action.default else off, None)
    if (action.nargs == 0 or not action.option_strings or action.default in (None, argparse.SUPPRESS, [], ())
            or "default" in (action.help or "")):
        return None
    return "%(default)s"


def option_help(action: argparse.Action) -> str:
    """An option's help as written, in plain text, with the default clause of :func:`default_text` (unexpanded
    ``%(...)s`` placeholders, as argparse wants them)."""
    text = plain_text(action.help or "")
    if isinstance(action, argparse.BooleanOptionalAction):   # 3.9-3.12 append "(default: %(default)s)" themselves
        text = text.replace(" (default: %(default)s)", "")
    default = default_text(action)
    return f"{text} (default: {default})" if default else text


class HelpFormatter(argparse.HelpFormatter):
    """Help as a terminal should show it: descriptions and option help without reStructuredText markup
    (:func:`plain_text`), paragraphs and indented blocks (usage examples) kept, every option's help
    ending with its default (:func:`option_help`)."""

    def _get_help_string(self, action):
        return option_help(action)

    def _fill_text(self, text, width, indent):
        paragraphs = re.split(r"\n\s*\n", textwrap.dedent(plain_text(text)).strip("\n"))
        out = []
        for para in paragraphs:
            if para.startswith((" ", "\t")):                  # an indented block: printed as written
                out.append("\n".join(indent + line for line in para.splitlines()))
            else:
                out.append(textwrap.fill(" ".join(para.split()), width, initial_indent=indent,
                                         subsequent_indent=indent))
        return "\n\n".join(out)
