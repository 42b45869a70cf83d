"""Tests of the SB3 integration and the resumable training loop (on a tiny stand-in env)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
from _tiny_env import tiny_vec_env  # noqa: E402
from _train_config import log_rows, small_config  # noqa: E402

from agents.checkpoint import load  # noqa: E402
from agents.policy import Policy  # noqa: E402
from agents.policy import rgb_style as rgb_style_of  # noqa: E402
from agents.sb3_policy import (
    ImpalaActorCriticPolicy,
    impala_state_dict,
    obs_kind_of_space,
    policy_from_sb3,
)  # noqa: E402
from agents.train.loop import TrainConfig, config_from_args, train  # noqa: E402
from agents.train.state import latest_checkpoint, policy_from_train_checkpoint  # noqa: E402


def _cfg(tmp_path, name="run", **kw) -> TrainConfig:
    sizes = dict(total_steps=1024, n_envs=4, n_steps=64, batch_size=128, n_epochs=2)
    return small_config(tmp_path, name, **{**sizes, **kw})


def _env_fn(config, seed):
    return tiny_vec_env(config.n_envs, seed, rgb=config.obs == "rgb")




def test_sb3_policy_matches_plain_policy_without_255_scaling():
    space = gym.spaces.Box(0, 1, (3, 25, 25), np.uint8)
    sb3 = ImpalaActorCriticPolicy(space, gym.spaces.Discrete(15), lambda _: 1e-3)
    with torch.no_grad():
        sb3.impala.fc_policy.weight.normal_()  # make logits depend on the input
    obs = np.random.default_rng(0).integers(0, 2, (5, 3, 25, 25), dtype=np.uint8)
    plain = policy_from_sb3(sb3)
    assert isinstance(plain, Policy) and plain.obs == "grid"
    with torch.no_grad():
        dist = sb3.get_distribution(torch.as_tensor(obs))
        sb3_probs = dist.distribution.probs.numpy()
        sb3_values = sb3.predict_values(torch.as_tensor(obs).float()).squeeze(-1).numpy()
    np.testing.assert_allclose(sb3_probs, plain.action_probs(obs), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(sb3_values, plain.value(obs), rtol=1e-5, atol=1e-6)
    # obs/255 would give different probabilities: the grid is not divided by 255
    assert not np.allclose(
        plain.action_probs(obs), plain.action_probs((obs / 255.0).astype(np.float32)), atol=1e-4
    )
    assert set(impala_state_dict(sb3)) == set(plain.model.state_dict())


def test_obs_kind_of_space():
    assert obs_kind_of_space(gym.spaces.Box(0, 1, (3, 25, 25), np.uint8)) == ("grid", 25)
    assert obs_kind_of_space(gym.spaces.Box(0, 255, (64, 64, 3), np.uint8)) == ("rgb", 64)
    assert obs_kind_of_space(gym.spaces.Box(0, 255, (3, 64, 64), np.uint8)) == ("rgb", 64)
    with pytest.raises(ValueError):
        obs_kind_of_space(gym.spaces.Box(0, 1, (4, 25, 25), np.uint8))


def test_two_runs_give_identical_weights(tmp_path):
    s1 = train(_cfg(tmp_path, "a", seed=3), env_fn=_env_fn)
    s2 = train(_cfg(tmp_path, "b", seed=3), env_fn=_env_fn)
    s3 = train(_cfg(tmp_path, "c", seed=4), env_fn=_env_fn)
    assert s1["steps"] == s2["steps"] == 1024
    w1, w2, w3 = (load(Path(s["run_dir"]) / "model.pt").model.state_dict() for s in (s1, s2, s3))
    assert all(torch.equal(w1[k], w2[k]) for k in w1)
    assert not all(torch.equal(w1[k], w3[k]) for k in w1)
    # training moved the weights away from their initial values
    assert [r["steps"] for r in log_rows(s1["run_dir"])] == [str(256 * i) for i in range(1, 5)]


def test_checkpoint_schedule_does_not_change_training(tmp_path):
    """Same seed, three checkpoint schedules (every iteration, every third, only the last):
    identical final weights and optimizer state, tensor for tensor."""
    runs = {}
    for name, every in (("every", 256), ("third", 768), ("none", 0)):
        s = train(
            _cfg(tmp_path, name, seed=5, total_steps=1536, checkpoint_steps=every),
            env_fn=_env_fn,
        )
        runs[name] = torch.load(latest_checkpoint(s["run_dir"]), weights_only=True)
    assert len(list((tmp_path / "every" / "checkpoints").iterdir())) == 3  # keep_checkpoints
    a = runs["every"]
    for other in (runs["third"], runs["none"]):
        assert a["num_timesteps"] == other["num_timesteps"] == 1536
        assert set(a["policy"]) == set(other["policy"])
        assert all(torch.equal(a["policy"][k], other["policy"][k]) for k in a["policy"])
        for sa, so in zip(a["optimizer"]["state"].values(), other["optimizer"]["state"].values()):
            assert all(torch.equal(sa[k], so[k]) for k in sa)
        assert torch.equal(a["rng"]["torch"], other["rng"]["torch"])


def test_resume_is_deterministic(tmp_path):
    """Two resumes of one checkpoint give identical weights (a resumed run is not bit-identical
    to an uninterrupted one: the environments restart, episodes in flight are lost)."""
    import shutil

    train(_cfg(tmp_path, "r0", seed=2, total_steps=512), env_fn=_env_fn)
    shutil.copytree(tmp_path / "r0", tmp_path / "r1")
    w = []
    for name in ("r0", "r1"):
        s = train(_cfg(tmp_path, name, seed=2, total_steps=1024), resume=True, env_fn=_env_fn)
        w.append(load(Path(s["run_dir"]) / "model.pt").model.state_dict())
    assert all(torch.equal(w[0][k], w[1][k]) for k in w[0])


def test_resume_falls_back_past_an_unreadable_checkpoint_and_cleans_temp_files(tmp_path, capsys):
    cfg = _cfg(tmp_path, "f", checkpoint_steps=256, keep_checkpoints=3, total_steps=768)
    run = Path(train(cfg, env_fn=_env_fn)["run_dir"])
    ckpts = run / "checkpoints"
    newest = ckpts / "ckpt_000000000768.pt"
    newest.write_bytes(newest.read_bytes()[:100])  # a write cut short (full disk, crash)
    orphans = [ckpts / ".ckpt_000000001024.pt.k3j2.tmp", run / ".model.pt.a8f1.tmp"]
    for p in orphans:
        p.write_bytes(b"half a file")
    capsys.readouterr()
    s = train(_cfg(tmp_path, "f", checkpoint_steps=256, keep_checkpoints=3, total_steps=1024),
              resume=True, env_fn=_env_fn)
    err = capsys.readouterr().err
    assert "ckpt_000000000768.pt is unreadable" in err and "fell back" in err
    assert all(str(p) in err for p in orphans) and not any(p.exists() for p in orphans)
    assert (ckpts / "ckpt_000000000768.pt.unreadable").is_file()  # kept aside, not a checkpoint
    assert s["steps"] == 1024
    # resumed from 512: the log rows after it were dropped, then re-logged
    assert [int(r["steps"]) for r in log_rows(run)] == [256, 512, 768, 1024]
    assert latest_checkpoint(run).name == "ckpt_000000001024.pt"
    # nothing readable left: a clear error, no training
    for p in ckpts.glob("ckpt_*.pt"):
        p.write_bytes(b"garbage")
    with pytest.raises(ValueError, match="no checkpoint in .* is readable"):
        train(_cfg(tmp_path, "f", total_steps=2048), resume=True, env_fn=_env_fn)


def test_resume_continues_step_counter_and_log(tmp_path):
    cfg = _cfg(tmp_path, "r", checkpoint_steps=256, keep_checkpoints=2)
    s = train(cfg, env_fn=_env_fn)
    run = Path(s["run_dir"])
    assert s["steps"] == 1024 and json.loads((run / "card.json").read_text())["steps"] == 1024
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == [
        "ckpt_000000000768.pt",
        "ckpt_000000001024.pt",
    ]
    # simulate a kill after the 768 checkpoint: the last checkpoint never got written
    (run / "checkpoints" / "ckpt_000000001024.pt").unlink()
    pol768, data = policy_from_train_checkpoint(latest_checkpoint(run))
    assert data["num_timesteps"] == 768 and pol768.metadata["steps"] == 768
    cfg2 = _cfg(tmp_path, "r", checkpoint_steps=256, keep_checkpoints=2, total_steps=2048)
    s2 = train(cfg2, resume=True, env_fn=_env_fn)
    assert s2["steps"] == 2048
    steps = [int(r["steps"]) for r in log_rows(run)]
    assert steps == [256 * i for i in range(1, 9)]  # rows after 768 were dropped, then re-logged
    card = json.loads((run / "card.json").read_text())
    assert card["steps"] == 2048 and card["wall_time_s"] > 0 and card["learning_curve"]["rows"] == 8
    assert load(run / "model.pt").metadata["steps"] == 2048
    # resuming something already finished does no more steps
    assert train(cfg2, resume=True, env_fn=_env_fn)["steps"] == 2048


def test_sigterm_writes_checkpoint_and_stops(tmp_path):
    import os
    import signal

    from stable_baselines3.common.vec_env import VecEnvWrapper

    class KillAfter(VecEnvWrapper):
        def __init__(self, venv, n):
            super().__init__(venv)
            self.n = n

        def reset(self):
            return self.venv.reset()

        def step_wait(self):
            self.n -= 1
            if self.n == 0:
                os.kill(os.getpid(), signal.SIGTERM)
            return self.venv.step_wait()

    cfg = _cfg(tmp_path, "t", total_steps=100_000)
    before = signal.getsignal(signal.SIGTERM)
    s = train(cfg, env_fn=lambda c, seed: KillAfter(_env_fn(c, seed), 100))
    assert s["stopped"] and s["card"] is None and 256 <= s["steps"] < 1024
    assert latest_checkpoint(cfg.run_dir).name == f"ckpt_{s['steps']:012d}.pt"
    assert signal.getsignal(signal.SIGTERM) == before  # handler restored
    s2 = train(_cfg(tmp_path, "t", total_steps=s["steps"] + 512), resume=True, env_fn=_env_fn)
    assert not s2["stopped"] and s2["steps"] >= s["steps"] + 512


def test_resume_needs_a_checkpoint_and_fresh_run_needs_empty_dir(tmp_path):
    with pytest.raises(ValueError, match="no checkpoints"):
        train(_cfg(tmp_path, "x"), resume=True, env_fn=_env_fn)
    train(_cfg(tmp_path, "y", total_steps=256), env_fn=_env_fn)
    with pytest.raises(ValueError, match="already holds checkpoints"):
        train(_cfg(tmp_path, "y", total_steps=256), env_fn=_env_fn)


def test_rgb_training_runs(tmp_path):
    s = train(
        _cfg(tmp_path, "rgb", obs="rgb", total_steps=256, n_envs=2, n_steps=64, batch_size=64),
        env_fn=_env_fn,
    )
    pol = load(Path(s["run_dir"]) / "model.pt")
    assert pol.obs == "rgb" and pol.model.obs_size == 64
    assert pol.act(np.zeros((2, 64, 64, 3), np.uint8)).shape == (2,)
    # the frames it trained on (procgen's own by default) are recorded and are what it sees
    assert pol.metadata["rgb_style"] == pol.metadata["config"]["rgb_style"] == "textured"
    assert rgb_style_of(pol) == "textured"
    card = json.loads(Path(s["card"]).read_text())
    assert card["model"]["rgb_style"] == card["config"]["rgb_style"] == "textured"
    ckpt, _ = policy_from_train_checkpoint(latest_checkpoint(s["run_dir"]))
    assert rgb_style_of(ckpt) == "textured"


def test_rgb_style_of_saved_configs_and_resume(tmp_path):
    assert TrainConfig().rgb_style == "textured"
    with pytest.raises(ValueError, match="rgb_style must be one of"):
        TrainConfig(rgb_style="fancy")
    # a config saved before the field existed played monochrome frames
    legacy = {k: v for k, v in TrainConfig(obs="rgb").to_dict().items() if k != "rgb_style"}
    assert TrainConfig.from_dict(legacy, saved=True).rgb_style == "mono"
    assert TrainConfig.from_dict(legacy).rgb_style == "textured"  # a new config file: default
    cfg = _cfg(tmp_path, "mono", obs="rgb", rgb_style="mono", total_steps=128, n_envs=2,
               n_steps=64, batch_size=64, n_epochs=1)
    s = train(cfg, env_fn=_env_fn)
    assert rgb_style_of(load(Path(s["run_dir"]) / "model.pt")) == "mono"
    with pytest.raises(ValueError, match="trained on rgb_style='mono'"):
        train(_cfg(tmp_path, "mono", obs="rgb", total_steps=256, n_envs=2, n_steps=64,
                   batch_size=64, n_epochs=1), resume=True, env_fn=_env_fn)
    # --resume reads a legacy config.json as mono, so the resumed run keeps its frames
    cfg_path = Path(s["run_dir"]) / "config.json"
    saved = json.loads(cfg_path.read_text())
    del saved["rgb_style"]
    cfg_path.write_text(json.dumps(saved))
    back, resume = config_from_args(["--resume", s["run_dir"]])
    assert resume and back.rgb_style == "mono"


def test_config_validation_and_cli(tmp_path):
    with pytest.raises(ValueError, match="batch_size must divide"):
        TrainConfig(n_envs=4, n_steps=10, batch_size=16)
    with pytest.raises(ValueError, match="overlap the training levels"):
        TrainConfig(num_levels=100, eval_start_level=50)
    with pytest.raises(ValueError, match="num_levels = 0"):
        TrainConfig(num_levels=0)
    with pytest.raises(ValueError, match=r"maze_size entry \(hard mode\) must be an odd integer in \[3, 25\], got 4"):
        TrainConfig(maze_size="4")
    with pytest.raises(ValueError, match="unknown TrainConfig fields"):
        TrainConfig.from_dict({"lr": 1.0})
    assert TrainConfig(maze_size="3,5").maze_sizes() == (3, 5)
    # bools are not counts: a YAML `true` for n_envs must fail, not become 1
    with pytest.raises(ValueError, match="n_envs must be an integer, got True"):
        TrainConfig(n_envs=True)
    with pytest.raises(ValueError, match="scale must be an integer, got True"):
        TrainConfig(scale=True)
    with pytest.raises(ValueError, match="total_steps must be an integer, got 2000.0"):
        TrainConfig(total_steps=2000.0)
    with pytest.raises(ValueError, match="env_seed must be an integer or none, got False"):
        TrainConfig(env_seed=False)
    assert TrainConfig(env_seed=None, n_envs=np.int64(64)).n_envs == 64
    bad = tmp_path / "bad.yaml"
    bad.write_text("n_envs: true\n")
    with pytest.raises(ValueError, match="n_envs must be an integer, got True"):
        config_from_args(["--config", str(bad)])
    yml = tmp_path / "c.yaml"
    yml.write_text("learning_rate: 0.001\nn_envs: 8\nfast: false\nmaze_size: '9'\n")
    cfg, resume = config_from_args(
        ["--config", str(yml), "--n-envs", "16", "--target-kl", "none", "--run-dir", "x"]
    )
    assert not resume and cfg.learning_rate == 0.001 and cfg.n_envs == 16 and cfg.fast is False
    assert cfg.target_kl is None and cfg.maze_sizes() == 9 and cfg.run_dir == "x"
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.json").write_text(
        json.dumps({"n_envs": 4, "n_steps": 64, "batch_size": 128})
    )
    cfg, resume = config_from_args(["--resume", str(tmp_path / "run"), "--total-steps", "99"])
    assert (
        resume
        and cfg.n_envs == 4
        and cfg.total_steps == 99
        and cfg.run_dir == str(tmp_path / "run")
    )


def test_moves_action_set_trains_a_four_move_policy(tmp_path):
    s = train(
        _cfg(tmp_path, "moves", total_steps=512, n_envs=4, n_steps=64, batch_size=128, action_set="moves"),
        env_fn=_env_fn,
    )
    pol = load(Path(s["run_dir"]) / "model.pt")
    obs = np.zeros((3, 3, 25, 25), np.uint8)
    obs[:, 0] = np.random.default_rng(0).integers(0, 2, (3, 25, 25))
    p = pol.action_probs(obs)
    assert np.allclose(p[:, [1, 3, 5, 7]].sum(axis=1), 1.0, atol=1e-6)
    assert set(np.unique(pol.act(obs, rng=np.random.default_rng(1)))) <= {1, 3, 5, 7}
    with pytest.raises(ValueError, match="action_set must be"):
        TrainConfig(action_set="four")


def test_weight_average_is_an_ema_that_changes_nothing_else(tmp_path, capsys):
    """ema_decay keeps ema = d * ema + (1 - d) * weights after each PPO iteration, written to
    each checkpoint and to model_ema.pt, without changing the run's own weights; switching it on
    at a resume starts the average there; the zoo snapshot can publish it."""
    from agents.card import snapshot_to_zoo

    kw = dict(seed=5, total_steps=1024, checkpoint_steps=256, keep_checkpoints=4)
    live = train(_cfg(tmp_path, "live", **kw), env_fn=_env_fn)
    avg = train(_cfg(tmp_path, "avg", ema_decay=0.5, **kw), env_fn=_env_fn)
    ckpts = [
        torch.load(p, weights_only=True)
        for p in sorted((Path(avg["run_dir"]) / "checkpoints").glob("ckpt_*.pt"))
    ]
    assert [c["num_timesteps"] for c in ckpts] == [256, 512, 768, 1024]
    assert [c["ema"]["updates"] for c in ckpts] == [1, 2, 3, 4]
    assert all(c["ema"]["start_steps"] == 0 and c["ema"]["decay"] == 0.5 for c in ckpts)
    w_live = load(Path(live["run_dir"]) / "model.pt").model.state_dict()
    w_avg_run = load(Path(avg["run_dir"]) / "model.pt").model.state_dict()
    assert all(torch.equal(w_live[k], w_avg_run[k]) for k in w_live)  # the average is a bystander

    def weights(c):
        return {k.removeprefix("impala."): v for k, v in c["policy"].items() if k.startswith("impala.")}

    for prev, cur in zip(ckpts, ckpts[1:]):
        w = weights(cur)
        for k, e in cur["ema"]["impala"].items():
            if e.is_floating_point():
                torch.testing.assert_close(e, 0.5 * prev["ema"]["impala"][k] + 0.5 * w[k])
    ema_k = ckpts[-1]["ema"]["impala"]
    assert any(not torch.equal(ema_k[k], weights(ckpts[-1])[k]) for k in ema_k)
    pol = load(Path(avg["run_dir"]) / "model_ema.pt")
    assert all(torch.equal(pol.model.state_dict()[k], ema_k[k]) for k in ema_k)
    assert pol.metadata["weights"] == {
        "kind": "ema", "decay": 0.5, "start_steps": 0, "iterations_averaged": 4
    }
    from_ckpt, _ = policy_from_train_checkpoint(latest_checkpoint(avg["run_dir"]), weights="ema")
    assert all(torch.equal(from_ckpt.model.state_dict()[k], ema_k[k]) for k in ema_k)

    # a run without one says how to start one; switched on at a resume it starts there
    assert not (Path(live["run_dir"]) / "model_ema.pt").exists()
    with pytest.raises(ValueError, match="--ema-decay"):
        policy_from_train_checkpoint(latest_checkpoint(live["run_dir"]), weights="ema")
    with pytest.raises(ValueError, match="weights must be one of"):
        policy_from_train_checkpoint(latest_checkpoint(live["run_dir"]), weights="mean")
    capsys.readouterr()
    kw2 = {**kw, "total_steps": 1536}
    train(_cfg(tmp_path, "live", ema_decay=0.9, **kw2), resume=True, env_fn=_env_fn)
    assert "the weight average starts at step 1024" in capsys.readouterr().err
    last = torch.load(latest_checkpoint(live["run_dir"]), weights_only=True)
    assert last["ema"]["start_steps"] == 1024 and last["ema"]["updates"] == 2

    dest = snapshot_to_zoo(avg["run_dir"], "avg-agent", eval_levels=0, zoo_root=tmp_path / "zoo",
                           weights="ema")
    card = json.loads((dest / "card.json").read_text())
    assert card["weights"]["kind"] == "ema" and card["weights"]["iterations_averaged"] == 4
    pub = load(dest / "model.pt")
    assert all(torch.equal(pub.model.state_dict()[k], ema_k[k]) for k in ema_k)
    plain = snapshot_to_zoo(avg["run_dir"], "live-agent", eval_levels=0, zoo_root=tmp_path / "zoo")
    assert json.loads((plain / "card.json").read_text())["weights"] == {"kind": "live"}
    # a given checkpoint of the run (one kept outside it, e.g. restored from git)
    import shutil

    kept = shutil.copy(sorted((Path(avg["run_dir"]) / "checkpoints").glob("ckpt_*.pt"))[0],
                       tmp_path / "kept.pt")
    early = snapshot_to_zoo(avg["run_dir"], "early", eval_levels=0, zoo_root=tmp_path / "zoo",
                            weights="ema", checkpoint=kept)
    early_card = json.loads((early / "card.json").read_text())
    assert early_card["steps"] == 256 and early_card["source"]["checkpoint"] == "kept.pt"
    assert early_card["weights"]["iterations_averaged"] == 1
    assert [r["steps"] for r in log_rows(early)] == ["256"]  # the log cut at its step
    with pytest.raises(ValueError, match="not by"):
        snapshot_to_zoo(live["run_dir"], "x", eval_levels=0, zoo_root=tmp_path / "zoo",
                        checkpoint=kept)
    with pytest.raises(ValueError, match="does not exist"):
        snapshot_to_zoo(avg["run_dir"], "x", eval_levels=0, zoo_root=tmp_path / "zoo",
                        checkpoint=tmp_path / "nope.pt")
    with pytest.raises(ValueError, match=r"ema_decay must be in \[0, 1\)"):
        TrainConfig(ema_decay=1.0)
