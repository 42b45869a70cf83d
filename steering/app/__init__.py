"""steering.app: the interactive activation-patching web app (``scripts/serve.py``).

:class:`Session` holds one tab's state (agent, maze and its edits, patches, retarget cell) and
computes what the page shows; :func:`create_app` serves sessions over HTTP with the page in
``static/`` (plain HTML/JS/SVG, no build step, nothing fetched from outside). Notebook users
call :class:`Session` directly and get the same numbers.
"""

from __future__ import annotations

from mazegen.lazy import lazy_exports

_LAZY = {
    "AgentStore": "store",
    "Session": "session",
    "InputError": "errors",
    "patch_types": "patch_json",
    "State": "schemas",
    "MazeSpec": "schemas",
    "create_app": "server",
}

__all__ = list(_LAZY)


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
