r"""Models given as SymPy expressions: :func:`register_model` checks them and adds them to the registry table.

Running a user's file (``ssldyn --models FILE``) and repeating its registrations in worker
processes is :mod:`symbolic.model_files`.

Everything a registration accepts is checked there, so that a model either works with every
command or is refused with one line naming the problem:

* ``state`` is a list of SymPy symbols (at most :data:`MAX_STATES`), ``rhs`` a list of one
  expression per state (a SymPy expression, a number, or a string parsed with the state and
  parameter names bound to their symbols: ``'E*p'`` with a parameter ``E`` means that
  parameter, not Euler's number), ``params`` a dict of name -> real number;
* every name is a Python identifier in NFKC normal form (Python folds ``ｍath`` into
  ``math``), not a keyword, not starting with ``_``, not a name the generated code uses
  (:data:`CODE_NAMES`: ``math``, ``np``, ...) nor a command option (:data:`RESERVED`);
* symbols of the same name are one symbol (``Symbol('p')`` and ``Symbol('p', positive=True)``);
* the right-hand sides and their derivatives in the state must print as kernel code (no
  ``Integral``, ``re``, undefined functions).

The analysis of the expressions (the equilibrium polynomial, whether the decay enters
linearly) costs seconds to minutes for a large model; its result is kept in the cache, signed
(:mod:`symbolic.trust`) and keyed by the expressions and this package's source, so it is paid once.

Size: over 400 lines only with the docstrings of its public functions; the code stays under 400.
"""
from __future__ import annotations

import hashlib
import json
import math
from types import MappingProxyType
from typing import Any, Sequence

from .errors import ParameterError
from .params import user_params_class
from .registry import _NAME, _REGISTRY, BUILTIN, RESERVED, ModelSpec, _key
from .trust import private_dir, verify

#: the arguments of every user registration, so worker processes can repeat them
#: (:func:`symbolic.model_files.user_models_state`)
_USER_ARGS: dict = {}
#: the most state variables of a model with compiled kernels: the integration loops unroll each
#: state, and their first compilation grows faster than linearly (8 states: ~35 s, 16: minutes)
MAX_STATES = 8
#: names the generated kernels and loops use (modules, builtins the printer emits, the module
#: constants and functions; their array arguments start with ``_``): a state or parameter may not shadow them
CODE_NAMES = frozenset({
    "math", "np", "numpy", "numba", "njit", "prange", "sympy", "sp", "abs", "min", "max",
    "float", "int", "pow", "round", "complex", "bool", "range", "len", "sum", "rhs", "jac", "rhspoly", "eqpoly",
    "eqpoly_into", "MODEL", "FORM", "CONVENTION", "STATE", "PARAMS", "EQUATIONS", "FASTMATH", "RHSPOLY", "NPOLY",
    "BS", "N_STATE", "N_PARAM", "FM"})


def _check_name(what: str, k) -> str:
    from .derivation import name_problem

    why = name_problem(k)
    if why is None and k.startswith("_"):
        why = "it starts with '_'"
    if why is None and k in CODE_NAMES:
        why = "the generated code uses that name"
    if why is not None:
        raise ParameterError(f"{what} names must be Python identifiers, not starting with '_' nor names of the "
                             f"generated code (math, np, numpy, abs, ...); got {k!r}: {why}")
    return k


def _is_sequence(x) -> bool:
    return isinstance(x, (list, tuple))


def _state(state):
    import sympy as sp

    if not _is_sequence(state):
        raise ParameterError(f"state must be a list of SymPy symbols; got {type(state).__name__}")
    for s in state:
        if not isinstance(s, sp.Symbol):
            raise ParameterError(f"state must be SymPy symbols; got {s!r} ({type(s).__name__})")
        _check_name("state", s.name)
    if not state or len(state) > MAX_STATES:
        raise ParameterError(f"state must have 1 to {MAX_STATES} symbols; got {len(state)}")
    return list(state)


def _params(params) -> dict:
    if not isinstance(params, dict):
        raise ParameterError(f"params must be a dict {{name: default}}; got {type(params).__name__}")
    defaults = {}
    for k, v in params.items():
        k = _check_name("parameter", getattr(k, "name", k))
        if _key(k) in RESERVED:
            raise ParameterError(f"parameter name {k!r} is taken by a command option (--{k.replace('_', '-')}); "
                                 "rename it")
        if isinstance(v, (bool, str, bytes)):
            raise ParameterError(f"the default of parameter {k} must be a number; got {v!r}")
        try:
            v = float(v)
        except (TypeError, ValueError):
            raise ParameterError(f"the default of parameter {k} must be a number; got {v!r}") from None
        if not math.isfinite(v):
            raise ParameterError(f"the default of parameter {k} must be finite; got {v!r}")
        defaults[k] = v
    return defaults


