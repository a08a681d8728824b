"""The result of a derivation: right-hand sides as SymPy expressions, plus what was proved.

A :class:`Derivation` is plain data: which model and form, the state and parameter names (in
the order the generated kernels take them), one right-hand side per state variable, the
invariants found on the way, and for scalar forms the polynomial whose real roots are the
equilibria. ``to_json`` gives the CLI's JSON object.
"""
from __future__ import annotations

import keyword
import re
import unicodedata
from dataclasses import dataclass, field

import sympy as sp

FORMS = ("matrix", "eigen", "reduced")
_MODEL = re.compile(r"[A-Za-z0-9_-]+")


def name_problem(name) -> str | None:
    """Why ``name`` cannot be a symbol of a derivation (its generated code and printed forms use
    names as Python identifiers), or None: it must be a ``str``, an identifier, its own NFKC
    normal form (Python's parser folds ``ｍath`` into ``math``) and not a keyword.

    Examples
    --------
    >>> from symbolic.derivation import name_problem
    >>> name_problem("sigma2") is None, name_problem("lambda"), name_problem("\uff4dath")
    (True, 'a Python keyword', "not in NFKC normal form (Python reads it as 'math')")
    """
    if not isinstance(name, str):
        return f"not a string ({type(name).__name__})"
    if not name.isidentifier():
        return "not a Python identifier"
    norm = unicodedata.normalize("NFKC", name)
    if norm != name:
        return f"not in NFKC normal form (Python reads it as {norm!r})"
    if keyword.iskeyword(name):
        return "a Python keyword"
    return None


def check_names(what: str, names) -> None:
    """ValueError naming the first of ``names`` that :func:`name_problem` refuses."""
    for n in names:
        why = name_problem(n)
        if why is not None:
            raise ValueError(f"{what} names must be Python identifiers; got {n!r}: {why}")

#: LaTeX for symbol names SymPy would otherwise render literally (sigma2 -> sigma_2, lam -> lam)
_LATEX_NAMES = {"sigma2": r"\sigma^{2}", "lam": r"\lambda", "alpha_p": r"\alpha_{p}",
                **{f"Sigma_p{m}s2": rf"\Sigma_{{p^{m}s^2}}" for m in range(5)}}


def latex(expr) -> str:
    """``sympy.latex`` with the project's symbol names (``sigma2`` prints as :math:`\\sigma^2`)."""
    names = {s: _LATEX_NAMES[s.name] for s in getattr(expr, "free_symbols", ()) if s.name in _LATEX_NAMES}
    return sp.latex(expr, symbol_names=names).replace("+ -", "-")


def latex_name(name: str) -> str:
    r"""A state or parameter name as LaTeX: ``tau`` -> ``\tau``, ``Phi`` -> ``\Phi``,
    ``sigma_1`` -> ``\sigma_{1}``, ``W_p`` -> ``W_{p}``."""
    if name in _LATEX_NAMES:
        return _LATEX_NAMES[name]
    base, _, sub = name.partition("_")
    head = sp.latex(sp.Symbol(base))
    return f"{head}_{{{sp.latex(sp.Symbol(sub))}}}" if sub else head


def dot_name(name: str) -> str:
    r"""Time derivative of a state name: ``\dot{\tau}``, ``\dot{\Phi}``, ``\dot{\sigma}_{1}``."""
    base, _, sub = name.partition("_")
    head = rf"\dot{{{latex_name(base)}}}"
    return f"{head}_{{{sp.latex(sp.Symbol(sub))}}}" if sub else head


#: simplification is tried on expressions up to this many operations (larger ones, e.g. the
#: delta-method model's, take seconds to tens of seconds and come out no shorter)
_CHEAP_OPS = 100


def readable(expr, decay: str | None = None):
    """The simplest (fewest operations, then shortest LaTeX) among ``expr``, ``sympy.factor``, ``sympy.simplify`` and, with ``decay``,
    the decay term split off (:math:`-\\rho p+\\dots`), each factored; ``expr`` itself when it is
    large or a matrix expression."""
    if isinstance(expr, sp.MatrixExpr) or not isinstance(expr, sp.Expr) or sp.count_ops(expr) > _CHEAP_OPS:
        return expr
    cands = [expr, sp.factor(expr), sp.simplify(expr)]
    rho = next((x for x in expr.free_symbols if x.name == decay), None)
    if rho is not None:
        parts = sp.collect(sp.expand(expr), rho, evaluate=False)
        if set(parts) <= {rho, sp.S.One}:
            cands.append(sp.Add(*[sp.factor(c) * k for k, c in parts.items()]))
    return min(cands, key=lambda e: (sp.count_ops(e), len(latex(e))))


