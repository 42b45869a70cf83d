"""``pyrun.run_python`` behaves like ``subprocess.run([sys.executable, ...])`` for what the
script tests look at: exit code, stdout, the end of stderr, cwd, environment, argv, timeouts."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from pyrun import run_python

CASES = {
    "ok": ["-c", "import sys; print('out', sys.argv[1:]); print('err', file=sys.stderr)", "a", "b"],
    "exit-code": ["-c", "import sys; print('x'); sys.exit(3)"],
    "exit-message": ["-c", "import sys; sys.exit('bad thing')"],
    "exception": ["-c", "raise ValueError('broken 42')"],
    "env-and-cwd": ["-c", "import os; print(os.environ['PYRUN_PROBE'], os.path.basename(os.getcwd()))"],
    "unflushed": ["-c", "import sys; sys.stdout.write('no newline')"],
}


@pytest.mark.parametrize("case", list(CASES))
def test_forked_run_matches_a_subprocess(case, tmp_path):
    args = CASES[case]
    env = {**os.environ, "PYRUN_PROBE": "probe-value"}
    kw = dict(cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    mine = run_python(args, **kw)
    ref = subprocess.run([sys.executable, *args], **kw)
    assert mine.returncode == ref.returncode
    assert mine.stdout == ref.stdout
    assert mine.stderr.strip().splitlines()[-1:] == ref.stderr.strip().splitlines()[-1:]


def test_script_file_gets_its_argv_and_directory(tmp_path):
    (tmp_path / "helper_mod.py").write_text("VALUE = 7\n")
    script = tmp_path / "s.py"
    script.write_text("import sys, helper_mod\nprint(sys.argv, helper_mod.VALUE)\n")
    r = run_python([str(script), "--flag", "1"], cwd="/", capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"[{str(script)!r}, '--flag', '1'] 7"


def test_timeout_raises_like_subprocess(tmp_path):
    with pytest.raises(subprocess.TimeoutExpired):
        run_python(["-c", "import time; time.sleep(30)"], cwd=tmp_path, capture_output=True,
                   text=True, timeout=1)
