"""Figures: one module per figure; each is a function and an ``ssldyn figure`` target."""