def _rhs(rhs, state, defaults) -> list:
    """The right-hand sides as SymPy expressions in the canonical symbols (one per name)."""
    import sympy as sp

    if not _is_sequence(rhs):
        raise ParameterError(f"rhs must be a list of one SymPy expression per state symbol; got {type(rhs).__name__}"
                             + (" (a dict is read by its keys: pass a list in the order of state)"
                                if isinstance(rhs, dict) else ""))
    if len(rhs) != len(state):
        raise ParameterError(f"rhs must have one expression per state symbol ({len(state)}); got {len(rhs)}")
    canon = {s.name: s for s in state}
    canon.update({k: sp.Symbol(k) for k in defaults})
    out = []
    for s, e in zip(state, rhs):
        if isinstance(e, str):
            try:
                e = sp.parse_expr(e, local_dict=dict(canon))
            except Exception as err:
                raise ParameterError(f"rhs of {s.name} cannot be parsed ({type(err).__name__}); got {e!r}") from None
        elif isinstance(e, (int, float)) and not isinstance(e, bool):
            e = sp.sympify(e)
        if not isinstance(e, sp.Expr) or isinstance(e, sp.MatrixExpr):
            raise ParameterError(f"rhs of {s.name} must be a SymPy expression; got {e!r} ({type(e).__name__})")
        unknown = sorted({x.name for x in e.free_symbols} - set(canon))
        if unknown:
            raise ParameterError(f"rhs uses {', '.join(unknown)}, which are neither state nor params")
        out.append(e.xreplace({x: canon[x.name] for x in e.free_symbols if x != canon[x.name]}))
    return out


def _fingerprint(name, state, rhs, defaults, decay) -> str:
    import sympy as sp

    text = "\n".join([name, *(sp.srepr(s) for s in state), *(sp.srepr(e, order="none") for e in rhs),
                      repr(sorted(defaults.items())), repr(decay)])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _equilibrium_polynomial(p, rhs, defaults):
    """The numerator of ``rhs`` (a polynomial in ``p``) signed so that its sign is the sign of
    ``rhs`` at the defaults, or None when the denominator depends on ``p`` or the numerator is not a
    polynomial in ``p``."""
    import sympy as sp

    if rhs.is_polynomial(*rhs.free_symbols):         # the common case: no together() of a large sum
        return sp.expand(rhs)
    num, den = sp.fraction(sp.together(rhs))
    num = sp.expand(num)
    if p in den.free_symbols or not num.is_polynomial(p):
        return None
    try:
        d0 = float(den.subs({sp.Symbol(k): v for k, v in defaults.items()}))
    except TypeError:
        return None
    if d0 == 0.0 or not math.isfinite(d0):
        return None
    return num if d0 > 0 else sp.expand(-num)


def _decay_is_linear(p, P, rho, defaults) -> bool:
    r"""Whether :math:`P = P_0(p) - D\,\rho\,p` with :math:`D` free of :math:`p`, :math:`\rho`, positive
    at the defaults, and :math:`P_0(0)=0` (the regime machinery of :mod:`dynamics.equilibria`)."""
    import sympy as sp

    dP = sp.expand(sp.diff(P, rho))
    D = sp.cancel(-dP / p)
    if D.free_symbols & {p, rho} or sp.expand(P.subs(p, 0)) != 0:
        return False
    try:
        return float(D.subs({sp.Symbol(k): v for k, v in defaults.items()})) > 0.0
    except TypeError:
        return False


def _check_printable(state, rhs) -> None:
    """ParameterError naming the state whose right-hand side (or a derivative of it) has no kernel
    code (an ``Integral``, ``re`` of a derivative of ``Abs``, an undefined function)."""
    import sympy as sp

    from .printer import NumbaPrinter

    pr = NumbaPrinter()
    for s, e in zip(state, rhs):
        for what, expr in [("", e), *((f" (its derivative in {z.name})", sp.diff(e, z)) for z in state)]:
            try:
                pr.doprint(expr)
            except Exception as err:
                msg = str(err).splitlines()[0] if str(err) else type(err).__name__
                raise ParameterError(f"rhs of {s.name}{what} cannot be compiled: {msg[:200]}") from None


def _analysis(name, state, rhs, defaults, decay, fp) -> tuple:
    """(equilibrium polynomial or None, supports): computed, or read from the signed cache entry."""
    import sympy as sp

    from . import models

    entry = None
    try:
        folder = private_dir(models.cache_dir() / "derivations")
        key = models.fingerprint_hash(fp)
        entry = folder / f"{name}-reduced-analysis-{key}.json"
        obj = json.loads(entry.read_text())
        payload = obj["payload"]
        if verify("derivation:" + entry.name, json.dumps(payload, sort_keys=True).encode(), obj.get("hmac")):
            eq = payload["eqpoly"]
            return (None if eq is None else models.parse_srepr(eq)), frozenset(payload["supports"])
    except (OSError, ValueError, KeyError, TypeError, ParameterError):
        pass
    _check_printable(state, rhs)
    supports = {"eigen"}
    eqpoly = None
    if len(state) == 1:
        supports.add("reduced")
        eqpoly = _equilibrium_polynomial(state[0], rhs[0], defaults)
        if eqpoly is not None and eqpoly.free_symbols <= set(state) | {sp.Symbol(k) for k in defaults} \
                and sp.degree(eqpoly, state[0]) >= 1:
            supports.add("equilibria")
            if decay is not None and _decay_is_linear(state[0], eqpoly, sp.Symbol(decay), defaults):
                supports |= {"regimes", "folds"}
    if entry is not None:
        payload = {"eqpoly": None if eqpoly is None else models._srepr(eqpoly), "supports": sorted(supports)}
        try:
            models.write_text(entry, json.dumps({"hmac": models._payload_hash(payload, entry.name),
                                                 "payload": payload}), name="derivation cache")
        except ParameterError:
            pass
    return eqpoly, frozenset(supports)


