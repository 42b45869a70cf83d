"""A policy wrapper that kill -9s the process it first runs in (the Ray worker-death test)."""

from __future__ import annotations

import os
import signal


class KillOnce:
    """Acts as ``policy``; the first ``action_probs`` call anywhere (claimed by creating
    ``marker`` exclusively) writes its pid there and SIGKILLs its own process."""

    def __init__(self, policy, marker) -> None:
        self.policy, self.marker = policy, str(marker)
        self.obs, self.model, self.metadata = policy.obs, policy.model, policy.metadata

    def action_probs(self, obs):
        try:
            fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return self.policy.action_probs(obs)
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        os.kill(os.getpid(), signal.SIGKILL)
        raise AssertionError("unreachable")
