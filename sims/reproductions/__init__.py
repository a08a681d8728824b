"""Training reproductions of the landscape/collapse papers (torch, imported inside functions).

* :mod:`sims.reproductions.ziyin`: Ziyin et al. (2022) Figs. 2 (left, mid) and 3.
* :mod:`sims.reproductions.jing`: Jing et al. (2022) Figs. 3, 5/6, 11 and the aligned-ODE check.

Each public function returns a plain dict of NumPy arrays and floats: the measured numbers next to
the theory's. Everything is seeded (NumPy and torch) and runs single-threaded with deterministic
algorithms, so CPU runs are bit-reproducible.
"""
