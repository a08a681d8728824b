r"""One frozen dataclass of parameters per model, validated on construction.

``as_array(names)`` returns the values in the order a generated kernel takes them
(``kernel.PARAMS``); ``KERNEL_NAMES`` maps kernel symbol names to fields. Use
``dataclasses.replace`` to vary one parameter in a sweep. Which class belongs to which model is
recorded once, in :mod:`symbolic.registry`; :func:`user_params_class` builds the class of a model
registered from a user's file. A point produces its model object with
:func:`symbolic.model.as_model` (``as_model(params)``: ``params.MODEL`` looked up once), which
the functions of :mod:`dynamics` take (``model=``) with its normalisation convention.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, fields

import numpy as np

from symbolic.errors import ParameterError, check_range

INF = math.inf
#: magnitudes a built-in model's parameter may take besides 0: the closed forms raise parameters
#: to powers up to about 8, which keeps every intermediate (and every root and critical decay,
#: to full relative accuracy) within double range; the CLI's limit too
MAGNITUDE = (1e-30, 1e30)


def check_real(name: str, v) -> float:
    """``float(v)`` for a real number (int, float or a numpy real), else a ParameterError: a bool,
    a string or a complex is refused, not converted (``"0.1"`` would be stored as text, ``True``
    as 1)."""
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
        raise ParameterError(f"{name} must be a real number (float); got {type(v).__name__} {v!r}")
    return float(v)


def magnitude_message(name: str, lo: float, hi: float, v) -> str:
    return f"{name} must be 0 or of magnitude in [{lo:g}, {hi:g}]; got {v!r}"


def discrete_message(name: str, text: str, v) -> str:
    return f"{name} must be {text}; got {v!r}"


def _vector(name: str, a) -> np.ndarray:
    try:
        arr = np.asarray(a)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a real vector; got {type(a).__name__}") from None
    if arr.ndim != 1 or arr.dtype.kind not in "fiu" or not np.all(np.isfinite(arr)):
        raise ParameterError(f"{name} must be a finite real vector; got {arr.dtype} of shape {arr.shape}")
    return arr.astype(np.float64)


class _Params:
    MODEL = ""
    KERNEL_NAMES: dict = {}
    #: field -> (lower bound, lower bound open); every field is finite (upper bound inf, open)
    RANGES: dict = {}
    #: field -> (allowed values, their description): a discrete field (DirectSet's ``iso``)
    DISCRETE: dict = {}
    #: (lo, hi): every non-zero value has a magnitude in [lo, hi]; None for no limit (user models)
    MAGNITUDE: tuple | None = MAGNITUDE

    def __post_init__(self):
        for f in fields(self):
            object.__setattr__(self, f.name, check_real(f.name, getattr(self, f.name)))
        for name, (lo, lo_open) in self.RANGES.items():
            v = check_range(name, getattr(self, name), lo, INF, lo_open=lo_open)
            if not math.isfinite(v):
                raise ParameterError(f"{name} must be finite; got {getattr(self, name)!r}")
            if self.MAGNITUDE is not None and v != 0.0 and not self.MAGNITUDE[0] <= abs(v) <= self.MAGNITUDE[1]:
                raise ParameterError(magnitude_message(name, *self.MAGNITUDE, v))
        for name, (values, text) in self.DISCRETE.items():
            if getattr(self, name) not in values:
                raise ParameterError(discrete_message(name, text, getattr(self, name)))

    def as_array(self, names) -> np.ndarray:
        """Values for the kernel parameter ``names`` (e.g. ``kernel.PARAMS``), float64."""
        try:
            return np.array([getattr(self, self.KERNEL_NAMES[n]) for n in names], dtype=np.float64)
        except KeyError as e:
            raise ParameterError(f"model {self.MODEL} has no parameter {e.args[0]!r}") from None

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class CosineParams(_Params):
    r"""Cosine-loss SimSiam at a fixed time (Bao 2023 eq. 7).

    rho: weight decay :math:`\rho`, [0, inf). sigma2: augmentation variance :math:`\sigma^2`, [0, inf).
    n_phi: :math:`N_\Phi=\|\Phi\|_F`, (0, inf). n_psi: :math:`N_\Psi=\|W\Phi\|_F`, (0, inf).
    trace: :math:`T=\mathrm{tr}(W\Phi\Phi^\top)`, finite. Defaults: the theory notes' worked example.

    The reduced flow at these values is :math:`\dot p=-pQ(p)/((1+\sigma^2)N_\Phi N_\Psi^3)`,
    :math:`Q(p)=2p^5+Tp^2-N_\Psi^2p+K` (:attr:`K`).

    Parameters
    ----------
    rho : float, optional
        Weight decay :math:`\rho`, in [0, inf).
    sigma2 : float, optional
        Augmentation variance :math:`\sigma^2`, in [0, inf).
    n_phi : float, optional
        :math:`N_\Phi=\|\Phi\|_F`, in (0, inf).
    n_psi : float, optional
        :math:`N_\Psi=\|W\Phi\|_F`, in (0, inf).
    trace : float, optional
        :math:`T=\mathrm{tr}(W\Phi\Phi^\top)`, finite.

    Raises
    ------
    ParameterError
        For a value outside its range or not finite (naming the field and the range).

    Examples
    --------
    >>> from symbolic.params import CosineParams
    >>> params = CosineParams(rho=0.01, sigma2=0.5, n_phi=2, n_psi=1.5, trace=0.5)
    >>> round(params.K, 12)                        # 0.01 * 1.5 * 2 * 1.5**3
    0.10125
    >>> params.as_array(["N_Psi", "rho"]).tolist(), params.to_dict()["trace"]
    ([1.5, 0.01], 0.5)
    >>> CosineParams(n_psi=0.0)
    Traceback (most recent call last):
    ...
    symbolic.errors.ParameterError: n_psi must be in (0, inf); got 0.0
    """
    rho: float = 0.01
    sigma2: float = 0.5
    n_phi: float = 2.0
    n_psi: float = 1.5
    trace: float = 0.5
    MODEL = "cosine-simsiam"
    KERNEL_NAMES = {"rho": "rho", "sigma2": "sigma2", "N_Phi": "n_phi", "N_Psi": "n_psi", "T": "trace"}

    RANGES = {"rho": (0.0, False), "sigma2": (0.0, False), "n_phi": (0.0, True), "n_psi": (0.0, True),
              "trace": (-INF, True)}

    @property
    def K(self) -> float:
        r""":math:`K=\rho(1+\sigma^2)N_\Phi N_\Psi^3`, the constant term of :math:`Q(p)`."""
        return self.rho * (1 + self.sigma2) * self.n_phi * self.n_psi**3

    @classmethod
    def from_weights(cls, W, Phi, rho: float = 0.01, sigma2: float = 0.5):
        r"""The parameters at given weights: :math:`N_\Phi=\|\Phi\|_F`, :math:`N_\Psi=\|W\Phi\|_F`,
        :math:`T=\mathrm{tr}(W\Phi\Phi^\top)` (:func:`symbolic.linear_init.weight_norms`).

        The default norms of the class are the theory notes' worked example, not those of any
        network: the critical decay at d = h = 512 initial weights is about 30x smaller. Use this
        (or :meth:`from_init`) to ask about a real network.

        Examples
        --------
        >>> import numpy as np
        >>> from symbolic.params import CosineParams
        >>> CosineParams.from_weights(0.5 * np.eye(2), np.eye(2), rho=0.02)
        CosineParams(rho=0.02, sigma2=0.5, n_phi=1.4142135623730951, n_psi=0.7071067811865476, trace=1.0)
        """
        from symbolic.linear_init import weight_norms
        n_phi, n_psi, trace = weight_norms(W, Phi)
        return cls(rho=rho, sigma2=sigma2, n_phi=n_phi, n_psi=n_psi, trace=trace)

    @classmethod
    def from_init(cls, d: int, h: int, seed: int = 0, rho: float = 0.01, sigma2: float = 0.5):
        r"""The parameters at a draw of the linear model's initial weights (d inputs, width h; numpy,
        :func:`symbolic.linear_init.draw_initial_weights`): :math:`N_\Phi\approx\sqrt h`,
        :math:`N_\Psi\approx\sqrt{h/2}`, :math:`T\approx0`.

        Examples
        --------
        >>> from symbolic.params import CosineParams
        >>> p = CosineParams.from_init(512, 512, seed=0)
        >>> round(p.n_phi / 512 ** 0.5, 2), round(p.n_psi / 256 ** 0.5, 2)
        (1.0, 1.0)
        """
        from symbolic.linear_init import draw_initial_weights
        return cls.from_weights(*draw_initial_weights(d, h, seed), rho=rho, sigma2=sigma2)


@dataclass(frozen=True)
class CosineDeltaParams(CosineParams):
    r"""Second-order (delta-method) cosine model: :class:`CosineParams` plus the power sums
    :math:`\Sigma_m=\sum_kp_k^ms_k^2`, m = 0..4 (``sum_p0s2`` ... ``sum_p4s2``); even ones >= 0.

    Parameters
    ----------
    rho, sigma2, n_phi, n_psi, trace : float, optional
        As in :class:`CosineParams`.
    sum_p0s2, sum_p1s2, sum_p2s2, sum_p3s2, sum_p4s2 : float, optional
        :math:`\Sigma_0,\dots,\Sigma_4`; the even ones in [0, inf), the odd ones finite.

    Raises
    ------
    ParameterError
        For a value outside its range or not finite (naming the field and the range).

    Examples
    --------
    >>> from symbolic.params import CosineDeltaParams
    >>> params = CosineDeltaParams.from_spectrum([1.0, 0.5], [2.0, 1.0], rho=0.01, sigma2=0.5)
    >>> [round(v, 12) for v in (params.n_phi**2, params.n_psi**2, params.trace, params.sum_p1s2)]
    [3.0, 2.25, 2.5, 4.5]
    """
    sum_p0s2: float = 0.0
    sum_p1s2: float = 0.0
    sum_p2s2: float = 0.0
    sum_p3s2: float = 0.0
    sum_p4s2: float = 0.0
    MODEL = "cosine-simsiam-delta"
    KERNEL_NAMES = {**CosineParams.KERNEL_NAMES, **{f"Sigma_p{m}s2": f"sum_p{m}s2" for m in range(5)}}

    RANGES = {**CosineParams.RANGES, **{f"sum_p{m}s2": (0.0, False) if m % 2 == 0 else (-INF, True)
                                         for m in range(5)}}

    @classmethod
    def from_spectrum(cls, p, s, rho: float, sigma2: float) -> "CosineDeltaParams":
        """All sums from eigenvalues ``p`` of W and ``s`` of Phi Phi^T (common eigenbasis): two
        finite vectors of the same length, ``s >= 0`` (Phi Phi^T is positive semi-definite)."""
        p, s = _vector("p", p), _vector("s", s)
        if p.shape != s.shape:
            raise ParameterError(f"p and s must have the same length; got {p.size} and {s.size}")
        if np.any(s < 0):
            i = int(np.flatnonzero(s < 0)[0])
            raise ParameterError(f"s (eigenvalues of Phi Phi^T) must be in [0, inf); got {float(s[i])!r} at index {i}")
        return cls(rho=rho, sigma2=sigma2, n_phi=float(np.sqrt(s.sum())), n_psi=float(np.sqrt((p * p * s).sum())),
                   trace=float((p * s).sum()), **{f"sum_p{m}s2": float((p**m * s * s).sum()) for m in range(5)})


@dataclass(frozen=True)
class L2Params(_Params):
    r"""L2-loss BYOL/SimSiam (Tian et al. 2021; Bao eq. 8 with tau = alpha_p = 1).

    eta: weight decay :math:`\eta`, [0, inf). sigma2: augmentation variance, [0, inf).
    tau: target/online ratio :math:`\tau` (1 = SimSiam), [0, inf). alpha_p: predictor lr ratio, (0, inf).
    beta: EMA rate :math:`\beta`, [0, inf) (eigen form only).

    Parameters
    ----------
    eta : float, optional
        Weight decay :math:`\eta`, in [0, inf).
    sigma2 : float, optional
        Augmentation variance :math:`\sigma^2`, in [0, inf).
    tau : float, optional
        Target/online ratio :math:`\tau` (1 = SimSiam), in [0, inf).
    alpha_p : float, optional
        Predictor learning-rate ratio :math:`\alpha_p`, in (0, inf).
    beta : float, optional
        EMA rate :math:`\beta` of the target, in [0, inf) (eigen form only).

    Raises
    ------
    ParameterError
        For a value outside its range or not finite (naming the field and the range).

    Examples
    --------
    >>> from symbolic.params import L2Params
    >>> L2Params(eta=0.05, sigma2=0.5, tau=1.0).eta_c     # tau^2 / (4 (1 + sigma^2)) = 1 / 6
    0.16666666666666666
    """
    eta: float = 0.05
    sigma2: float = 0.5
    tau: float = 1.0
    alpha_p: float = 1.0
    beta: float = 0.0
    MODEL = "l2-byol"
    KERNEL_NAMES = {"eta": "eta", "sigma2": "sigma2", "tau": "tau", "alpha_p": "alpha_p", "beta": "beta"}

    RANGES = {"eta": (0.0, False), "sigma2": (0.0, False), "tau": (0.0, False), "alpha_p": (0.0, True),
              "beta": (0.0, False)}

    @property
    def eta_c(self) -> float:
        r""":math:`\eta_c=\tau^2/(4(1+\sigma^2))`: non-collapsed equilibria exist iff :math:`\eta\le\eta_c`."""
        return self.tau**2 / (4 * (1 + self.sigma2))


@dataclass(frozen=True)
class TwoLayerParams(_Params):
    r"""Aligned two-layer singular-value flow (Jing et al. 2022, Theorem 3).

    lam: :math:`\lambda=v^\top Xv` along the mode, finite (negative: augmentation beats data).

    Parameters
    ----------
    lam : float, optional
        :math:`\lambda`, finite.

    Raises
    ------
    ParameterError
        If ``lam`` is not finite.

    Examples
    --------
    >>> from symbolic.params import TwoLayerParams
    >>> TwoLayerParams(lam=-0.5).to_dict()
    {'lam': -0.5}
    """
    lam: float = 0.5
    MODEL = "two-layer"
    KERNEL_NAMES = {"lam": "lam"}

    RANGES = {"lam": (-INF, True)}


def user_params_class(model: str, defaults: dict, decay: str | None = None):
    """A frozen dataclass for a user model: one float field per parameter (its default given),
    every value finite, the decay parameter (if named) in [0, inf)."""
    from dataclasses import make_dataclass

    camel = "".join(w.capitalize() for w in model.split("-")) + "Params"
    cls = make_dataclass(camel, [(n, float, float(v)) for n, v in defaults.items()], bases=(_Params,), frozen=True,
                         namespace={"MODEL": model, "KERNEL_NAMES": {n: n for n in defaults},
                                    "RANGES": {n: ((0.0, False) if n == decay else (-INF, True)) for n in defaults},
                                    "MAGNITUDE": None,
                                    "__doc__": f"Parameters of the user model {model}: "
                                               + ", ".join(f"{n} (default {v!r})" for n, v in defaults.items())})
    cls.__module__ = __name__
    return cls


@dataclass(frozen=True)
class BarlowParams(_Params):
    r"""One aligned mode of linear Barlow Twins (Simon et al. 2023; :mod:`symbolic.barlow_linear`).

    gamma: eigenvalue :math:`\gamma` of the pairs' symmetrised cross-correlation, (0, inf).
    rho: weight decay :math:`\rho`, [0, inf). Defined here, beside the other built-in classes, so the
    registry table loads without SymPy.
    """
    gamma: float = 1.0
    rho: float = 0.5
    MODEL = "barlow-linear"
    KERNEL_NAMES = {"gamma": "gamma", "rho": "rho"}

    RANGES = {"gamma": (0.0, True), "rho": (0.0, False)}

    @property
    def rho_c(self) -> float:
        r""":math:`\rho_c=4\gamma`: the mode is learned (plateau :math:`1-\rho/(4\gamma)`) iff :math:`\rho<\rho_c`."""
        return 4.0 * self.gamma


@dataclass(frozen=True)
class DirectSetParams(_Params):
    r"""DirectSet(alpha) / IsoLoss (Wang et al. 2021; Halvagal et al. 2023; :mod:`symbolic.directset`).

    alpha: predictor power :math:`\alpha`, :math:`W_P=(WW^\top)^\alpha`, (0, inf). sigma2: augmentation
    variance, [0, inf). eta: weight decay :math:`\eta`, [0, inf). iso: 0 (Euclidean loss) or 1 (IsoLoss).
    """
    alpha: float = 1.0
    sigma2: float = 0.01
    eta: float = 0.05
    iso: float = 0.0
    MODEL = "directset"
    KERNEL_NAMES = {"alpha": "alpha", "sigma2": "sigma2", "eta": "eta", "iso": "iso"}

    RANGES = {"alpha": (0.0, True), "sigma2": (0.0, False), "eta": (0.0, False), "iso": (0.0, False)}
    DISCRETE = {"iso": ((0.0, 1.0), "0 (Euclidean loss) or 1 (IsoLoss)")}

    @property
    def eta_c(self) -> float:
        r""":math:`\eta_c=1/(4(1+\sigma^2))` (Euclidean, saddle-node) or 1 (IsoLoss, transcritical)."""
        return 1.0 if self.iso else 1.0 / (4.0 * (1.0 + self.sigma2))
