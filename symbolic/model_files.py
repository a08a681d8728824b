r"""Models from a user's own file: ``ssldyn --models FILE`` runs it (:func:`load_model_file`), and
worker processes repeat the registrations of this one (:func:`user_models_state`,
:func:`restore_user_models`).

The registration itself (checks, analysis) is :func:`symbolic.user_models.register_model`; the
table it adds to is :mod:`symbolic.registry`.
"""
from __future__ import annotations

import os

from .errors import ParameterError
from .registry import specs
from .user_models import _USER_ARGS, _fingerprint, register_model


def user_models_state() -> tuple:
    """The user registrations of this process, picklable (SymPy objects pickle), for workers."""
    return tuple(_USER_ARGS.values())


def restore_user_models(state) -> None:
    """Repeat the registrations of :func:`user_models_state` (in a worker process)."""
    known = {s.name: s.fingerprint for s in specs()}
    for name, st, rhs, defaults, decay, help in state or ():
        if known.get(name) != _fingerprint(name, st, rhs, defaults, decay):
            register_model(name, st, rhs, defaults, decay, help=help)


def load_model_file(path: str | os.PathLike) -> tuple[str, ...]:
    """Run the user's Python file ``path`` (it calls :func:`register_model`); returns the names it
    registered. This runs the user's own code, as ``python FILE`` would: only files the user names.

    The file is decoded as Python decodes source (a UTF-8 byte-order mark, a ``coding:`` line).
    Raises ParameterError when the file cannot be read or decoded, or raises while it runs, any
    exception including ``SystemExit`` (the message names the file, the line and the error).

    Parameters
    ----------
    path : str or os.PathLike
        A regular file of Python source (``ssldyn --models FILE.py``).

    Returns
    -------
    tuple of str
        The names of the models the file registered or replaced, in registration order.

    Raises
    ------
    ParameterError
        If ``path`` is not a regular file or cannot be decoded, or the file raises while it runs
        (a ParameterError of :func:`register_model`, a ``SystemExit`` included), naming the file
        and the line.

    Examples
    --------
    >>> import os, tempfile
    >>> from symbolic import load_model_file
    >>> source = ("import sympy as sp\\nfrom symbolic import register_model\\n"
    ...           "p, k = sp.symbols('p k')\\n"
    ...           "register_model('example-logistic', [p], [k * p * (1 - p)], {'k': 1.0})\\n")
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, "models.py")
    ...     with open(path, "w") as f:
    ...         _ = f.write(source)
    ...     load_model_file(path)
    ('example-logistic',)
    >>> load_model_file("no-such-file.py")
    Traceback (most recent call last):
    ...
    symbolic.errors.ParameterError: --models must be a Python file; got 'no-such-file.py', which is not a regular file
    """
    import importlib.util
    import traceback

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ParameterError(f"--models must be a Python file; got {path!r}, which is not a regular file")
    try:
        with open(path, "rb") as f:
            source = importlib.util.decode_source(f.read())
    except OSError as e:
        raise ParameterError(f"--models file {path!r} cannot be read ({e.strerror or e})") from None
    except (SyntaxError, UnicodeDecodeError, LookupError) as e:
        raise ParameterError(f"--models file {path!r} cannot be decoded as Python source "
                             f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})") from None
    before = {s.name: s for s in specs()}
    try:
        code = compile(source, path, "exec", dont_inherit=True)
        exec(code, {"__name__": "__ssldyn_models__", "__file__": path})     # the user's own file, by request
    except ParameterError as e:
        raise ParameterError(f"--models {path}: {e}") from None
    except KeyboardInterrupt:
        raise
    except BaseException as e:     # SystemExit and the like: one line, exit 2, never a silent exit
        tb = [f for f in traceback.extract_tb(e.__traceback__) if f.filename == path]
        where = f" line {tb[-1].lineno}" if tb else (f" line {e.lineno}" if isinstance(e, SyntaxError) else "")
        text = " ".join(str(e).split())[:300]
        what = f"{type(e).__name__}({text})" if isinstance(e, SystemExit) else f"{type(e).__name__}: {text}"
        raise ParameterError(f"--models {path}{where}: {what}" + (" (a models file must not exit)"
                                                                   if isinstance(e, SystemExit) else "")) from None
    return tuple(s.name for s in specs() if s is not before.get(s.name))
