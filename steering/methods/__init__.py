"""Steering and interpretability methods, one module each.

- :mod:`~steering.methods.retarget`: clamp channels at a target cell (retargeting).
- :mod:`~steering.methods.vectors`: steering vectors (cheese, top-right) and resampling.
- :mod:`~steering.methods.probes`: linear probes on activations.
- :mod:`~steering.methods.prune`: ablating low-variance channels.

A method builds :mod:`steering.patches` objects; its experiment (if any) is one module in
:mod:`steering.experiments`.
"""
