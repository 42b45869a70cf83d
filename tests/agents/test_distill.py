"""Tests of distillation (``TrainConfig.teacher``; :mod:`agents.train.distill`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

from agents.checkpoint import load, save
from agents.model import ImpalaModel
from agents.train.distill import teacher_share
from agents.train.loop import TrainConfig, config_from_args, train
from agents.train.state import latest_checkpoint, policy_from_train_checkpoint

sys.path.insert(0, str(Path(__file__).parent))
from _train_config import log_rows, small_config  # noqa: E402


@pytest.fixture(scope="module")
def teacher_path(tmp_path_factory) -> str:
    """A grid teacher with fixed random weights: sharp, state-dependent action preferences."""
    torch.manual_seed(7)
    model = ImpalaModel(obs_size=25)
    with torch.no_grad():
        model.fc_policy.weight.mul_(20.0)
    path = tmp_path_factory.mktemp("teacher") / "teacher.pt"
    save(model, path, obs="grid")
    return str(path)


def _cfg(tmp_path, teacher, name="run", **kw) -> TrainConfig:
    sizes = dict(teacher_mix_steps=256, maze_size="5", total_steps=1024, n_envs=8, n_steps=32,
                 batch_size=64, n_epochs=1, fast=False)
    return small_config(tmp_path, name, teacher=teacher, **{**sizes, **kw})


def _weights(run_dir) -> dict:
    policy, _ = policy_from_train_checkpoint(latest_checkpoint(run_dir))
    return policy.model.state_dict()


def test_teacher_share_falls_linearly_to_zero():
    assert [teacher_share(s, 1000) for s in (0, 250, 1000, 5000)] == [1.0, 0.75, 0.0, 0.0]
    assert teacher_share(0, 0) == 0.0


def test_student_learns_the_teachers_choices(tmp_path, teacher_path):
    cfg = _cfg(tmp_path, teacher_path, total_steps=6144, learning_rate=2e-3)
    summary = train(cfg)
    assert summary["steps"] == 6144 and not summary["stopped"]
    rows = log_rows(cfg.run_dir)
    assert len(rows) == 6144 // 256
    kl = [float(r["approx_kl"]) for r in rows]
    disagree = [float(r["clip_fraction"]) for r in rows]
    # the student starts near-uniform; fitting the teacher's labels must shrink the gap
    assert sum(kl[-3:]) / 3 < 0.5 * sum(kl[:2]) / 2
    assert sum(disagree[-3:]) / 3 < sum(disagree[:2]) / 2
    assert float(rows[0]["learning_rate"]) == pytest.approx(2e-3)


def test_rgb_student_checkpoint_loads_everywhere(tmp_path, teacher_path):
    cfg = _cfg(tmp_path, teacher_path, obs="rgb", total_steps=512, eval_levels=4,
               eval_greedy=False)  # fmt: skip
    summary = train(cfg)
    assert Path(summary["card"]).is_file() and summary["evaluation"]["n_levels"] == 4
    policy, data = policy_from_train_checkpoint(latest_checkpoint(cfg.run_dir))
    assert policy.obs == "rgb" and data["config"]["teacher"] == teacher_path
    assert load(Path(cfg.run_dir) / "model.pt").obs == "rgb"
    assert policy.model.obs_size == 64


def test_same_seed_same_student_and_resume_continues(tmp_path, teacher_path):
    a = _cfg(tmp_path, teacher_path, name="a", total_steps=512)
    b = _cfg(tmp_path, teacher_path, name="b", total_steps=512)
    train(a)
    train(b)
    wa, wb = _weights(a.run_dir), _weights(b.run_dir)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert log_rows(a.run_dir) == [
        {**r, "wall_time_s": ra["wall_time_s"], "steps_per_s": ra["steps_per_s"]}
        for r, ra in zip(log_rows(b.run_dir), log_rows(a.run_dir))
    ]
    # --resume from a: continues at 512 up to 1024, keeping the first rows
    cont, resume = config_from_args(["--resume", a.run_dir, "--total-steps", "1024"])
    assert resume and cont.teacher == teacher_path
    out = train(cont, resume=True)
    assert out["steps"] == 1024
    steps = [int(r["steps"]) for r in log_rows(a.run_dir)]
    assert steps == [256, 512, 768, 1024]


def test_bad_teacher_settings_fail_before_work(tmp_path, teacher_path):
    rgb_teacher = tmp_path / "rgb_teacher.pt"
    save(ImpalaModel(obs_size=64), rgb_teacher, obs="rgb")
    cfg = _cfg(tmp_path, str(rgb_teacher), name="rgbt")
    with pytest.raises(ValueError, match="a teacher must see 'grid'"):
        train(cfg)
    assert not Path(cfg.run_dir).exists()
    cfg = _cfg(tmp_path, teacher_path, name="easy", distribution_mode="easy")
    with pytest.raises(ValueError, match="15x15 world"):
        train(cfg)
    with pytest.raises(ValueError, match="neither a file nor a zoo agent"):
        train(_cfg(tmp_path, "no-such-agent", name="none"))
    with pytest.raises(ValueError, match="teacher_mix_steps must be >= 0"):
        _cfg(tmp_path, teacher_path, teacher_mix_steps=-1)
    with pytest.raises(ValueError, match="ema_decay must be 0 with a teacher"):
        _cfg(tmp_path, teacher_path, ema_decay=0.9)
    # a run resumed with another teacher
    first = _cfg(tmp_path, teacher_path, name="switch", total_steps=256)
    train(first)
    other = tmp_path / "other.pt"
    save(ImpalaModel(obs_size=25), other, obs="grid")
    with pytest.raises(ValueError, match="cannot resume: the run was trained with teacher="):
        train(_cfg(tmp_path, str(other), name="switch", total_steps=512), resume=True)


def test_replay_and_monitor(tmp_path, teacher_path):
    """With replay the fit draws from the stored states; the monitor logs held-out rates at
    each multiple of monitor_every_steps, from seeds the card never plays, and a resume cuts
    its log back to the checkpoint."""
    cfg = _cfg(tmp_path, teacher_path, name="rm", total_steps=768, replay_steps=768,
               monitor_every_steps=512, monitor_levels=6, checkpoint_steps=256)
    out = train(cfg)
    assert out["steps"] == 768
    rows = log_rows(cfg.run_dir)
    assert [int(r["steps"]) for r in rows] == [256, 512, 768]
    mon = log_rows(cfg.run_dir, "monitor_log.csv")
    assert [int(r["steps"]) for r in mon] == [512]
    assert int(mon[0]["first_level"]) == cfg.held_out_start + 1_000_000
    assert int(mon[0]["levels"]) == 6
    assert 0.0 <= float(mon[0]["ci_lo"]) <= float(mon[0]["cheese_rate"]) <= float(mon[0]["ci_hi"])
    assert 0.0 <= float(mon[0]["cheese_rate_small"]) <= 1.0  # maze_size 5: the small bucket
    # the card carries the monitor
    card = json.loads((Path(cfg.run_dir) / "card.json").read_text())
    assert card["monitor"]["first_level"] == cfg.held_out_start + 1_000_000
    assert [r["steps"] for r in card["monitor"]["rows"]] == [512]
    # milestones to quote come from the monitor: the training rollouts were partly teacher-acted
    rate = float(mon[0]["cheese_rate"])
    got = {m["threshold"]: m["steps"] for m in card["monitor"]["milestones"]}
    assert got == {th: (512 if rate >= th else None) for th in (0.5, 0.8, 0.9)}
    assert "teacher partly acted" in card["learning_curve"]["milestones_note"]
    # the same seed gives the same weights with replay too
    again = _cfg(tmp_path, teacher_path, name="rm2", total_steps=768, replay_steps=768,
                 monitor_every_steps=512, monitor_levels=6, checkpoint_steps=256)
    train(again)
    a, b = _weights(cfg.run_dir), _weights(again.run_dir)
    assert all(torch.equal(a[k], b[k]) for k in a)
    # a resume from 256 drops the monitor rows after it, and writes the one at 512 afresh
    ckpts = sorted((Path(cfg.run_dir) / "checkpoints").glob("ckpt_*.pt"))
    assert [int(p.stem.split("_")[1]) for p in ckpts] == [256, 512, 768]
    for p in ckpts[1:]:
        p.unlink()
    cont, _ = config_from_args(["--resume", cfg.run_dir])
    train(cont, resume=True)
    assert [int(r["steps"]) for r in log_rows(cfg.run_dir, "monitor_log.csv")] == [512]

    from agents.card import snapshot_to_zoo

    dest = snapshot_to_zoo(cfg.run_dir, "rm", eval_levels=0, zoo_root=tmp_path / "zoo")
    assert len(log_rows(dest, "monitor_log.csv")) == 1
    assert json.loads((dest / "card.json").read_text())["monitor"]["levels"] == 6
    assert (dest / "learning_curve.png").stat().st_size > 0  # with the monitor's points


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(replay_steps=100), "replay_steps must be 0 or at least"),
        (dict(monitor_every_steps=-1), "monitor_every_steps must be >= 0"),
        (dict(monitor_levels=0), "monitor_levels must be >= 1"),
    ],
)
def test_bad_replay_and_monitor_settings(tmp_path, teacher_path, kw, match):
    with pytest.raises(ValueError, match=match):
        _cfg(tmp_path, teacher_path, **kw)


def test_replay_and_monitor_need_a_teacher(tmp_path):
    for kw in (dict(replay_steps=20_000), dict(monitor_every_steps=100)):
        with pytest.raises(ValueError, match="applies to distillation only"):
            small_config(tmp_path, **kw)
