"""The ``scripts/train.py`` CLI and config files: one ``--flag`` per :class:`TrainConfig` field.

Settings come from defaults, then a YAML/JSON file (``--config``), then flags; ``--resume
RUN_DIR`` starts from the run's ``config.json``.

>>> c, resume = config_from_args(["--total-steps", "2048", "--obs", "rgb"])
>>> (c.total_steps, c.obs, resume)
(2048, 'rgb', False)
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import fields
from pathlib import Path
from typing import Any, Callable

from .config import TrainConfig

__all__ = ["load_config_file", "build_arg_parser", "config_from_args"]


def load_config_file(path: str | os.PathLike) -> dict:
    """Read a YAML (``.yaml``/``.yml``) or JSON config file into a dict of TrainConfig fields."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"config file not found: {p}")
    text = p.read_text()
    if p.suffix in (".yaml", ".yml"):
        import yaml

        data = yaml.safe_load(text) or {}
    elif p.suffix == ".json":
        data = json.loads(text)
    else:
        raise ValueError(f"config file must end in .yaml, .yml or .json, got {p.name!r}")
    if not isinstance(data, dict):
        raise ValueError(f"config file {p} must hold a mapping, got {type(data).__name__}")
    return data


def _field_type(f: dataclasses.Field) -> Callable[[str], Any]:
    t = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    base = t.replace(" | None", "").strip()
    conv = {"int": int, "float": float, "str": str}[base]
    if "None" in t:
        return lambda s: None if s.lower() in ("none", "null", "") else conv(s)
    return conv


def build_arg_parser(prog: str | None = None):
    """argparse parser with one ``--flag`` per TrainConfig field (help from the field metadata)."""
    import argparse

    parser = argparse.ArgumentParser(
        prog=prog,
        description="Train the IMPALA maze policy with PPO (stable-baselines3), or by "
        "distillation from a grid agent with --teacher. "
        "Settings come from defaults < --config file < command-line flags.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--config", help="YAML or JSON file of TrainConfig fields.")
    parser.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help="Continue the run in RUN_DIR from its last checkpoint (its config.json, then flags).",
    )
    group = parser.add_argument_group("TrainConfig fields")
    for f in fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        if f.type in ("bool", bool):
            group.add_argument(
                flag,
                action=argparse.BooleanOptionalAction,
                default=argparse.SUPPRESS,
                help=f.metadata["help"] + f" (default: {f.default})",
            )
        else:
            group.add_argument(
                flag,
                type=_field_type(f),
                default=argparse.SUPPRESS,
                metavar=f.name.upper(),
                help=f.metadata["help"] + f" (default: {f.default})",
            )
    return parser


def config_from_args(argv: list[str] | None = None) -> tuple[TrainConfig, bool]:
    """Parse CLI arguments into ``(config, resume)``."""
    args = vars(build_arg_parser().parse_args(argv))
    config_file = args.pop("config", None)
    resume_dir = args.pop("resume", None)
    values: dict = {}
    if resume_dir is not None:
        cfg_path = Path(resume_dir) / "config.json"
        if not cfg_path.is_file():
            raise ValueError(f"cannot resume {resume_dir}: no config.json there")
        values.update(TrainConfig.from_dict(load_config_file(cfg_path), saved=True).to_dict())
    if config_file is not None:
        values.update(load_config_file(config_file))
    values.update(args)
    if resume_dir is not None:
        values["run_dir"] = str(resume_dir)
    return TrainConfig.from_dict(values), resume_dir is not None

