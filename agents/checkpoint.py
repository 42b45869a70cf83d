"""Checkpoints and the model zoo.

Our format is one ``.pt`` file (``torch.save`` of a plain dict, loadable with
``weights_only=True``)::

    {"format": "cheese-maze-agent/1",
     "model_state_dict": {...},            # ImpalaModel keys = procgen-tools keys
     "model_config": {"in_channels", "channels", "num_actions", "obs_size", "fc_dim"},
     "obs": "grid" | "rgb",
     "metadata": {...}}                     # free-form, JSON-like (steps, config, ...)

:func:`load` takes a path or a zoo name (a directory ``agents/zoo/<name>/`` holding
``model.pt``, ``card.json`` and ``train_log.csv``; :func:`zoo_names` lists them) and returns a
:class:`~agents.policy.Policy`. It works offline.

**Published procgen-tools maze agents.** The agents of Langosco et al. / Mini et al. are
``.pth`` files holding a dict whose ``model_state_dict`` uses the same key names as our
:class:`~agents.model.ImpalaModel` (scale 4, 64x64 rgb input). None can be downloaded here.
If you have one (e.g. procgen-tools' ``trained_models/maze_I/model_rand_region_5.pth``)::

    import agents, mazegen
    policy = agents.load_procgen_tools_checkpoint("model_rand_region_5.pth")  # or agents.load
    env = mazegen.make_vec_env(64, obs="rgb", cheese="top-right:5", seed=0)  # procgen's frames
    obs = env.reset()
    actions = policy.act(obs)       # rgb HWC uint8 batches, exactly as the env returns them

``obs="rgb"`` is procgen's own textured frame by default, the frames these agents trained on;
the loaded policy records ``rgb_style="textured"``, so rollouts, sweeps and steering show it
the same frames (:func:`agents.policy.rgb_style`).

The scale is inferred from ``embedder.block1.conv.weight`` (16 x scale output channels) and
the input side from ``embedder.fc.weight`` (``channels[2] * ceil(S/8)^2`` inputs; S = 64).
Files are read with ``torch.load(weights_only=True)``; pass ``trusted=True`` only for files
whose origin you trust if they hold other pickled objects.

>>> import tempfile, os
>>> from agents.model import ImpalaModel
>>> from agents.policy import Policy
>>> d = tempfile.mkdtemp()
>>> pol = Policy(ImpalaModel(obs_size=25), obs="grid")
>>> p = save(pol, os.path.join(d, "a.pt"), metadata={"steps": 7})
>>> pol = load(p)
>>> pol.obs, pol.model.channels, pol.metadata["steps"]
('grid', (16, 32, 32), 7)
"""

from __future__ import annotations

import json
import os
import pickle
import tempfile
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import torch

from mazegen.constants import RGB_STYLES

from .model import ImpalaModel, pooled_size
from .policy import OBS_KINDS, Policy, metadata_rgb_style

_UMASK = os.umask(0)
os.umask(_UMASK)


def _publishable(tmp: str) -> None:
    """mkstemp makes 0600 files; give the final file the usual umask-based mode."""
    os.chmod(tmp, 0o666 & ~_UMASK)


__all__ = [
    "save",
    "load",
    "zoo_names",
    "zoo_dir",
    "default_zoo_agent",
    "DEFAULT_AGENT",
    "ZOO_DIR",
    "load_procgen_tools_checkpoint",
    "read_checkpoint",
    "atomic_torch_save",
    "atomic_write",
    "atomic_write_text",
    "FORMAT",
]

FORMAT = "cheese-maze-agent/1"
#: Directory of the zoo: one sub-directory per agent.
ZOO_DIR = Path(__file__).resolve().parent / "zoo"


def atomic_write(
    path: str | os.PathLike, write: Callable[[IO], Any], *, binary: bool = False
) -> Path:
    """Write ``path`` atomically: ``write(f)`` fills a temp file in the same directory, which is
    flushed, synced, given the usual umask-based mode and then moved over ``path`` (``os.replace``).

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "sub", "a.bin")
    >>> p = atomic_write(path, lambda f: f.write(b"hi"), binary=True)
    >>> p.read_bytes(), os.listdir(p.parent)
    (b'hi', ['a.bin'])
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb" if binary else "w") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        _publishable(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (temp file in the same dir, then ``os.replace``)."""
    return atomic_write(path, lambda f: f.write(text))


def atomic_torch_save(obj: Any, path: str | os.PathLike) -> Path:
    """``torch.save`` to ``path`` atomically (temp file in the same dir, then ``os.replace``)."""
    return atomic_write(path, lambda f: torch.save(obj, f), binary=True)


