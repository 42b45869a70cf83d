#!/usr/bin/env python
"""Serve the interactive activation-patching app on this machine.

Examples::

    python scripts/serve.py                          # zoo agents, default grid-r5-long-s1
    python scripts/serve.py --agent grid-r5-1ep-s1 --port 8765
    python scripts/serve.py --agent runs/train-x/model.pt   # a checkpoint, offered beside the zoo

The server binds 127.0.0.1 unless ``--host`` says otherwise, prints the URL and serves until
Ctrl-C. Every asset comes from the project (no network). Agents come only from the zoo or the
``--agent`` path given here; no endpoint reads or writes other files.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from steering.cli import int_at_least


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="serve.py",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__,
    )
    p.add_argument("--agent", default=None, help="zoo agent name or a checkpoint path (default: the zoo's default agent)")
    p.add_argument("--port", type=int_at_least(1, "--port"), default=8765, help="TCP port (default 8765)")
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--torch-threads", type=int_at_least(1, "--torch-threads"), default=1,
                   help="torch intra-op threads (default 1: fastest on a busy 2-core machine)")
    p.add_argument("--max-sessions", type=int_at_least(1, "--max-sessions"), default=32,
                   help="tabs kept server-side; the least recently used is dropped beyond this")
    return p


def make_app(agent: str | None, max_sessions: int = 32):
    """The app with the zoo plus ``agent`` (a zoo name or a path), ``agent`` the default."""
    import agents
    from steering.app import AgentStore, create_app

    paths = {}
    default = agent
    if agent is not None and agent not in agents.zoo_names():
        path = Path(agent)
        if not path.exists():
            raise SystemExit(f"error: --agent {agent!r} is neither a zoo agent {agents.zoo_names()} nor a file")
        # a name for the menu: the file's stem, or its folder's name for .../model.pt
        named = path.resolve().parent if path.is_file() and path.stem == "model" else path
        default = named.stem
        paths[default] = path
    store = AgentStore(paths=paths, default=default)
    store.get(store.default())  # load now: a bad checkpoint fails here, not in the browser
    return create_app(store, max_sessions=max_sessions)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.port > 65535:
        raise SystemExit(f"error: --port must be in [1, 65535], got {args.port}")
    import torch
    import uvicorn

    torch.set_num_threads(args.torch_threads)
    app = make_app(args.agent, args.max_sessions)
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"serving on http://{host}:{args.port}/  (Ctrl-C to stop)", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
