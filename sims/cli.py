"""``ssldyn``: argument parsing and error reporting only; each subcommand lives in sims.commands.

Bad input of any kind ends with one line ``ssldyn: error: <message>`` on stderr and exit status 2
(as argparse does for usage errors), never a traceback.
"""
from __future__ import annotations

import argparse
import importlib
import re
import sys

from symbolic.errors import ParameterError

from .commands import MODULES


class Parser(argparse.ArgumentParser):
    """ArgumentParser whose usage errors are a single line and exit 2."""

    def error(self, message):  # noqa: D401 - argparse API
        sys.stderr.write(f"ssldyn: error: {message}\n")
        raise SystemExit(2)


def build_parser() -> Parser:
    parser = Parser(prog="ssldyn", description="Learning dynamics of self-supervised learning: "
                    "derive the eigenvalue ODEs, integrate them, find regimes and bifurcations.")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    for name in MODULES:
        mod = importlib.import_module(f"sims.commands.{name}")
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=getattr(mod, "__doc__", None))
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def _version() -> str:
    try:
        from importlib.metadata import version
        return version("ssldyn")
    except Exception:  # pragma: no cover - running from a source tree
        return "unknown"


def _join_negative_values(argv):
    """``--p0 -2:1.5:64`` -> ``--p0=-2:1.5:64``: argparse would read a value that starts with '-'
    and is not a plain number as an option."""
    out, i = [], 0
    while i < len(argv):
        a = argv[i]
        if (a.startswith("--") and "=" not in a and i + 1 < len(argv)
                and re.match(r"^-(\d|\.\d|inf|nan)", argv[i + 1])):
            out.append(f"{a}={argv[i + 1]}")
            i += 2
            continue
        out.append(a)
        i += 1
    return out


def main(argv=None) -> int:
    parser = build_parser()
    argv = _join_negative_values(list(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(argv)
    try:
        code = args._run(args)
    except ParameterError as e:
        sys.stderr.write(f"ssldyn: error: {e}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("ssldyn: interrupted\n")
        return 130
    return int(code or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