def save(
    policy: Policy | ImpalaModel,
    path: str | os.PathLike,
    *,
    obs: str | None = None,
    metadata: dict | None = None,
) -> Path:
    """Save a policy (or a bare model plus its ``obs`` kind) to ``path`` in our format.

    An rgb checkpoint's metadata always holds ``rgb_style``, the frames its policy sees
    (:func:`agents.policy.metadata_rgb_style` of the merged metadata: ``metadata={"rgb_style":
    "mono"}`` for a policy trained on monochrome frames; procgen's own frame otherwise).
    """
    if isinstance(policy, Policy):
        model, kind = policy.model, policy.obs if obs is None else obs
        meta = {**policy.metadata, **(metadata or {})}
    elif isinstance(policy, ImpalaModel):
        if obs is None:
            raise ValueError("saving a bare ImpalaModel needs obs='grid' or obs='rgb'")
        model, kind, meta = policy, obs, dict(metadata or {})
    else:
        raise ValueError(f"save() takes a Policy or an ImpalaModel, got {type(policy).__name__}")
    if kind not in OBS_KINDS:
        raise ValueError(f"obs must be one of {sorted(OBS_KINDS)}, got {kind!r}")
    if kind == "rgb":
        style = metadata_rgb_style(meta)
        if style not in RGB_STYLES:
            raise ValueError(f"rgb_style must be one of {RGB_STYLES}, got {style!r}")
        meta["rgb_style"] = style  # every rgb checkpoint records the frames its policy sees
    try:
        json.dumps(meta)  # fail early (before writing) on metadata that is not JSON-like
    except TypeError as e:
        raise ValueError(f"metadata must be JSON-serializable: {e}") from None
    payload = {
        "format": FORMAT,
        "model_state_dict": {
            k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()
        },
        "model_config": model.config(),
        "obs": kind,
        "metadata": meta,
    }
    return atomic_torch_save(payload, path)


#: The start of the error for a file that is no checkpoint at all.
NOT_A_CHECKPOINT = "not a checkpoint of this project or of procgen-tools"


def _not_a_checkpoint(path: Path, why: str) -> ValueError:
    return ValueError(f"{NOT_A_CHECKPOINT}: {path} ({why})")


def _torch_load(path: Path, trusted: bool) -> Any:
    """``torch.load`` of ``path``; a file torch cannot read (empty, truncated, random bytes,
    another format) raises one ValueError starting with :data:`NOT_A_CHECKPOINT`."""
    if path.stat().st_size == 0:
        raise _not_a_checkpoint(path, "the file is empty")
    with open(path, "rb") as f:
        head = f.read(2)
    if not zipfile.is_zipfile(path) and not (
        head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05")
    ):
        raise _not_a_checkpoint(
            path,
            "neither a torch.save zip archive nor a legacy torch pickle: empty, truncated or another format",
        )
    try:
        with warnings.catch_warnings():  # random bytes can look like an odd pickle protocol
            warnings.filterwarnings("ignore", message=".*pickle protocol", category=UserWarning)
            return torch.load(path, map_location="cpu", weights_only=not trusted)
    except pickle.UnpicklingError as e:
        if "weights only load failed" in str(e).lower():
            raise ValueError(
                f"{path} holds pickled objects other than tensors and plain containers; "
                "pass trusted=True if you trust its origin"
            ) from e
        raise _not_a_checkpoint(path, f"unreadable: {str(e).splitlines()[0][:200]}") from e
    except Exception as e:  # torch raises many types here (RuntimeError, EOFError, IndexError, ...)
        first = (str(e).splitlines() or [type(e).__name__])[0][:200]
        raise _not_a_checkpoint(path, f"unreadable, truncated or another format: {first}") from e


