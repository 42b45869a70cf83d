"""Patch JSON in the app: :func:`check_no_file_refs` (a client's patches hold arrays inline,
never file paths) and :func:`patch_types` (the registered patch types, for the panel).
"""

from __future__ import annotations

import inspect
from typing import Any

import steering

from .errors import InputError

__all__ = ["check_no_file_refs", "patch_types"]


def check_no_file_refs(x: Any, where: str) -> None:
    """Patch JSON from a client may hold arrays inline only: no ``{"npy": path}``."""
    if isinstance(x, dict):
        if "npy" in x:
            raise InputError(where, "array files ({'npy': path}) are not accepted here; inline the array")
        for v in x.values():
            check_no_file_refs(v, where)
    elif isinstance(x, list):
        for v in x:
            if isinstance(v, (dict, list)):
                check_no_file_refs(v, where)


def patch_types() -> list[dict]:
    """Every registered patch type: name, summary and constructor fields (for the panel).

    Built from ``steering.PATCH_TYPES``, so types added there appear without app changes.
    """
    out = []
    for name, cls in sorted(steering.PATCH_TYPES.items()):
        doc = inspect.getdoc(cls) or ""
        fields = []
        for p in list(inspect.signature(cls.__init__).parameters.values())[1:]:
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                continue
            default = None if p.default is p.empty else p.default
            if not isinstance(default, (int, float, str, bool, type(None))):
                default = None
            fields.append({"name": p.name, "required": p.default is p.empty, "default": default})
        out.append({"type": name, "summary": doc.split("\n\n")[0], "doc": doc, "fields": fields})
    return out
