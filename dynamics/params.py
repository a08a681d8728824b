"""The models' parameter dataclasses, as dynamics' callers import them.

They are defined in :mod:`symbolic.params`; which model has which class is recorded once, in
:mod:`symbolic.registry` (:func:`params_class`).
"""
from symbolic.params import CosineDeltaParams, CosineParams, L2Params, TwoLayerParams  # noqa: F401
from symbolic.registry import params_class  # noqa: F401