def read_checkpoint(path: str | os.PathLike, *, trusted: bool = False) -> dict:
    """The raw dict of one of our ``.pt`` files (checks the format)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"checkpoint file not found: {path}")
    data = _torch_load(path, trusted)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"{path} is not a {FORMAT} checkpoint")
    return data


def zoo_dir(name: str) -> Path:
    """The directory of zoo agent ``name`` (it must exist)."""
    d = ZOO_DIR / name
    if not (d / "model.pt").is_file():
        raise ValueError(f"unknown zoo agent {name!r}; available: {zoo_names()}")
    return d


def zoo_names() -> list[str]:
    """Names of the zoo agents: sub-directories of ``agents/zoo`` that contain ``model.pt``."""
    if not ZOO_DIR.is_dir():
        return []
    return sorted(p.name for p in ZOO_DIR.iterdir() if (p / "model.pt").is_file())


#: The zoo agent the demo, RESULTS.md and the benchmarks use unless told otherwise.
DEFAULT_AGENT = "grid-r5-long-s1"


def default_zoo_agent() -> str | None:
    """:data:`DEFAULT_AGENT` when the zoo has it, else the first zoo agent, else None."""
    names = zoo_names()
    if DEFAULT_AGENT in names:
        return DEFAULT_AGENT
    return names[0] if names else None


def _unknown_agent_message(name: str) -> str:
    """Why ``name`` is no agent; a zoo training run that was never published is named as such
    with the path of its newest checkpoint (a run below its bar has ``run/`` but no ``model.pt``)."""
    run = ZOO_DIR / name / "run" if name and os.sep not in name else None
    if run is not None and (run / "model.pt").is_file():
        return (
            f"{name!r} is a zoo training run that has not been published (agents/zoo/{name}/ has "
            f"no model.pt or card; its newest checkpoint is {run / 'model.pt'}, loadable by that "
            f"path); published zoo agents: {zoo_names()}"
        )
    return f"{name!r} is neither a file nor a zoo agent; zoo agents: {zoo_names()}"


def load(
    path_or_name: str | os.PathLike,
    *,
    device: str | torch.device = "cpu",
    fast: bool = False,
    trusted: bool = False,
) -> Policy:
    """Load a :class:`Policy` from our ``.pt`` file, a zoo name or a procgen-tools ``.pth``.

    A zoo name is looked up first when ``path_or_name`` is not an existing path. The returned
    policy's ``metadata`` holds the checkpoint's metadata (and ``card`` for zoo agents).
    """
    p = Path(path_or_name)
    card = None
    if not p.exists():
        if (
            isinstance(path_or_name, str)
            and os.sep not in path_or_name
            and path_or_name in zoo_names()
        ):
            d = zoo_dir(path_or_name)
            p = d / "model.pt"
            if (d / "card.json").is_file():
                card = json.loads((d / "card.json").read_text())
        else:
            raise ValueError(_unknown_agent_message(str(path_or_name)))
    if p.is_dir():
        if not (p / "model.pt").is_file():
            raise ValueError(f"directory {p} has no model.pt")
        p = p / "model.pt"
    data = _torch_load(p, trusted)
    if isinstance(data, dict) and data.get("format") == FORMAT:
        try:
            model = ImpalaModel(**data["model_config"])
            model.load_state_dict(data["model_state_dict"])
            policy = Policy(model, obs=data["obs"], device=device, fast=fast)
        except (KeyError, TypeError, RuntimeError, ValueError) as e:
            first = (str(e).splitlines() or [type(e).__name__])[0][:200]
            raise _not_a_checkpoint(p, f"a damaged {FORMAT} file: {first}") from e
        policy.metadata = dict(data.get("metadata") or {})
    elif isinstance(data, dict) and "model_state_dict" in data:
        policy = _from_procgen_tools(data["model_state_dict"], device=device, fast=fast, source=p)
    else:
        raise _not_a_checkpoint(
            p,
            f"it holds a {type(data).__name__} without 'format': {FORMAT!r} or 'model_state_dict'",
        )
    if card is not None:
        policy.metadata["card"] = card
    return policy


def _from_procgen_tools(state: dict, *, device, fast: bool, source: Path) -> Policy:
    if not isinstance(state, dict):
        raise _not_a_checkpoint(
            source, f"its model_state_dict is a {type(state).__name__}, not a dict"
        )
    state = {k.removeprefix("module."): v for k, v in state.items()}
    try:
        c1 = state["embedder.block1.conv.weight"].shape[0]
        in_ch = state["embedder.block1.conv.weight"].shape[1]
        c2 = state["embedder.block2.conv.weight"].shape[0]
        c3 = state["embedder.block3.conv.weight"].shape[0]
        fc_dim, fc_in = state["embedder.fc.weight"].shape
        n_actions = state["fc_policy.weight"].shape[0]
    except (KeyError, AttributeError, TypeError, ValueError) as e:
        raise _not_a_checkpoint(
            source, f"its model_state_dict lacks the procgen-tools key or shape {e.args[0]!r}"
        ) from None
    side = pooled_size(pooled_size(pooled_size(64)))
    if fc_in != c3 * side * side:
        raise ValueError(
            f"{source}: embedder.fc takes {fc_in} inputs, expected {c3}*{side}*{side} "
            "for 64x64 rgb input"
        )
    model = ImpalaModel(
        in_channels=in_ch, channels=(c1, c2, c3), num_actions=n_actions, obs_size=64, fc_dim=fc_dim
    )
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise _not_a_checkpoint(source, f"its model_state_dict does not fit: {str(e)[:200]}") from e
    policy = Policy(model, obs="rgb", device=device, fast=fast)
    policy.metadata = {
        "source": str(source),
        "format": "procgen-tools",
        "scale": c1 // 16,
        "rgb_style": "textured",  # the published agents trained on procgen's own frames
    }
    return policy


def load_procgen_tools_checkpoint(
    path: str | os.PathLike,
    *,
    device: str | torch.device = "cpu",
    fast: bool = False,
    trusted: bool = False,
) -> Policy:
    """Load a published procgen-tools maze agent (``.pth`` with ``model_state_dict``).

    Returns an rgb :class:`Policy` (64x64 input).

    See the module docstring for how to run it in our env.
    """
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"checkpoint file not found: {p}")
    data = _torch_load(p, trusted)
    if not isinstance(data, dict) or "model_state_dict" not in data:
        raise ValueError(f"{p} is not a procgen-tools checkpoint (no 'model_state_dict' key)")
    return _from_procgen_tools(data["model_state_dict"], device=device, fast=fast, source=p)
