r"""The one registry of models: what every command, sweep, figure and library function knows of one.

A :class:`ModelSpec` holds, per model: its name, its forms (``matrix`` / ``eigen`` / ``reduced``,
each a function returning a :class:`~symbolic.derivation.Derivation`), the parameter dataclass
(:mod:`symbolic.params`), the decay (weight-decay) parameter and the name of its critical value,
the cosine normalisation conventions it has, and what it supports:

=================== ==============================================================================
capability          meaning
=================== ==============================================================================
``matrix``,         the form exists (``derive``, ``integrate --form``)
``eigen``,
``reduced``
``equilibria``      the reduced form has an equilibrium polynomial (``equilibria``, fates, basins)
``regimes``         ... and its decay enters as :math:`-\rho p` times a positive factor, so the
                    critical decay :math:`\rho_c=\max_{p>0}G(p)` classifies Collapse / Acute / Stable
                    (``regime-map``, sweeps' ``regime`` task)
``folds``           saddle-node curves and equilibrium branches (``bifurcation``)
``eigen-equilibria`` equilibria of the eigen system from the reduced roots (``equilibria --eigen``)
``coupled``         the coupled many-mode eigen system (:mod:`dynamics.systems`)
``matrix-flow``     the matrix ODE integrated directly (:func:`dynamics.systems.integrate_matrix`)
``gradient-check``  Monte-Carlo check of the eigen form against the loss (``check-gradient``)
=================== ==============================================================================

A model from a user's own file joins with :func:`~symbolic.user_models.register_model`
(``ssldyn --models FILE.py`` runs the file first: :func:`symbolic.model_files.load_model_file`):
its state, right-hand sides and parameters are
SymPy symbols and expressions; its capabilities are found from the expressions (a polynomial
numerator over a denominator free of the state gives ``equilibria``; a decay that enters the
numerator as :math:`-D\rho p` with :math:`D>0` free of the state and the decay gives ``regimes``
and ``folds``). Its :attr:`ModelSpec.fingerprint` (SHA-256 of the expressions) is part of every
cache key of its derivations and kernels, so an edited file is never served stale.

Parameter names are normalised by one function, :func:`field_name`: ``n-psi``, ``n_psi`` and the
kernel name ``N_Psi`` all mean the field ``n_psi``.

Size: over 400 lines only with its docstrings (the numpydoc sections and examples of the public
functions); the code itself stays under 400 lines (tests/test_module_size.py).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import TYPE_CHECKING

from .errors import ParameterError, check_choice
from .params import BarlowParams, CosineDeltaParams, CosineParams, DirectSetParams, L2Params, TwoLayerParams

if TYPE_CHECKING:
    from .model import Model

CONVENTIONS = ("frobenius", "feature-norm")
#: the forms of a model (the same tuple as :data:`symbolic.derivation.FORMS`; a test checks)
FORMS = ("matrix", "eigen", "reduced")
CAPABILITIES = ("matrix", "eigen", "reduced", "equilibria", "regimes", "folds", "eigen-equilibria", "coupled",
                "matrix-flow", "gradient-check")
#: option names of the subcommands that are not model parameters: a user parameter may not take
#: one (its ``--NAME`` flag would clash); a test checks this list against the parsers
RESERVED = frozenset({
    "model", "models", "form", "format", "convention", "no_cache", "json", "eigen", "x", "y", "out", "plot",
    "no_folds", "check", "check_p0", "seed", "param", "n", "p0", "t_end", "method", "dt", "rtol", "atol",
    "t_eval", "converge_tol", "diverge_bound", "max_steps", "device", "config", "merge", "workers", "dask",
    "resume", "h", "samples", "fast", "list", "name", "help", "version", "mark", "steps", "lr", "momentum",
    "quick", "loss", "epochs", "batch", "data", "mode", "d", "predict", "no_predict", "predict_level", "ema",
    "ema_momentum", "init_norms", "spread_model", "from", "window", "starts",
})
_NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")


@dataclass(frozen=True)
class ModelSpec:
    """Everything the tool knows of one model (see the module docstring).

    Built by the registry (:func:`~symbolic.user_models.register_model` for a user's model); look one up with
    :func:`get_model`.

    Parameters
    ----------
    name : str
        The model's name (lower-case words joined by hyphens, e.g. ``cosine-simsiam``).
    forms : mapping of str to callable
        ``{form: () -> Derivation}`` for each of ``matrix``, ``eigen``, ``reduced`` it has.
    params_class : type
        The frozen parameter dataclass (:mod:`symbolic.params`).
    decay : str or None, optional
        The field name of the weight decay (``'rho'``, ``'eta'``), None without one.
    critical : str or None, optional
        The name of its critical value (``'rho_c'``, ``'eta_c'``).
    supports : frozenset of str, optional
        Its capabilities, from :data:`CAPABILITIES` (module table).
    conventions : tuple of str, optional
        The cosine normalisation conventions it has (``'frobenius'``, ``'feature-norm'``).
    help : str, optional
        One line for ``ssldyn models`` and ``--help``.
    param_help : mapping of str to str, optional
        ``{field: help line}`` for its parameters' CLI flags.
    fingerprint : str, optional
        User models: a hash of their expressions (part of every cache key); ``""`` built in.
    user : bool, optional
        Whether it was registered from a user's file.

    Examples
    --------
    >>> from symbolic import get_model
    >>> spec = get_model("cosine-simsiam")
    >>> spec.forms["reduced"]().form, spec.params_class.__name__, spec.fields
    ('reduced', 'CosineParams', ('rho', 'sigma2', 'n_phi', 'n_psi', 'trace'))
    >>> spec.require("folds") is spec
    True
    """

    name: str
    forms: MappingProxyType                  # form -> () -> Derivation
    params_class: type
    decay: str | None = None                 # field name of the weight decay
    critical: str | None = None              # name of its critical value ('rho_c')
    supports: frozenset = frozenset()
    conventions: tuple = ("frobenius",)
    help: str = ""
    param_help: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    fingerprint: str = ""                    # user models: hash of their expressions ("" built in)
    user: bool = False

    @property
    def fields(self) -> tuple:
        """The parameter dataclass's field names, in order."""
        return tuple(f.name for f in fields(self.params_class))

    @property
    def defaults(self) -> dict:
        return {f.name: f.default for f in fields(self.params_class)}

    def require(self, capability: str, what: str | None = None) -> "ModelSpec":
        """Self if the model supports ``capability``, else a ParameterError naming the models that do."""
        if capability not in self.supports:
            ok = model_names(supports=capability)
            raise ParameterError(f"model must be one of {', '.join(ok) or '(none)'} for {what or capability}; "
                                 f"got {self.name!r} (it supports {', '.join(sorted(self.supports)) or 'nothing'})")
        return self

    def check(self, form: str, convention: str) -> None:
        """ParameterError unless the model has ``form`` and ``convention`` (listing the allowed)."""
        check_choice("form", form, FORMS)
        if form not in self.forms:
            raise ParameterError(f"form must be one of {', '.join(self.forms)} for model {self.name}; got {form!r}")
        check_choice("convention", convention, CONVENTIONS)
        if convention not in self.conventions:
            cos = [s.name for s in specs() if convention in s.conventions]
            raise ParameterError(f"convention must be {' or '.join(self.conventions)} for model {self.name} "
                                 f"({convention} applies to {', '.join(cos)}); got {convention!r}")


_REGISTRY: dict = {}


@dataclass(frozen=True)
class _LazyForm:
    """``symbolic.<module>.<function>()``, the module imported on the first call (it imports SymPy)."""

    module: str
    function: str

    def __call__(self, *args, **kwargs):
        mod = __import__(f"symbolic.{self.module}", fromlist=["_"])
        return getattr(mod, self.function)(*args, **kwargs)


def _builtin(name, module, forms, params_class, supports, *, decay=None, critical=None, conventions=("frobenius",),
             help="", param_help=None):
    """Register a built-in model: ``forms`` are functions of ``symbolic.<module>``, named here and
    imported on first call (the table loads without SymPy), so a new family is its module plus one
    call here."""
    table = {f: _LazyForm(module, fn) for f, fn in forms.items()}
    _REGISTRY[name] = ModelSpec(name, MappingProxyType(table), params_class, decay, critical,
                                frozenset(supports) | frozenset(table), conventions, help,
                                MappingProxyType(dict(param_help or {})))


_COSINE_HELP = {"rho": "weight decay rho, [0, inf)", "sigma2": "augmentation variance sigma^2, [0, inf)",
                "n_phi": "N_Phi = ||Phi||_F, (0, inf)", "n_psi": "N_Psi = ||W Phi||_F, (0, inf)",
                "trace": "T = tr(W Phi Phi^T), finite"}
_builtin("cosine-simsiam", "cosine_simsiam",
         {"matrix": "matrix_form", "eigen": "eigen_form", "reduced": "reduced_form"}, CosineParams,
         ("equilibria", "regimes", "folds", "eigen-equilibria", "coupled", "matrix-flow", "gradient-check"),
         decay="rho", critical="rho_c", conventions=("frobenius", "feature-norm"),
         help="cosine-loss SimSiam, linear model (Bao 2023 eqs. 4-7)", param_help=_COSINE_HELP)
_builtin("cosine-simsiam-delta", "cosine_simsiam",
         {"matrix": "delta_matrix_form", "eigen": "delta_eigen_form", "reduced": "delta_reduced_form"},
         CosineDeltaParams, ("equilibria", "regimes", "folds", "eigen-equilibria", "coupled", "gradient-check"),
         decay="rho", critical="rho_c", conventions=("frobenius", "feature-norm"),
         help="cosine-loss SimSiam with the second-order (delta-method) expectation",
         param_help={**_COSINE_HELP, **{f"sum_p{m}s2": f"Sigma_{m} = sum_k p_k^{m} s_k^2" + (", [0, inf)" if m % 2 == 0
                                                                                               else ", finite")
                                        for m in range(5)}})
_builtin("l2-byol", "l2_byol", {"matrix": "matrix_form", "eigen": "eigen_form", "reduced": "reduced_form"}, L2Params,
         ("equilibria", "regimes", "folds", "eigen-equilibria", "matrix-flow"), decay="eta", critical="eta_c",
         help="L2-loss BYOL/SimSiam, linear predictor (Tian et al. 2021 eqs. 11-16)",
         param_help={"eta": "weight decay eta, [0, inf)", "sigma2": "augmentation variance sigma^2, [0, inf)",
                     "tau": "target/online ratio tau (1 = SimSiam), [0, inf)",
                     "alpha_p": "predictor learning-rate ratio alpha_p, (0, inf)",
                     "beta": "EMA rate beta of the target (eigen form), [0, inf)"})
_builtin("two-layer", "two_layer", {"matrix": "matrix_form", "eigen": "eigen_form", "reduced": "reduced_form"},
         TwoLayerParams, ("matrix-flow",),
         help="two-layer linear contrastive singular-value flow (Jing et al. 2022, Thm. 3)",
         param_help={"lam": "lambda = v^T X v along the mode, finite"})
_builtin("barlow-linear", "barlow_linear", {"matrix": "matrix_form", "eigen": "eigen_form", "reduced": "reduced_form"},
         BarlowParams, ("equilibria", "regimes", "folds"), decay="rho", critical="rho_c",
         help="linear Barlow Twins, one aligned mode: stepwise learning (Simon et al. 2023)",
         param_help={"gamma": "cross-correlation eigenvalue gamma of the mode, (0, inf)",
                     "rho": "weight decay rho, [0, inf)"})
_builtin("directset", "directset", {"matrix": "matrix_form", "eigen": "eigen_form", "reduced": "reduced_form"},
         DirectSetParams, ("equilibria", "regimes", "folds"), decay="eta", critical="eta_c",
         help="DirectSet(alpha) / IsoLoss, predictor (W W^T)^alpha (Wang et al. 2021; Halvagal et al. 2023)",
         param_help={"alpha": "predictor power alpha, W_P = (W W^T)^alpha, (0, inf)",
                     "sigma2": "augmentation variance sigma^2, [0, inf)", "eta": "weight decay eta, [0, inf)",
                     "iso": "0: Euclidean loss, 1: IsoLoss"})
BUILTIN = tuple(_REGISTRY)


def get_model(name: str) -> ModelSpec:
    """The spec of the model called ``name``; ParameterError listing the known models otherwise.

    Parameters
    ----------
    name : str
        A registered model's name (:func:`model_names`).

    Returns
    -------
    ModelSpec
        Its forms, parameter class, decay and critical names, capabilities and help.

    Raises
    ------
    ParameterError
        If no model of that name is registered (or ``name`` is not a string); the message lists
        the registered names.

    Examples
    --------
    >>> from symbolic import get_model
    >>> spec = get_model("l2-byol")
    >>> spec.decay, spec.critical, sorted(spec.forms)
    ('eta', 'eta_c', ['eigen', 'matrix', 'reduced'])
    >>> get_model("cosine")
    Traceback (most recent call last):
    ...
    symbolic.errors.ParameterError: model must be one of cosine-simsiam, cosine-simsiam-delta, ...; got 'cosine'
    """
    spec = _REGISTRY.get(name) if isinstance(name, str) else None
    if spec is None:
        raise ParameterError(f"model must be one of {', '.join(_REGISTRY)}; got {name!r}")
    return spec


def model_names(supports: str | None = None) -> tuple[str, ...]:
    """Names of the registered models (built-in first), optionally only those with a capability.

    Parameters
    ----------
    supports : str, optional
        A capability (:data:`CAPABILITIES`, e.g. ``'regimes'``); None for every model. An unknown
        capability gives the empty tuple.

    Returns
    -------
    tuple of str
        The names in registration order, the built-in models first.

    Examples
    --------
    >>> from symbolic import model_names
    >>> model_names()[:4]
    ('cosine-simsiam', 'cosine-simsiam-delta', 'l2-byol', 'two-layer')
    >>> "two-layer" in model_names(supports="regimes"), "l2-byol" in model_names(supports="regimes")
    (False, True)
    """
    return tuple(n for n, s in _REGISTRY.items() if supports is None or supports in s.supports)


def specs() -> tuple:
    """Every registered :class:`ModelSpec`, built-in first (no lookup by name)."""
    return tuple(_REGISTRY.values())


def _key(s: str) -> str:
    return s.replace("-", "_").lower()


def field_name(model: str | Model | None, name: str) -> str:
    """The parameter field that ``name`` means for ``model``: the field itself (``n_psi``), its
    dashed flag spelling (``n-psi``) or its kernel symbol (``N_Psi``, ``T``), case-insensitive.
    With ``model`` None any registered model's parameter is accepted.

    Raises ParameterError (listing the parameters) for any other name or a non-string.

    Parameters
    ----------
    model : str, symbolic.model.Model or None
        A registered model's name (looked up), a model object (not looked up), or None for any
        model.
    name : str
        A parameter: its field name, its flag spelling with dashes, or its kernel symbol.

    Returns
    -------
    str
        The field name of the parameter dataclass.

    Raises
    ------
    ParameterError
        For an unknown model, or a ``name`` that is no parameter of it (listing its parameters).

    Examples
    --------
    >>> from symbolic import field_name
    >>> field_name("cosine-simsiam", "N_Psi"), field_name("cosine-simsiam", "n-psi"), field_name(None, "T")
    ('n_psi', 'n_psi', 'trace')
    >>> field_name("l2-byol", "rho")
    Traceback (most recent call last):
    ...
    symbolic.errors.ParameterError: parameter must be one of eta, sigma2, tau, ... for model l2-byol; got 'rho'
    """
    if model is not None:
        return spec_field_name(getattr(model, "spec", None) or get_model(model), name)
    for spec in _REGISTRY.values():
        found = _field_of(spec, name)
        if found is not None:
            return found
    known = sorted({f for s in _REGISTRY.values() for f in s.fields})
    raise ParameterError(f"parameter must be one of {', '.join(known)}; got {name!r}")


def _field_of(spec: ModelSpec, name) -> str | None:
    if not isinstance(name, str):
        return None
    cls = spec.params_class
    if name in spec.fields:
        return name
    if name in cls.KERNEL_NAMES:
        return cls.KERNEL_NAMES[name]
    by_key = {_key(f): f for f in spec.fields} | {_key(k): f for k, f in cls.KERNEL_NAMES.items()}
    return by_key.get(_key(name))


def spec_field_name(spec: ModelSpec, name) -> str:
    """:func:`field_name` for the model ``spec`` (no lookup)."""
    found = _field_of(spec, name)
    if found is None:
        raise ParameterError(f"parameter must be one of {', '.join(spec.fields)} for model {spec.name}; got {name!r}")
    return found


def param_fields() -> dict:
    """Every registered model's parameter fields -> a help line (the CLI makes a flag of each)."""
    out = {}
    for spec in _REGISTRY.values():
        for f in spec.fields:
            text = spec.param_help.get(f) or f"parameter {f} (default {spec.defaults[f]!r})"
            out.setdefault(f, {})[spec.name] = text
    return {f: "; ".join(f"{t} ({m})" for m, t in by.items()) if len(set(by.values())) > 1 else
            f"{next(iter(by.values()))} ({', '.join(by)})" for f, by in out.items()}
