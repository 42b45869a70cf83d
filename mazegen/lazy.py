"""Lazy exports for package roots: a public name is imported from its submodule on first use.

The package roots (``mazegen``, ``agents``, ``steering``, ...) name their public functions and
classes in a table ``{name: submodule}`` and get their module ``__getattr__`` / ``__dir__``
from :func:`lazy_exports`, so ``import agents`` stays light and ``agents.load`` still works.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, table: Mapping[str, str]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``, whose public name ``n`` lives in its
    submodule ``table[n]`` (relative to the package, e.g. ``"eval.rollout"``). A name, once
    resolved, is stored in the package's namespace; an unknown name raises AttributeError.

    >>> getattr_, _ = lazy_exports("mazegen", {"Level": "level"})
    >>> getattr_("Level").__name__
    'Level'
    """

    def __getattr__(name: str) -> object:
        mod = table.get(name)
        if mod is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{mod}", package), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(table))

    return __getattr__, __dir__
