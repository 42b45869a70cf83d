"""Playing and measuring agents.

- :mod:`~agents.eval.rollout`: batched rollouts, one episode per level (the play loop), with
  :mod:`~agents.eval.rollout_result` (the result type), :mod:`~agents.eval.rollout_state`
  (per-row episode state and per-episode records) and :mod:`~agents.eval.untried_moves` (the
  greedy untried-move-first option).
- :mod:`~agents.eval.evaluate`: held-out evaluation (model cards).
- :mod:`~agents.eval.sweep`: resumable placement sweeps; :mod:`~agents.eval.sweep_axes`: what
  one spans (sizes, placements, level seeds).
- :mod:`~agents.eval.behaviour`: behavioural statistics (what predicts going to the cheese).
- :mod:`~agents.eval.vector_field`: per-cell action distributions.
- :mod:`~agents.eval.stats`: rates and confidence intervals.
- :mod:`~agents.eval.plots`, :mod:`~agents.eval.report`: figures and markdown reports.

The public functions are exported from :mod:`agents` (``agents.rollout``, ``agents.run_sweep``).
"""
