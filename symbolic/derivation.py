"""The result of a derivation: right-hand sides as SymPy expressions, plus what was proved.

A :class:`Derivation` is plain data: which model and form, the state and parameter names (in
the order the generated kernels take them), one right-hand side per state variable, the
invariants found on the way, and for scalar forms the polynomial whose real roots are the
equilibria. ``to_json`` gives the CLI's JSON object.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

FORMS = ("matrix", "eigen", "reduced")

#: LaTeX for symbol names SymPy would otherwise render literally (sigma2 -> sigma_2, lam -> lam)
_LATEX_NAMES = {"sigma2": r"\sigma^{2}", "lam": r"\lambda", "alpha_p": r"\alpha_{p}",
                **{f"Sigma_p{m}s2": rf"\Sigma_{{p^{m}s^2}}" for m in range(5)}}


def latex(expr) -> str:
    """``sympy.latex`` with the project's symbol names (``sigma2`` prints as :math:`\\sigma^2`)."""
    names = {s: _LATEX_NAMES[s.name] for s in getattr(expr, "free_symbols", ()) if s.name in _LATEX_NAMES}
    return sp.latex(expr, symbol_names=names)


@dataclass(frozen=True, eq=False)
class Derivation:
    model: str
    form: str
    state: tuple[str, ...]
    params: tuple[str, ...]
    rhs: dict                       # state name -> sympy expression (MatrixExpr for matrix forms)
    invariants: dict = field(default_factory=dict)   # name -> (expression, decay rate or 0)
    equilibrium_polynomial: sp.Expr | None = None    # scalar forms: sign(P) = sign(rhs)
    definitions: dict = field(default_factory=dict)  # derived symbol -> its meaning (text)
    notes: str = ""

    def symbol(self, name: str) -> sp.Symbol:
        """The SymPy symbol called ``name`` among the state and parameters."""
        for e in self.rhs.values():
            for s in e.free_symbols:
                if s.name == name:
                    return s
        return sp.Symbol(name)

    def latex(self) -> dict:
        return {k: latex(v) for k, v in self.rhs.items()}

    def python(self) -> dict:
        return {k: sp.pycode(v) if self.form != "matrix" else str(v) for k, v in self.rhs.items()}

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