@dataclass(frozen=True, eq=False)
class Derivation:
    r"""A model's form as SymPy: state and parameter names, right-hand sides, invariants.

    Plain data (the module docstring): :func:`symbolic.models.derive` builds it and caches it on
    disk; :mod:`symbolic.codegen` prints its kernels; ``latex()``, ``python()`` and ``to_json()``
    give the CLI's outputs (``ssldyn derive``).

    Parameters
    ----------
    model : str
        The registered model name.
    form : {'matrix', 'eigen', 'reduced'}
        Which form of the model.
    state : tuple of str
        The state variables, in the order the generated kernels take them.
    params : tuple of str
        The parameters, in the kernels' order (``load_kernels(model, form).PARAMS``).
    rhs : dict
        State name -> its right-hand side, a SymPy expression (a ``MatrixExpr`` for matrix forms).
    invariants : dict, optional
        Name -> ``(expression, rate)``: :math:`\frac{d}{dt}I = r\,I` along the flow (``r = 0``: conserved).
    equilibrium_polynomial : sympy.Expr, optional
        Scalar forms: a polynomial :math:`P` with the sign of the right-hand side, whose real roots
        are the equilibria.
    definitions : dict, optional
        Derived symbol -> its meaning (text), e.g. ``'N_Psi': '||W Phi||_F'``.
    notes : str, optional
        Remarks of the derivation (assumptions, approximations).
    decay : str or None, optional
        The model's weight-decay parameter (:attr:`symbolic.registry.ModelSpec.decay`), set by
        :func:`symbolic.models.derive`: :meth:`latex` splits its term off.

    Examples
    --------
    >>> from symbolic import Derivation, derive
    >>> d = derive("cosine-simsiam", "reduced")
    >>> isinstance(d, Derivation), d.state, d.params
    (True, ('p',), ('rho', 'sigma2', 'N_Phi', 'N_Psi', 'T'))
    >>> at = {"p": 0.5, "rho": 0.01, "sigma2": 0.5, "N_Phi": 2.0, "N_Psi": 1.5, "T": 0.5}
    >>> round(float(d.rhs["p"].subs({d.symbol(k): v for k, v in at.items()})), 4)
    0.0413
    >>> derive("cosine-simsiam", "eigen").invariants["parabola"]
    (-p**2 + s, -2*rho)

    One built by hand (a pitchfork, :math:`\dot x = ax - x^3`):

    >>> import sympy as sp
    >>> x, a = sp.symbols("x a", real=True)
    >>> toy = Derivation("toy", "reduced", ("x",), ("a",), {"x": a * x - x**3}, equilibrium_polynomial=a * x - x**3)
    >>> toy.latex_equations(), toy.symbol("x") == x
    ({'x': '\\dot{x} = a x - x^{3}'}, True)
    >>> sorted(toy.to_json())
    ['equilibrium_polynomial', 'form', 'latex', 'model', 'params', 'rhs', 'state']
    """

    model: str
    form: str
    state: tuple[str, ...]
    params: tuple[str, ...]
    rhs: dict                       # state name -> sympy expression (MatrixExpr for matrix forms)
    invariants: dict = field(default_factory=dict)   # name -> (expression, decay rate or 0)
    equilibrium_polynomial: sp.Expr | None = None    # scalar forms: sign(P) = sign(rhs)
    definitions: dict = field(default_factory=dict)  # derived symbol -> its meaning (text)
    notes: str = ""
    decay: str | None = None                         # the model's weight-decay parameter

    def __post_init__(self):
        if not (isinstance(self.model, str) and _MODEL.fullmatch(self.model)) or self.form not in FORMS:
            raise ValueError(f"a derivation's model must be letters, digits, '-' or '_' and its form one of "
                             f"{', '.join(FORMS)}; got {self.model!r}, {self.form!r}")
        check_names(f"{self.model}/{self.form} state and parameter", (*self.state, *self.params))
        check_names(f"{self.model}/{self.form} symbol",
                    {x.name for e in self.rhs.values() for x in getattr(e, "free_symbols", ())})

    def symbol(self, name: str) -> sp.Symbol:
        """The SymPy symbol called ``name`` among the state and parameters."""
        for e in self.rhs.values():
            for s in e.free_symbols:
                if s.name == name:
                    return s
        return sp.Symbol(name)

    def latex(self) -> dict:
        """State name -> the LaTeX of its right-hand side, simplified where cheap (:func:`readable`)."""
        return {k: latex(readable(v, self.decay)) for k, v in self.rhs.items()}

    def latex_equations(self) -> dict:
        r"""State name -> the whole equation, ``\dot{\tau} = ...``."""
        return {k: f"{dot_name(k)} = {v}" for k, v in self.latex().items()}

    def latex_invariants(self) -> dict:
        r"""Invariant name -> :math:`\frac{d}{dt}\left(I\right) = r\,I` in LaTeX."""
        out = {}
        for k, (e, r) in self.invariants.items():
            body = latex(e)
            rate = latex(r)
            out[k] = (rf"\frac{{d}}{{dt}}\left({body}\right) = 0" if r == 0 else
                      rf"\frac{{d}}{{dt}}\left({body}\right) = {rate} \left({body}\right)")
        return out

    def python(self) -> str:
        """An importable Python module: ``rhs_<state>(<state>, <params>)`` per state variable
        (scalar forms: ``math`` only; matrix forms: NumPy arrays), ``rhs(y, theta)``, ``STATE`` and
        ``PARAMS`` (see :func:`symbolic.printer.python_module`)."""
        from .printer import python_module

        return python_module(self)

    def to_json(self) -> dict:
        out = {
            "model": self.model,
            "form": self.form,
            "state": list(self.state),
            "params": list(self.params),
            "rhs": {k: sp.srepr(v) for k, v in self.rhs.items()},
            "latex": self.latex(),
        }
        if self.invariants:
            out["invariants"] = {k: {"expr": sp.srepr(e), "latex": latex(e), "decay_rate": sp.srepr(r)}
                                 for k, (e, r) in self.invariants.items()}
        if self.equilibrium_polynomial is not None:
            out["equilibrium_polynomial"] = sp.srepr(self.equilibrium_polynomial)
        if self.definitions:
            out["definitions"] = dict(self.definitions)
        if self.notes:
            out["notes"] = self.notes
        return out
