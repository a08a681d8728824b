"""``ssldyn``: argument parsing and error reporting only; each subcommand lives in sims.commands.

Bad input of any kind ends with one line ``ssldyn: error: <message>`` on stderr and exit status 2
(as argparse does for usage errors), never a traceback.
"""
from __future__ import annotations

import argparse
import errno
import importlib
import os
import re
import sys
from collections.abc import Sequence

from symbolic.errors import ParameterError
from symbolic.files import Terminated

from .commands import MODULES
from .helptext import HelpFormatter


class Parser(argparse.ArgumentParser):
    """ArgumentParser whose usage errors are a single line and exit 2."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        kwargs.setdefault("allow_abbrev", False)          # --rh is not --rho: a later flag --rh... would change it
        super().__init__(*args, **kwargs)

    def error(self, message):  # noqa: D401 - argparse API
        sys.stderr.write(f"ssldyn: error: {message}\n")
        raise SystemExit(2)


def build_parser() -> Parser:
    """The ``ssldyn`` argument parser: the global options and one subcommand per module of
    ``sims.commands``.

    Models registered before the call (``--models FILE`` files, :func:`symbolic.register_model`)
    get their parameters as flags of the subcommands, so :func:`main` loads those files first.

    Returns
    -------
    Parser
        An ``argparse.ArgumentParser`` whose usage errors write one line ``ssldyn: error: ...`` to
        stderr and raise ``SystemExit(2)``; the parsed namespace holds the subcommand's name in
        ``command`` and each model parameter ``--X`` as ``param_X``.

    See Also
    --------
    main : parse and run a command line, returning its exit status.

    Examples
    --------
    >>> from sims import build_parser
    >>> args = build_parser().parse_args(["equilibria", "--model", "l2-byol", "--eta", "0.1"])
    >>> args.command, args.model, args.param_eta
    ('equilibria', 'l2-byol', 0.1)
    """
    parser = Parser(prog="ssldyn", description="Learning dynamics of self-supervised learning: "
                    "derive the eigenvalue ODEs, integrate them, find regimes and bifurcations.")
    parser.add_argument("--version", action="version", version=_version())
    parser.add_argument("--models", action="append", default=[], metavar="FILE.py",
                        help="a Python file that registers models with symbolic.register_model(name, state=[p], "
                             "rhs=[expr], params={...}, decay=...); they then work with every command "
                             "(may be given more than once; the file runs as your own code) (default: none)")
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


def load_models(argv) -> None:
    """Run the ``--models FILE`` files named before the subcommand (their models must exist
    before the parser is built: each model parameter becomes a flag)."""
    from symbolic.model_files import load_model_file

    from .commands import MODULES

    names = {importlib.import_module(f"sims.commands.{m}").NAME for m in MODULES}
    i = 0
    while i < len(argv) and argv[i] not in names:
        a = argv[i]
        if a == "--models" and i + 1 < len(argv):
            load_model_file(argv[i + 1])
            i += 2
            continue
        if a.startswith("--models="):
            load_model_file(a.split("=", 1)[1])
        i += 1


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


#: subcommand -> what its --out names when given: a file written whole or a folder written into
#: (sweep: a folder, a file with --merge). --plot is always a file.
OUT_KINDS = {"integrate": "file", "bifurcation": "file", "regime-map": "file", "demo": "dir",
             "figure": "dir", "validate": "dir", "sweep": "dir", "outcome-map": "file", "predict": "dir"}


#: subcommand -> the suffixes its --out file may have (the suffix decides the format)
OUT_SUFFIXES = {"integrate": ("npz", "nc"), "bifurcation": ("npz",), "regime-map": ("npz",), "sweep": ("npz", "nc"),
                "outcome-map": ("npz",)}


def check_outputs(args) -> None:
    """Refuse, before any work, every output path that could not be written, whose writing would
    replace something that is not a regular file (a fifo, a device, a symbolic link), whose suffix
    is not a format the command writes, that two flags share, or (``sweep --merge``) that lies
    inside the folder being merged."""
    from .commands._paths import PLOT_FORMATS, check_distinct, check_output_path, check_suffix

    kind = OUT_KINDS.get(args.command)
    merging = args.command == "sweep" and getattr(args, "merge", None)
    if merging:
        kind = "file"
    out = getattr(args, "out", None)
    if kind and out is not None:
        check_output_path("--out", out, kind)
        if kind == "file" and args.command in OUT_SUFFIXES:
            check_suffix("--out", out, OUT_SUFFIXES[args.command])
    if merging:
        from .sweep.merge import check_merge_paths

        check_merge_paths(args.merge, out)
    plot = getattr(args, "plot", None)
    if plot is not None:
        check_output_path("--plot", plot, "file")
        check_suffix("--plot", plot, PLOT_FORMATS)
        check_distinct({"--out": out, "--plot": plot})


def check_options(parser, args, argv) -> set:
    """Refuse an option given twice that keeps only its last value (``--model a --model b``), and
    options that contradict each other (a sweep config with ``--merge``; more than one of
    ``--workers``, ``--dask-local`` and ``--scheduler``)."""
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[args.command]
    start = argv.index(args.command) + 1 if args.command in argv else 0
    seen = set()
    for token in argv[start:]:
        if token == "--":
            break
        flag = token.split("=", 1)[0]
        action = sub._option_string_actions.get(flag)
        if action is None or isinstance(action, (argparse._AppendAction, argparse._CountAction,
                                                 argparse._AppendConstAction, argparse._HelpAction)):
            continue
        if action.dest in seen:
            raise ParameterError(f"{flag} is given more than once; give it once")
        seen.add(action.dest)
    if args.command == "sweep":
        if args.merge is not None and args.config is not None:
            raise ParameterError(f"config and --merge exclude each other: --merge gathers a finished sweep; "
                                 f"got config {args.config!r} and --merge {args.merge!r}")
        given = [f for f, v in (("--workers", args.workers), ("--dask-local", args.dask_local),
                                ("--scheduler", args.scheduler)) if v is not None]
        if len(given) > 1:
            raise ParameterError(f"{' and '.join(given)} exclude each other (each picks where the chunks run); "
                                 "give one")
        if args.merge is not None and given:
            raise ParameterError(f"{given[0]} does not apply to --merge (nothing is computed); drop it")
    return seen


def check_inputs(args) -> None:
    """Refuse a sweep config that is not a regular file (a fifo would block the read forever)
    and a --merge that is not a folder, before any work."""
    from .commands._paths import check_input_file

    if args.command == "sweep":
        if args.config is not None:
            check_input_file("config", args.config)
            from .sweep.config import MAX_CONFIG_BYTES

            if os.path.getsize(args.config) > MAX_CONFIG_BYTES:
                raise ParameterError(f"config is {os.path.getsize(args.config)} bytes, more than {MAX_CONFIG_BYTES}; "
                                     f"got {args.config!r}")
            try:
                with open(args.config, "rb") as f:
                    f.read().decode("utf-8")
            except UnicodeDecodeError as e:
                raise ParameterError(f"config must be UTF-8 text; got {args.config!r} (byte {e.start}: {e.reason})") from None
        if args.merge is not None and not os.path.isdir(args.merge):
            raise ParameterError(f"--merge must be a sweep folder; got {args.merge!r}, which is not a folder")


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush cannot fail again
    (the recipe of the Python docs for SIGPIPE)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):   # stdout without a file descriptor (tests)
        pass
    sys.stdout = open(os.devnull, "w")    # noqa: SIM115  (stdout for the rest of the process)


def _os_message(e: OSError) -> str:
    """``'PATH': strerror`` (both paths for a rename), or the strerror alone."""
    what = e.strerror or str(e) or type(e).__name__
    names = [repr(os.fsdecode(f)) for f in (e.filename, e.filename2) if f is not None]
    if names:
        return f"{' -> '.join(names)}: {what}"
    if e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return f"writing output: {what}"
    return what


def _error(msg: str) -> int:
    sys.stderr.write(f"ssldyn: error: {' '.join(str(msg).split())}\n")
    return 2


def _run_warning_lines(args) -> int:
    """Run the command; an option it ignored (:class:`symbolic.errors.IgnoredOptionWarning`) is
    one line ``ssldyn: warning: ...`` on stderr after its output; other warnings show as usual."""
    import warnings

    from symbolic.errors import IgnoredOptionWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", IgnoredOptionWarning)
        code = int(args._run(args) or 0)
    for w in caught:
        if issubclass(w.category, IgnoredOptionWarning):
            sys.stderr.write(f"ssldyn: warning: {w.message}\n")
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    r"""Run ``ssldyn`` with ``argv``; returns the exit status (0, or 2 after one error line).

    Usage errors raise ``SystemExit(2)`` after one line (argparse's convention), ``--help`` and
    ``--version`` ``SystemExit(0)``. A closed stdout (``ssldyn ... | head -c1``) ends quietly with 0.
    Any other exception is a bug: one line ``ssldyn: internal error: ...`` and exit 2, or the
    traceback with ``SSLDYN_TRACEBACK=1``.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after the program name, e.g. ``["equilibria", "--model", "l2-byol"]``;
        ``None`` reads ``sys.argv[1:]``.

    Returns
    -------
    int
        0 on success; 2 after one line ``ssldyn: error: <message>`` on stderr (bad input of any
        kind: a parameter out of range, an unreadable or malformed file) or when a command reports
        a failure; 130 after a Ctrl-C; 143 after a SIGTERM that arrived while a file was being
        written (its temporary file removed; at any other moment SIGTERM ends the process at once).

    Raises
    ------
    SystemExit
        ``SystemExit(2)`` for a usage error (an unknown option or subcommand, a missing argument),
        after one line on stderr; ``SystemExit(0)`` after ``--help`` or ``--version``.

    See Also
    --------
    build_parser : the parser alone.

    Examples
    --------
    The equilibria of the L2 model at its default parameters (:math:`\eta=0.05`, :math:`\sigma^2=0.5`,
    :math:`\tau=1`): 0 and the roots :math:`(1\pm\sqrt{1-4\eta(1+\sigma^2)})/(2(1+\sigma^2))`, below
    :math:`\eta_c=\tau^2/(4(1+\sigma^2))=1/6`:

    >>> from sims import main
    >>> main(["equilibria", "--model", "l2-byol"])
    l2-byol at eta=0.05, sigma2=0.5, tau=1, alpha_p=1, beta=0
    defaults used: eta=0.05, sigma2=0.5, tau=1, alpha_p=1, beta=0
    regime: Acute; eta_c = 0.166666666667
      p =  0   stable
      p =  0.05444665...   unstable
      p =  0.61222000...   stable
    0

    Bad input is one line on stderr and status 2, never a traceback:

    >>> import contextlib, io
    >>> err = io.StringIO()
    >>> with contextlib.redirect_stderr(err):
    ...     code = main(["equilibria", "--model", "l2-byol", "--eta", "-1"])
    >>> code, err.getvalue()
    (2, 'ssldyn: error: eta must be in [0, inf); got -1.0\n')
    """
    import json
    import pickle
    import tomllib
    import zipfile

    command = "ssldyn"
    try:
        argv = _join_negative_values(list(sys.argv[1:] if argv is None else argv))
        load_models(argv)
        parser = build_parser()
        args = parser.parse_args(argv)
        command = f"ssldyn {args.command}"
        args._given, args._argv = check_options(parser, args, argv), tuple(argv)   # what an output records
        check_inputs(args)
        check_outputs(args)
        code = _run_warning_lines(args)
        sys.stdout.flush()
        return 2 if code else 0          # a command's failure status (figure: some failed) is 2
    except SystemExit:
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            _silence_stdout()
        except OSError as e:
            _silence_stdout()
            return _error(f"stdout: {_os_message(e)}")
        raise
    except ParameterError as e:
        return _error(e)
    except Terminated:
        sys.stderr.write("ssldyn: terminated\n")
        return 143
    except KeyboardInterrupt:
        sys.stderr.write("ssldyn: interrupted\n")
        return 130
    except RecursionError:
        return _error(f"an input file is nested too deeply for {command} (JSON or TOML nested thousands deep)")
    except BrokenPipeError:
        _silence_stdout()
        return 0
    except MemoryError as e:
        return _error(f"not enough memory for {command}" + (f" ({e})" if str(e) else "")
                      + "; use smaller sizes")
    except OSError as e:
        try:
            sys.stdout.flush()
        except OSError:
            _silence_stdout()
        return _error(_os_message(e))
    except UnicodeDecodeError as e:
        return _error(f"an input file is not UTF-8 text ({e.reason} at byte {e.start})")
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as e:
        return _error(f"an input file is malformed: {e}")
    except (zipfile.BadZipFile, pickle.UnpicklingError, EOFError) as e:
        return _error(f"an input file is damaged or truncated: {type(e).__name__}: {e}")
    except Exception as e:  # a bug: say so in one line (the fuzz test fails on it)
        if os.environ.get("SSLDYN_TRACEBACK"):
            raise
        sys.stderr.write(f"ssldyn: internal error: {type(e).__name__}: {' '.join(str(e).split())} "
                         "(please report it; SSLDYN_TRACEBACK=1 shows the traceback)\n")
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
