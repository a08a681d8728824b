r"""A model as a value: looked up in the registry once, then passed down every layer.

:func:`as_model` turns what a caller gives (a registered name, a parameter object, or a
:class:`Model` already) into a :class:`Model`: the one registry lookup
(:func:`symbolic.registry.get_model`) happens there, at the public entry point, and every
function below takes the object. The normalisation convention (``frobenius`` or
``feature-norm``) is part of the value, so every path that computes with the model honours it.

A :class:`Model` is frozen and compares by ``(name, form, convention, fingerprint)``; its spec is
kept on it, and its derivations and kernels are loaded on first use and cached on it (shared by
the copies :meth:`Model.at` makes for another form or convention).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from . import registry
from .errors import ParameterError


@dataclass(frozen=True)
class Model:
    r"""One registered model in one form and normalisation convention.

    Built by :func:`as_model` (never look a name up twice: pass the object down).

    Parameters
    ----------
    name : str
        The registered name (``cosine-simsiam``).
    form : {'matrix', 'eigen', 'reduced'}
        The form its kernels and derivation default to.
    convention : {'frobenius', 'feature-norm'}
        The cosine models' normalisers; the other models have ``frobenius`` only.
    fingerprint : str
        A user model's hash of its expressions (``""`` for a built-in model).
    spec : ModelSpec
        Its registry entry (forms, parameter class, decay, capabilities).
    cache : dict, optional
        What was loaded on first use (derivations, kernel modules), shared by :meth:`at`'s copies.

    Examples
    --------
    >>> from symbolic.model import as_model
    >>> m = as_model("cosine-simsiam", convention="feature-norm")
    >>> m.name, m.form, m.convention, m.decay, m.critical
    ('cosine-simsiam', 'reduced', 'feature-norm', 'rho', 'rho_c')
    >>> m.kernels().CONVENTION, m.at(form="eigen").kernels().STATE
    ('feature-norm', ('p', 's'))
    >>> as_model(m) is m
    True
    """

    name: str
    form: str
    convention: str
    fingerprint: str
    spec: Any = field(repr=False, compare=False)
    cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __str__(self) -> str:
        return self.name

    # --- the spec's fields ----------------------------------------------------------------
    @property
    def params_class(self) -> type:
        """The frozen parameter dataclass (:mod:`symbolic.params`)."""
        return self.spec.params_class

    @property
    def decay(self) -> str | None:
        """The field name of the weight decay (``'rho'``, ``'eta'``), None without one."""
        return self.spec.decay

    @property
    def critical(self) -> str | None:
        """The name of its critical decay (``'rho_c'``), None without one."""
        return self.spec.critical

    @property
    def supports(self) -> frozenset:
        """Its capabilities (:data:`symbolic.registry.CAPABILITIES`)."""
        return self.spec.supports

    @property
    def fields(self) -> tuple:
        """The parameter dataclass's field names, in order."""
        return self.spec.fields

    @property
    def defaults(self) -> dict:
        return self.spec.defaults

    @property
    def user(self) -> bool:
        return self.spec.user

    def has(self, capability: str) -> bool:
        """Whether the model supports ``capability``."""
        return capability in self.spec.supports

    def require(self, capability: str, what: str | None = None) -> "Model":
        """Self if the model supports ``capability``, else a ParameterError naming the models that do."""
        self.spec.require(capability, what)
        return self

    # --- variants and what is loaded on first use ----------------------------------------
    def at(self, form: str | None = None, convention: str | None = None) -> "Model":
        """The same model in another form or convention (checked; the loaded cache is shared)."""
        form = self.form if form is None else form
        convention = self.convention if convention is None else convention
        if (form, convention) == (self.form, self.convention):
            return self
        self.spec.check(form, convention)
        return replace(self, form=form, convention=convention)

    @property
    def hash(self) -> str:
        """The hash naming its cached derivations and kernels (:func:`symbolic.models.fingerprint_hash` of its fingerprint)."""
        from .models import fingerprint_hash

        return fingerprint_hash(self.fingerprint)

    def derivation(self, form: str | None = None, use_cache: bool = True):
        """Its :class:`~symbolic.derivation.Derivation` in ``form`` (default: its own form)."""
        from .models import derive

        m = self.at(form)
        key = ("derivation", m.form, m.convention, use_cache)
        if key not in self.cache:
            self.cache[key] = derive(m, use_cache=use_cache)
        return self.cache[key]

    def kernels(self, form: str | None = None, need: str | None = None):
        """Its generated kernel module in ``form`` (default: its own form; ``need``: a capability
        required first, e.g. ``'equilibria'``)."""
        if need is not None:
            self.require(need, _NEEDS.get(need, need))
        m = self.at(form)
        key = ("kernels", m.form, m.convention)
        if key not in self.cache:
            from .codegen import load_kernels

            self.cache[key] = load_kernels(m)
        return self.cache[key]

    # --- its parameters ------------------------------------------------------------------
    def check_params(self, params):
        """``params`` if it is a point of this model, else a ParameterError."""
        if getattr(params, "MODEL", None) != self.name:
            raise ParameterError(f"params must be a point of model {self.name} ({self.params_class.__name__}); "
                                 f"got {type(params).__name__} of {getattr(params, 'MODEL', None)!r}")
        return params

    def decay_index(self, kernel_params) -> int:
        """Column of the decay parameter among a kernel's parameters (``kernel.PARAMS``)."""
        self.require("regimes", "regimes and critical decays")
        inv = {f: kname for kname, f in self.params_class.KERNEL_NAMES.items()}
        return list(kernel_params).index(inv[self.decay])

    def field_name(self, name: str) -> str:
        """The parameter field that ``name`` means (:func:`symbolic.registry.field_name`)."""
        return registry.spec_field_name(self.spec, name)


