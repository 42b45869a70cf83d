"""``run_python``: ``subprocess.run([sys.executable, *args])`` without paying the interpreter's
start-up and imports each time.

Most script tests start ``python scripts/X.py ...`` and spend 2-4 s of CPU per start importing
torch, scikit-learn, matplotlib and stable-baselines3 before the script does its (tiny) work.
Here each run is a child forked from a multiprocessing *forkserver* that imported those once
(the server itself never runs torch code, so no thread pool exists when it forks). The child
is still a separate process, as with ``subprocess``: its own cwd, environment, ``sys.argv``,
signal handlers, global state and exit code (``sys.exit(n)``, an uncaught exception -> 1 with
its traceback on stderr, as the interpreter does), and stdout / stderr go to files that are
read back as text. Only ``[script.py, *argv]`` and ``["-c", code, *argv]`` are forked;
anything else (other interpreters' flags, ``input=``, ...) falls back to ``subprocess.run``.
``PYRUN_SUBPROCESS=1`` turns forking off everywhere.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

__all__ = ["run_python"]

#: Imported once in the fork server (the heavy imports of every script).
PRELOAD = [
    "pyrun",
    "numpy",
    "torch",
    "sklearn.linear_model",
    "matplotlib.pyplot",
    "gymnasium",
    "stable_baselines3",
    "tqdm",
    "yaml",
    "mazegen",
    "agents",
    "agents.eval.rollout",
    "agents.eval.sweep",
    "agents.train.loop",
    "steering",
    "steering.experiments.retarget",
    "steering.experiments.frontier",
]
#: The server's environment while it imports (what the script tests pass anyway).
SERVER_ENV = {"MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}

_lock = threading.Lock()
_ctx = None


def _context():
    global _ctx
    with _lock:
        if _ctx is None:
            here = str(Path(__file__).resolve().parent)
            if here not in sys.path:
                sys.path.insert(0, here)
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(PRELOAD)
            saved = {k: os.environ.get(k) for k in SERVER_ENV}
            os.environ.update(SERVER_ENV)
            try:
                from multiprocessing import forkserver

                forkserver.ensure_running()
            finally:
                for k, v in saved.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v
            _ctx = ctx
        return _ctx


def _child(args: list[str], cwd: str, env: dict, out: str, err: str) -> None:
    """Run ``python *args`` in this (forked) process and ``os._exit`` with its exit code."""
    import atexit
    import runpy
    import traceback

    for fd, path in ((1, out), (2, err)):
        f = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(f, fd)
        os.close(f)
    sys.stdout = open(1, "w", closefd=False)
    sys.stderr = open(2, "w", closefd=False, buffering=1)
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    code = 0
    try:
        if args[0] == "-c":
            sys.argv = ["-c", *args[2:]]
            sys.path[0] = ""
            exec(compile(args[1], "<string>", "exec"), {"__name__": "__main__"})
        else:
            script = os.path.abspath(args[0])
            sys.argv = [args[0], *args[1:]]
            sys.path[0] = os.path.dirname(script)
            runpy.run_path(script, run_name="__main__")
    except SystemExit as e:
        if e.code is None:
            code = 0
        elif isinstance(e.code, int):
            code = e.code
        else:
            print(e.code, file=sys.stderr)
            code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        try:
            atexit._run_exitfuncs()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code & 0xFF)


def _forkable(args: list[str], kw: dict) -> bool:
    if os.environ.get("PYRUN_SUBPROCESS") == "1" or set(kw) - {"capture_output", "text"}:
        return False
    if not kw.get("capture_output") or not kw.get("text"):
        return False
    if not args:
        return False
    if args[0] == "-c":
        return len(args) >= 2
    return args[0].endswith(".py") and not args[0].startswith("-")


def run_python(
    args: list[str], *, cwd, env: dict | None = None, timeout: float | None = None, **kw
) -> subprocess.CompletedProcess:
    """Like ``subprocess.run([sys.executable, *args], cwd=cwd, env=env, timeout=timeout, **kw)``
    (``capture_output=True, text=True`` are what is forked; see the module docstring)."""
    args = [str(a) for a in args]
    full = [sys.executable, *args]
    if not _forkable(args, kw):
        return subprocess.run(full, cwd=cwd, env=env, timeout=timeout, **kw)
    ctx = _context()
    with tempfile.TemporaryDirectory(prefix="pyrun-") as d:
        out, err = os.path.join(d, "out"), os.path.join(d, "err")
        p = ctx.Process(
            target=_child, args=(args, str(cwd), dict(os.environ if env is None else env), out, err)
        )
        p.start()
        p.join(timeout)
        if p.is_alive():
            p.kill()
            p.join()
            raise subprocess.TimeoutExpired(full, timeout)
        read = lambda path: Path(path).read_text(errors="replace") if os.path.exists(path) else ""  # noqa: E731
        code = p.exitcode
        return subprocess.CompletedProcess(full, code, read(out), read(err))
