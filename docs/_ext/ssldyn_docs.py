"""Directives that build pages of the ssldyn documentation from the code, at build time.

* ``.. ssldyn-cli::`` the CLI reference, by walking ``sims.cli.build_parser()`` and its
  subparsers (no hand-written copy);
* ``.. ssldyn-discrepancies::`` every docstring paragraph that documents a discrepancy with a
  paper, with the object it belongs to;
* ``.. ssldyn-trajectory-table::`` the table of ``sims/results/trajectory/*/summary.json``.
"""
from __future__ import annotations

import argparse
import importlib
import inspect
import json
import pkgutil
import re
import sys
from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("symbolic", "dynamics", "sims", "figures")
#: words that mark a paragraph documenting where a paper and the derivation disagree
DISCREPANCY = re.compile(r"discrepanc|\bslip\b|garbled|as printed|prints it inverted|drops the factor|"
                         r"caption drops|sign of the parabola", re.I)


# --- helpers: pure functions of the code -------------------------------------------------------
def subcommands(parser: argparse.ArgumentParser):
    """``[(name, subparser), ...]`` of ``parser``'s subcommands, in the order they are added."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices.items())
    return []


def options(parser: argparse.ArgumentParser):
    """``[(flags, metavar, help, default), ...]`` of ``parser``'s arguments (help suppressed: skipped):
    the help in plain text as ``--help`` shows it, without the default clause ``--help`` appends; the
    default None where the option has none to show (an on/off flag, a None, a required option)."""
    from sims.helptext import default_text, plain_text

    rows = []
    for a in parser._actions:
        if a.help == argparse.SUPPRESS or isinstance(a, argparse._SubParsersAction):
            continue
        flags = ", ".join(a.option_strings) or a.dest
        metavar = ""
        if a.nargs != 0:
            metavar = a.metavar if isinstance(a.metavar, str) else (
                "{" + ",".join(map(str, a.choices)) + "}" if a.choices else (a.dest.upper() if a.option_strings else ""))
        helptext = plain_text(a.help or "").replace(" (default: %(default)s)", "")
        helptext = helptext % {"default": a.default, "prog": parser.prog} if "%(" in helptext else helptext.replace("%%", "%")
        if isinstance(a, argparse.BooleanOptionalAction):
            default = default_text(a)
        else:
            default = (None if a.default in (None, argparse.SUPPRESS, False, [], ()) or a.nargs == 0 or a.required
                       else a.default)
        rows.append((flags, metavar, helptext, default))
    return rows


FLAG = re.compile(r"(?<![\w`-])(--[A-Za-z][\w-]*\w|-[A-Za-z](?![\w(]))")


def flag_nodes(text: str) -> list:
    """Plain text as docutils nodes, each command-line flag (``--t-end``, ``-h``) a literal, so that
    it renders as typed."""
    out = []
    for i, part in enumerate(FLAG.split(text)):
        if part:
            out.append(nodes.literal(text=part) if i % 2 else nodes.Text(part))
    return out


def literal_flags(rst: str) -> str:
    """reStructuredText with each bare flag outside literals, roles and indented (literal) blocks as
    an inline literal: ``--out`` as an inline literal, as typed."""
    def line(text):
        if text.startswith((" ", "\t")):
            return text
        return "".join(part if CODE.fullmatch(part) else FLAG.sub(r"``\1``", part) for part in CODE.split(text))

    return "\n".join(line(t) for t in rst.split("\n"))


def docstring_objects(package: str):
    """``(qualified name, docstring)`` of every module of ``package`` and its top-level functions
    and classes defined there (imports skipped)."""
    pkg = importlib.import_module(package)
    names = [package] + [f"{package}.{m.name}" for m in pkgutil.walk_packages(pkg.__path__, "")
                         if not m.name.startswith("_")]
    for modname in names:
        try:
            mod = importlib.import_module(modname)
        except ImportError:        # an optional dependency (torch) missing: nothing to document
            continue
        yield modname, inspect.getdoc(mod) or ""
        for name, obj in vars(mod).items():
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == modname:
                yield f"{modname}.{name}", inspect.getdoc(obj) or ""


def discrepancy_paragraphs(packages=PACKAGES):
    """``[(qualified name, paragraph), ...]``: docstring paragraphs matching :data:`DISCREPANCY`."""
    out = []
    for package in packages:
        for qual, doc in docstring_objects(package):
            for para in re.split(r"\n\s*\n", doc):
                if DISCREPANCY.search(para):
                    out.append((qual, para.strip()))
    return out


def trajectory_rows(results=ROOT / "sims" / "results" / "trajectory"):
    """Rows of the reference-run table from each ``summary.json`` (sorted by run name)."""
    rows = []
    for path in sorted(results.glob("*/summary.json")):
        s = json.loads(path.read_text())
        tr = s.get("trajectory") or {}
        fmt = lambda v: "" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))  # noqa: E731
        rows.append([path.parent.name, fmt(tr.get("median_rel_err_top8")), fmt(tr.get("max_rel_err_top8")),
                     fmt(tr.get("median_rel_err_mean_surviving")), fmt(tr.get("rel_err_n_phi_final")),
                     fmt(tr.get("rel_err_n_psi_final")),
                     f"{fmt(tr.get('collapsed_measured'))} / {fmt(tr.get('collapsed_predicted'))}",
                     fmt(s.get("final_regime"))])
    return rows


BARS = re.compile(r"\|(?=\S)([^|`\n]*?\S)\|")
CODE = re.compile(r"(``.*?``|`[^`]*`)", re.S)


def escape_bars(text: str) -> str:
    """``|x|`` outside backticks as literal bars: the docstrings write absolute values that way,
    and never use reStructuredText substitutions."""
    return "".join(part if CODE.fullmatch(part) else BARS.sub(r"\|\1\|", part) for part in CODE.split(text))


def _escape_docstring_bars(app, what, name, obj, options, lines):
    lines[:] = escape_bars("\n".join(lines)).split("\n")


# --- docutils node builders ---------------------------------------------------------------------
def _table(header, rows, widths=None):
    table = nodes.table()
    group = nodes.tgroup(cols=len(header))
    table += group
    for w in widths or [1] * len(header):
        group += nodes.colspec(colwidth=w)
    head, body = nodes.thead(), nodes.tbody()
    group += head
    group += body
    for parent, cells in [(head, header)] + [(body, r) for r in rows]:
        row = nodes.row()
        for c in cells:
            entry = nodes.entry()
            entry += c if isinstance(c, nodes.Node) else nodes.paragraph(text=str(c))
            row += entry
        parent += row
    return table


def _section(document, title: str, ident: str):
    sec = nodes.section(ids=[nodes.make_id(ident)], names=[nodes.fully_normalize_name(ident)])
    sec += nodes.title(text=title)
    document.note_implicit_target(sec)
    return sec


def _options_table(parser) -> list:
    """``[table]`` of ``parser``'s arguments (flag and metavar, help with each flag a literal,
    default), or ``[]`` where it has none."""
    rows = []
    for flags, metavar, helptext, default in options(parser):
        shown = default if isinstance(default, str) and default.startswith("--") else repr(default)
        rows.append([nodes.paragraph("", "", nodes.literal(text=f"{flags} {metavar}".strip())),
                     nodes.paragraph("", "", *flag_nodes(helptext)),
                     "" if default is None else nodes.paragraph("", "", nodes.literal(text=shown))])
    return [_table(["argument", "meaning", "default"], rows, [3, 6, 2])] if rows else []


class CliDirective(SphinxDirective):
    """The CLI reference generated from the argparse parser."""

    def run(self):
        from sims.cli import build_parser

        parser = build_parser()
        out = [nodes.literal_block(text=parser.format_usage().strip(), language="none")] + _options_table(parser)
        for name, sub in subcommands(parser):
            sec = _section(self.state.document, f"ssldyn {name}", f"cli-{name}")
            if sub.description:              # the module docstring: reStructuredText, as in the API pages
                text = literal_flags(escape_bars(inspect.cleandoc(sub.description)))
                self.state.nested_parse(StringList(text.splitlines(), source=f"sims.commands ({name})"),
                                        self.content_offset, sec)
            sec += nodes.literal_block(text=sub.format_usage().strip(), language="none")
            sec += _options_table(sub)
            out.append(sec)
        return out


class DiscrepanciesDirective(SphinxDirective):
    """Every docstring paragraph that documents a discrepancy with a paper."""

    def run(self):
        items = nodes.bullet_list()
        context = self.env.ref_context
        before = context.get("py:module")
        for qual, para in discrepancy_paragraphs():
            item = nodes.list_item()
            item += nodes.paragraph("", "", nodes.literal(text=qual))
            # the paragraph's references are relative to the module it was written in
            context["py:module"] = qual if qual in sys.modules else qual.rsplit(".", 1)[0]
            self.state.nested_parse(StringList(escape_bars(para).splitlines(), source=qual), self.content_offset, item)
            items += item
        context.pop("py:module", None) if before is None else context.update({"py:module": before})
        return [items]


class TrajectoryTableDirective(SphinxDirective):
    """The reference trajectory runs, from their ``summary.json``."""

    def run(self):
        header = ["run", "median top-8 err", "max top-8 err", "mean of surviving", "N_Phi final err",
                  "N_Psi final err", "collapsed (train / map)", "final regime"]
        return [_table(header, trajectory_rows())]


def setup(app):
    app.add_directive("ssldyn-cli", CliDirective)
    app.add_directive("ssldyn-discrepancies", DiscrepanciesDirective)
    app.add_directive("ssldyn-trajectory-table", TrajectoryTableDirective)
    app.connect("autodoc-process-docstring", _escape_docstring_bars)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
