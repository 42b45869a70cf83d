"""Forward hooks on named activations: read them, replace them, list them.

Every activation of :class:`agents.model.ImpalaModel` is the output of its own named module
(``embedder.block2.res1.resadd_out``, ``embedder.fc``, ...), so a forward hook on that module
sees the activation and may replace it. This module wraps that in three tools:

- :func:`hooks`: a context manager installing ``{name_or_filter: fn}`` hooks, always removed
  on exit (also when the body raises). ``fn(act, name)`` returns None (keep) or a tensor
  (replace).
- :func:`run_with_cache`: one forward pass returning the output and the activations.
- :func:`list_hook_points`: the hookable names and their activation shapes.

>>> import torch
>>> from torch import nn
>>> net = nn.Sequential()
>>> net.add_module("lin", nn.Linear(2, 2)); net.add_module("relu", nn.ReLU())
>>> x = torch.ones(1, 2)
>>> with hooks(net, {"relu": lambda act, name: act * 0}):
...     net(x).abs().sum().item()
0.0
>>> len(net.relu._forward_hooks)
0
>>> out, cache = run_with_cache(net, x, names=["lin"])
>>> sorted(cache), tuple(cache["lin"].shape)
(['lin'], (1, 2))
>>> list_hook_points(net, (2,))
[('lin', (2,)), ('relu', (2,))]
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Union

import torch
from torch import nn

__all__ = [
    "HookFn",
    "NameSpec",
    "hooks",
    "leaf_names",
    "list_hook_points",
    "resolve_names",
    "run_with_cache",
]

#: ``fn(act, name) -> act | None``: None keeps the activation, a tensor replaces it.
HookFn = Callable[[torch.Tensor, str], torch.Tensor | None]
#: A module name (exact) or a filter ``name -> bool`` over the model's hook points.
NameSpec = Union[str, Callable[[str], bool]]


def leaf_names(model: nn.Module) -> list[str]:
    """Names of the leaf modules (the activation producers), in registration order."""
    return [n for n, m in model.named_modules() if n and not list(m.children())]


def resolve_names(model: nn.Module, spec: NameSpec) -> list[str]:
    """The module names a spec selects; ValueError naming the choices if it selects none.

    An exact name may be any submodule (leaf or not); a filter runs over the leaf modules.
    """
    modules = dict(model.named_modules())
    if isinstance(spec, str):
        if spec not in modules or spec == "":
            raise ValueError(
                f"unknown hook point {spec!r}; choose one of {leaf_names(model)}"
            )
        return [spec]
    if callable(spec):
        names = [n for n in leaf_names(model) if spec(n)]
        if not names:
            raise ValueError(f"filter {spec!r} matches no hook point of {leaf_names(model)}")
        return names
    raise ValueError(f"hook key must be a module name or a callable filter, got {spec!r}")


def _make_hook(fn: HookFn, name: str):
    def hook(module: nn.Module, inputs, output):
        new = fn(output, name)
        if new is None:
            return None
        if not isinstance(new, torch.Tensor):
            raise ValueError(
                f"hook for {name!r} must return None or a tensor, got {type(new).__name__}"
            )
        if new.shape != output.shape:
            raise ValueError(
                f"hook for {name!r} returned shape {tuple(new.shape)}, "
                f"expected {tuple(output.shape)}"
            )
        return new

    return hook


@contextlib.contextmanager
def hooks(model: nn.Module, fns: Mapping[NameSpec, HookFn]) -> Iterator[nn.Module]:
    """Install forward hooks for the duration of a ``with`` block; always removes them.

    Several specs may select the same module: their functions run in the mapping's order, each
    seeing the previous one's output.
    """
    handles = []
    try:
        for spec, fn in fns.items():
            if not callable(fn):
                raise ValueError(f"hook function for {spec!r} must be callable, got {fn!r}")
            modules = dict(model.named_modules())
            for name in resolve_names(model, spec):
                handles.append(modules[name].register_forward_hook(_make_hook(fn, name)))
        yield model
    finally:
        for h in handles:
            h.remove()


def run_with_cache(
    model: nn.Module,
    x: torch.Tensor,
    names: Iterable[NameSpec] | NameSpec | None = None,
    *,
    detach: bool = True,
) -> tuple[object, dict[str, torch.Tensor]]:
    """One forward pass: ``(output, {name: activation})`` for the selected hook points.

    ``names=None`` caches every leaf module. Activations are detached clones (``detach``) so
    later in-place edits cannot change them.
    """
    if names is None:
        specs: Sequence[NameSpec] = leaf_names(model)
    elif isinstance(names, str) or callable(names):
        specs = [names]
    else:
        specs = list(names)
    cache: dict[str, torch.Tensor] = {}

    def store(act: torch.Tensor, name: str) -> None:
        cache[name] = act.detach().clone() if detach else act

    with hooks(model, {s: store for s in specs}):
        ctx = torch.no_grad() if detach else contextlib.nullcontext()
        with ctx:
            out = model(x)
    return out, cache


def list_hook_points(model: nn.Module, obs_shape: Sequence[int]) -> list[tuple[str, tuple[int, ...]]]:
    """``[(name, activation shape without batch)]`` for every leaf module, in forward order.

    ``obs_shape`` is one input's shape without the batch dim, e.g. ``(3, 25, 25)``. Modules
    that do not run in the forward pass are left out.
    """
    param = next(model.parameters(), None)
    kw = {} if param is None else {"dtype": param.dtype, "device": param.device}
    x = torch.zeros((1, *tuple(int(s) for s in obs_shape)), **kw)
    order: list[str] = []
    shapes: dict[str, tuple[int, ...]] = {}

    def rec(act: torch.Tensor, name: str) -> None:
        if name not in shapes:
            order.append(name)
        shapes[name] = tuple(act.shape[1:])

    with hooks(model, {(lambda n: True): rec}), torch.no_grad():
        model(x)
    return [(n, shapes[n]) for n in order]


class _CallableModule(type(contextlib)):
    """This module's type: calling the module calls :func:`hooks`. Importing a submodule
    (``import steering.hooks``, or anything that imports it) rebinds the package attribute
    ``steering.hooks`` to this module, so ``steering.hooks(model, {...})`` must work on both."""

    def __call__(self, model: nn.Module, fns: Mapping[NameSpec, HookFn]):
        return hooks(model, fns)


import sys as _sys  # noqa: E402

_sys.modules[__name__].__class__ = _CallableModule
