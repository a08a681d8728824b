"""The models' parameter dataclasses, as dynamics' callers import them.

They are defined in :mod:`symbolic.params`; which model has which class is recorded once, in
:mod:`symbolic.registry`, and carried by the model object (:attr:`symbolic.model.Model.params_class`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from symbolic.params import CosineDeltaParams, CosineParams, L2Params, TwoLayerParams  # noqa: F401

if TYPE_CHECKING:
    from symbolic.model import Model


def params_class(model: str | Model) -> type:
    """The parameter dataclass of ``model``.

    Parameters
    ----------
    model : str or symbolic.model.Model
        A registered model's name (looked up here) or the model object.

    Returns
    -------
    type
        Its frozen parameter dataclass (:attr:`symbolic.model.Model.params_class`).

    Raises
    ------
    ParameterError
        For an unknown model (listing the registered ones).

    Examples
    --------
    >>> from dynamics import params_class
    >>> params_class("cosine-simsiam")(rho=0.02).rho
    0.02
    """
    from symbolic.model import as_model

    return as_model(model).params_class
