"""Re-loading what the tool wrote: an ``ssldyn integrate`` output or a merged sweep (NPZ or NetCDF).

Apart from :mod:`sims.io` (the atomic writers every module uses, the sweep's included), since
reading a merged sweep needs :mod:`sims.sweep.merge`.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING

from symbolic.errors import ParameterError

if TYPE_CHECKING:
    from dynamics.results import BatchResult

    from .sweep.merge import MergedSweep


def load_result(path: str | os.PathLike) -> "BatchResult | MergedSweep":
    """Re-load an output of ``ssldyn integrate`` or ``ssldyn sweep --merge`` (.npz or .nc).

    NPZ files are read with ``allow_pickle=False`` and NetCDF with xarray: nothing in a file runs.

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    dynamics.results.BatchResult or sims.sweep.merge.MergedSweep
        An integration (its model, parameters, ``p0``, options, method, version, command; rerun
        it with :func:`dynamics.integrate.rerun`) or a merged sweep (its model, task,
        fixed parameters, axes, arrays, version, command).

    Raises
    ------
    ParameterError
        For a suffix other than .npz or .nc, or a file that is neither kind of output.

    Examples
    --------
    >>> import os
    >>> import tempfile
    >>> import numpy as np
    >>> from dynamics import L2Params, integrate
    >>> from dynamics.integrate import rerun
    >>> from sims import load_result
    >>> res = integrate("l2-byol", L2Params(eta=0.1), [0.05, 0.6], 100.0)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     res.to_npz(os.path.join(tmp, "run.npz"))
    ...     back = load_result(os.path.join(tmp, "run.npz"))
    >>> back.model, back.params["eta"], back.p0.tolist(), back.method, back.options["rtol"]
    ('l2-byol', 0.1, [0.05, 0.6], 'tsit5', 1e-08)
    >>> np.array_equal(rerun(back).final, res.final)
    True
    """
    from dynamics.results import BatchResult

    from .sweep.merge import MergedSweep, is_merged

    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix not in (".npz", ".nc"):
        raise ParameterError(f"path must end in .npz or .nc (an integrate output or a merged sweep); got {str(path)!r}")
    if is_merged(path):
        return MergedSweep.load(path)
    return BatchResult.from_netcdf(path) if suffix == ".nc" else BatchResult.from_npz(path)
