"""Steering and interpretability methods, one module each.

- :mod:`~steering.methods.retarget`: clamp channels at a target cell (retargeting).
- :mod:`~steering.methods.vectors`: steering vectors (cheese, top-right) and resampling.
- :mod:`~steering.methods.probes`: linear probes on activations; their mazes, activations and
  labels come from :mod:`~steering.methods.probe_data`.
- :mod:`~steering.methods.probe_kinds`: logistic, mean-difference, paired-difference PC and
  convolutional probes.
- :mod:`~steering.methods.prune`: ablating low-variance channels;
  :mod:`~steering.methods.prune_bound`: the K·std bound on what removing a channel can do
  (its experiment: :mod:`steering.experiments.prune_bound`).
- :mod:`~steering.methods.optimise`: fitting :class:`~steering.patches.sparse.SparseAdd` (an
  additive edit on k activations) by gradient, per maze or shared over mazes, on the states of
  :mod:`~steering.methods.edit_states`.

A method builds :mod:`steering.patches` objects; its experiment (if any) is one module in
:mod:`steering.experiments`.
"""