#: capability -> what a refusal says it is needed for
_NEEDS = {"equilibria": "equilibria (two-layer has lines of equilibria, no regimes)",
          "regimes": "regimes and critical decays"}


def as_model(model: Any, form: str | None = None, convention: str | None = None) -> Model:
    """The :class:`Model` of ``model``: a registered name (looked up here, once), a parameter
    object (its ``MODEL``), or a Model (returned as it is, or :meth:`Model.at` ``form`` and
    ``convention`` when they are given and differ).

    Parameters
    ----------
    model : str, parameter dataclass or Model
        What names the model.
    form : {'matrix', 'eigen', 'reduced'}, optional
        Default: the model's own form (a Model), else ``reduced`` where it has one (else its
        first form).
    convention : {'frobenius', 'feature-norm'}, optional
        Default: the model's own (a Model), else ``frobenius``.

    Returns
    -------
    Model
        The model object, to pass down instead of the name.

    Raises
    ------
    ParameterError
        For an unknown name (listing the registered ones), or a form or convention the model
        does not have.

    Examples
    --------
    >>> from symbolic.model import as_model
    >>> from symbolic.params import L2Params
    >>> as_model(L2Params()).name, as_model("l2-byol", "eigen").form
    ('l2-byol', 'eigen')
    """
    if isinstance(model, Model):
        return model.at(form, convention)
    name = model if isinstance(model, str) else getattr(model, "MODEL", model)
    spec = registry.get_model(name)
    if form is None:
        form = "reduced" if "reduced" in spec.forms else next(iter(spec.forms))
    convention = "frobenius" if convention is None else convention
    spec.check(form, convention)
    return Model(spec.name, form, convention, spec.fingerprint, spec)


def model_of(params: Any, model: str | Model | None = None, convention: str | None = None) -> Model:
    """The :class:`Model` of the parameter object ``params``: ``model`` (a name or Model) when
    given, checked to be the one ``params`` belongs to, else ``params.MODEL`` (looked up once);
    ``convention`` as :func:`as_model` takes it."""
    m = as_model(params if model is None else model, convention=convention)
    m.check_params(params)
    return m
