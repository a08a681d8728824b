"""Every figure the project can draw: name -> (module, function, description).

Each function has the signature ``fn(out_dir, fast=False) -> list[pathlib.Path]`` and writes PNG
and PDF through :func:`figures.style.save`; ``fast=True`` draws a reduced version for tests.
``ssldyn figure NAME --out DIR`` looks names up here.
"""
FIGURES = {
    "regime-map": ("figures.regime_map", "regime_map_figure",
                   "cosine regimes in the (rho, N_Psi) plane with the continued fold curve"),
    "bifurcation": ("figures.bifurcation", "bifurcation_figure",
                    "equilibria of Bao eq. 7 versus rho: stable solid, unstable dashed, folds"),
}
