"""The agents an app server may use: :class:`AgentStore` (zoo agents, an explicit start-up path,
or policy objects handed in), loaded once each, with one lock per agent: a model's hooks are
global to it, so two sessions never run a (patched) forward pass on it at the same time. It
also caches each agent's layer shapes and its cheese-tracking channels per layer.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import agents
import steering

from .errors import InputError

__all__ = ["AgentStore", "DEFAULT_RETARGET_CHANNELS"]

#: Channels the default retarget clamps when none are given (the top of the tracking ranking).
DEFAULT_RETARGET_CHANNELS = 8


class AgentStore:
    """The agents a server may use, by name; nothing else is ever loaded.

    Args:
        zoo: offer every zoo agent (``agents.zoo_names()``).
        paths: ``{name: checkpoint path}`` given at start-up (``scripts/serve.py --agent PATH``).
        policies: ``{name: policy object}`` already built (tests, notebooks).
        default: the agent a new session starts with (default: the zoo's default agent when
            offered, else the first name).
    """

    def __init__(
        self,
        *,
        zoo: bool = True,
        paths: Mapping[str, str | Path] | None = None,
        policies: Mapping[str, Any] | None = None,
        default: str | None = None,
    ) -> None:
        self._paths: dict[str, Path] = {}
        if zoo:  # absolute paths: a file of the same name in the working directory never wins
            self._paths.update({n: agents.zoo_dir(n) / "model.pt" for n in agents.zoo_names()})
        for name, p in (paths or {}).items():
            if not Path(p).exists():
                raise ValueError(f"agent path {str(p)!r} does not exist")
            self._paths[name] = Path(p)
        self._policies: dict[str, Any] = dict(policies or {})
        self._locks: dict[str, threading.Lock] = {}
        self._info: dict[str, dict] = {}
        self._channels: dict[tuple[str, str], list[int]] = {}
        self._guard = threading.Lock()
        if default is not None:
            self.check(default, "default")
        self._default = default

    def names(self) -> list[str]:
        return sorted(set(self._paths) | set(self._policies))

    def default(self) -> str:
        """The agent new sessions start with."""
        d = self._default or agents.default_zoo_agent()
        names = self.names()
        if not names:
            raise ValueError("no agent: the zoo is empty and none was given")
        return d if d in names else names[0]

    def check(self, name: str, field: str = "agent") -> str:
        if name not in self.names():
            raise InputError(field, f"unknown agent {name!r}; allowed: {self.names()}")
        return name

    def get(self, name: str) -> Any:
        """The policy ``name`` (loaded on first use)."""
        self.check(name)
        with self._guard:
            if name not in self._policies:
                self._policies[name] = agents.load(self._paths[name])
            self._locks.setdefault(name, threading.Lock())
            return self._policies[name]

    def lock(self, name: str) -> threading.Lock:
        self.get(name)
        return self._locks[name]

    def info(self, name: str) -> dict:
        """``{name, obs, obs_size, layers: [{name, shape}]}``."""
        if name not in self._info:
            pol = self.get(name)
            m = pol.model
            pts = agents.activation_shapes(m).items()
            self._info[name] = {
                "name": name,
                "obs": pol.obs,
                "obs_size": int(m.obs_size),
                "layers": [{"name": n, "shape": list(s)} for n, s in pts],
            }
        return self._info[name]

    def layer_shape(self, name: str, layer: str, field: str = "layer") -> tuple[int, ...]:
        shapes = {x["name"]: tuple(x["shape"]) for x in self.info(name)["layers"]}
        if layer not in shapes:
            raise InputError(field, f"unknown layer {layer!r}; allowed: {sorted(shapes)}")
        return shapes[layer]

    def cheese_channels(self, name: str, layer: str) -> list[int]:
        """The layer's channels ranked best at tracking the cheese (computed once)."""
        key = (name, layer)
        if key not in self._channels:
            with self.lock(name):
                r = steering.discover_cheese_channels(self.get(name), layer, n_mazes=100, validate_top=0)
            self._channels[key] = r.top(DEFAULT_RETARGET_CHANNELS)
        return self._channels[key]
