"""Ray task layer: run independent units (sweep units, retarget units, training runs) as Ray
tasks, or in this process when Ray is not asked for.

:func:`map_units` calls ``fn(*args)`` for every unit and hands each result to the driver's
``on_result(index, result)`` as it arrives, so the driver alone writes the run directory
(resume after a kill works as without Ray: a unit whose file exists is not sent again). With
``ray=None`` nothing changes: the units run here, in order. With Ray, a task whose worker dies
(``kill -9``, a lost node) is retried by Ray (``max_retries``); a killed attempt returns
nothing, so no unit is lost or counted twice. Results do not depend on where or in which
order units ran, because every unit carries its own seeds.

Addresses (the ``--ray [ADDRESS]`` option of the scripts, see :func:`add_ray_option`):

- ``"local"`` (``--ray`` alone): connect to ``$RAY_ADDRESS`` when it is set, else start a local
  Ray with this machine's cores (``ray.init(num_cpus=..., include_dashboard=False)``);
- ``"auto"``, ``"HOST:PORT"``, ``"ray://HOST:PORT"``: connect to that cluster
  (``ray start --head`` on one machine, ``ray start --address=HOST:PORT`` on the others).

Ray is the optional extra ``cluster`` (``pip install -e .[cluster]``); it is imported only
when asked for.

>>> map_units(pow, [(2, 3), (3, 2)])
[8, 9]
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["map_units", "init_ray", "add_ray_option", "LOCAL"]

#: The ``--ray`` value meaning "this machine (or $RAY_ADDRESS)".
LOCAL = "local"


def add_ray_option(p: argparse.ArgumentParser) -> None:
    """Add ``--ray [ADDRESS]`` to a parser (``args.ray``: None, ``"local"`` or an address)."""
    p.add_argument(
        "--ray",
        nargs="?",
        const=LOCAL,
        default=None,
        metavar="ADDRESS",
        help="run the units as Ray tasks: alone, on $RAY_ADDRESS or a local Ray with this "
        "machine's cores; with ADDRESS (auto, HOST:PORT, ray://HOST:PORT), on that cluster "
        "(needs the [cluster] extra)",
    )


def init_ray(address: str = LOCAL, *, num_cpus: int | None = None):
    """Connect to (or start) Ray as ``address`` says (see the module docstring); returns the
    ``ray`` module. Reuses a Ray already initialised in this process. ``num_cpus`` sizes a
    local Ray (default: ``os.cpu_count()``)."""
    if not isinstance(address, str) or not address:
        raise ValueError(f"ray address must be 'local', 'auto', HOST:PORT or ray://..., got {address!r}")
    try:
        import ray
    except ImportError:
        raise ValueError(
            "--ray needs Ray: pip install -e '.[cluster]' (ray==2.60.0)"
        ) from None
    if ray.is_initialized():
        return ray
    kw: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
    if address != LOCAL:
        ray.init(address=address, **kw)
    elif os.environ.get("RAY_ADDRESS"):
        ray.init(**kw)
    else:
        ray.init(num_cpus=num_cpus or os.cpu_count() or 1, **kw)
    return ray


def map_units(
    fn: Callable[..., Any],
    units: Sequence[tuple],
    *,
    ray: str | None = None,
    on_result: Callable[[int, Any], None] | None = None,
    num_cpus: float | Sequence[float] = 1,
    max_retries: int = 3,
    progress: bool = False,
    desc: str = "units",
) -> list:
    """``[fn(*units[0]), fn(*units[1]), ...]``; each result also goes to ``on_result(i, result)``
    on the driver as soon as it is known (in order without Ray, in completion order with it).

    ``ray``: None (run here, in order) or an address for :func:`init_ray`. ``num_cpus``: CPUs
    Ray reserves per task, one number or one per unit (a worker per task; the task sets its own
    torch threads).
    ``max_retries``: how often Ray re-runs a task whose worker died.
    """
    units = [tuple(u) for u in units]
    cpus = [num_cpus] * len(units) if isinstance(num_cpus, (int, float)) else list(num_cpus)
    if len(cpus) != len(units) or any(not c > 0 for c in cpus):
        raise ValueError(f"num_cpus must be a positive number or one per unit, got {num_cpus!r}")
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(units), desc=desc, unit="unit")
    results: list = [None] * len(units)
    try:
        if ray is None:
            for i, args in enumerate(units):
                results[i] = fn(*args)
                if on_result is not None:
                    on_result(i, results[i])
                if bar is not None:
                    bar.update(1)
            return results
        rt = init_ray(ray)
        remote = rt.remote(max_retries=max_retries)(fn)
        # big arguments (a policy) go to the object store once, not once per task
        shared: dict[int, Any] = {}

        def put(a: Any) -> Any:
            if isinstance(a, (str, int, float, bool, type(None))):
                return a
            key = id(a)
            if key not in shared:
                shared[key] = rt.put(a)
            return shared[key]

        pending = {
            remote.options(num_cpus=cpus[i]).remote(*[put(a) for a in args]): i
            for i, args in enumerate(units)
        }
        while pending:
            done, _ = rt.wait(list(pending), num_returns=1)
            for ref in done:
                i = pending.pop(ref)
                results[i] = rt.get(ref)
                if on_result is not None:
                    on_result(i, results[i])
                if bar is not None:
                    bar.update(1)
        return results
    finally:
        if bar is not None:
            bar.close()
