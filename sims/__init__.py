"""Command-line tool, batch runs and sweeps, and (with the torch extra) real SimSiam training."""
