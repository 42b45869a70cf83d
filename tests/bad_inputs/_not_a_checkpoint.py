"""The regex of the not-a-checkpoint message, shared by this folder's tables (imported as
``bad_inputs._not_a_checkpoint``: ``tests/conftest.py`` puts ``tests/`` on ``sys.path``)."""

from __future__ import annotations

from agents.checkpoint import NOT_A_CHECKPOINT

#: :data:`agents.checkpoint.NOT_A_CHECKPOINT` as a regex that also matches across line breaks.
NOT_CKPT = NOT_A_CHECKPOINT.replace(" ", r"\s")
