"""``steering.hooks`` stays callable whatever was imported before (issue 13, item 7)."""

import subprocess
import sys


def test_steering_hooks_callable_after_patch_hooks_import():
    code = (
        "import torch, steering, steering.patches.apply\n"
        "from torch import nn\n"
        "net = nn.Sequential(); net.add_module('relu', nn.ReLU())\n"
        "with steering.hooks(net, {'relu': lambda a, n: a * 0}):\n"
        "    assert float(net(torch.ones(1, 2)).sum()) == 0.0\n"
        "from steering.hooks import hooks, run_with_cache\n"
        "assert callable(hooks) and callable(run_with_cache)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