def register_model(name: str, state: Sequence[Any], rhs: Sequence[Any], params: dict, decay: str | None = None, *,
                   help: str = "") -> ModelSpec:
    r"""Register a model from SymPy expressions; it then works with every command and function.

    Parameters
    ----------
    name : str
        Lower-case words joined by hyphens (``example-quartic``); not a built-in model's name.
        Registering the same name again replaces the earlier definition.
    state : list of sympy.Symbol
        The state (``[p]``), at most :data:`MAX_STATES` symbols; a one-dimensional state is also
        the reduced form.
    rhs : list of sympy.Expr
        One SymPy expression per state symbol, in the order of ``state``, :math:`\dot y_i`; its
        free symbols must be among ``state`` and ``params``. A string is parsed with those names
        bound to their symbols (``'E*p'`` uses the parameter ``E``).
    params : dict
        ``{name: default}`` for every parameter symbol (identifiers in NFKC normal form, not
        keywords, not starting with ``_``, not a name of the generated code such as ``math`` or
        ``np`` (:data:`CODE_NAMES`) nor of a command option such as ``n`` or ``seed``
        (:data:`RESERVED`)); defaults are finite real numbers.
    decay : str, optional
        The weight-decay parameter (kept in [0, inf)).
    help : str, optional
        One line for ``ssldyn models`` (default ``user model NAME``).

    Returns
    -------
    ModelSpec
        The registered spec: a one-dimensional polynomial right-hand side gains ``equilibria``,
        and a decay entering as :math:`-D\rho p` (:math:`D>0`) also ``regimes`` and ``folds``.

    Raises
    ------
    ParameterError
        For a bad name, a wrong type (a dict or string for ``rhs``, a string default), a symbol
        without a parameter, a reserved or duplicate name, a non-finite default, a ``decay`` that
        is not a parameter (or has a negative default), or a right-hand side with no kernel code
        (an ``Integral``, the derivative of ``Abs``).

    Examples
    --------
    >>> import sympy as sp
    >>> from symbolic import register_model
    >>> p, a, rho = sp.symbols("p a rho")
    >>> spec = register_model("example-quartic", [p], [a * p**3 - p**5 - rho * p], {"a": 1.0, "rho": 0.1}, "rho")
    >>> sorted(spec.supports)[:3]
    ['eigen', 'equilibria', 'folds']
    >>> from dynamics import find_equilibria
    >>> [round(float(x), 4) for x in find_equilibria(spec.params_class()).p]   # 0 and p^2 = (1 +- sqrt(0.6)) / 2
    [-0.942, -0.3357, 0.0, 0.3357, 0.942]
    """
    from .derivation import Derivation

    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ParameterError(f"model name must be lower-case words joined by hyphens (e.g. 'my-model'); got {name!r}")
    if name in BUILTIN:
        raise ParameterError(f"model name {name!r} is a built-in model; choose another name")
    state = _state(state)
    defaults = _params(params)
    names = [s.name for s in state]
    if len(set(names)) != len(names) or set(names) & set(defaults):
        raise ParameterError(f"state and parameter names must be distinct; got state {names}, "
                             f"params {list(defaults)}")
    rhs = _rhs(rhs, state, defaults)
    if decay is not None and decay not in defaults:
        raise ParameterError(f"decay must be one of the parameters ({', '.join(defaults)}); got {decay!r}")
    if decay is not None and defaults[decay] < 0:
        raise ParameterError(f"the default of the decay {decay} must be in [0, inf); got {defaults[decay]!r}")
    if not isinstance(help, str):
        raise ParameterError(f"help must be a string; got {type(help).__name__}")
    fp = _fingerprint(name, state, rhs, defaults, decay)
    eqpoly, supports = _analysis(name, state, rhs, defaults, decay, fp)
    pnames = tuple(defaults)
    table = {s.name: e for s, e in zip(state, rhs)}
    note = f"registered from a user file by symbolic.register_model('{name}')"
    forms = {"eigen": Derivation(name, "eigen", tuple(names), pnames, table, notes=note, decay=decay)}
    if len(state) == 1:
        forms["reduced"] = Derivation(name, "reduced", tuple(names), pnames, table, equilibrium_polynomial=eqpoly,
                                      notes=note, decay=decay)
    spec = ModelSpec(name, MappingProxyType({f: (lambda d=d: d) for f, d in forms.items()}),
                     user_params_class(name, defaults, decay), decay, f"{decay}_c" if decay else None,
                     supports, ("frobenius",), help or f"user model {name}", MappingProxyType({}), fp, True)
    _REGISTRY[name] = spec
    _USER_ARGS[name] = (name, state, rhs, dict(defaults), decay, help)
    return spec
