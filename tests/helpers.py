"""Shared helpers for the test suite."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CODE = ROOT / "code"

# TensorFlow turns oneDNN on by itself only on some CPUs (AVX-512 VNNI/BF16, AMX), and then logs about it
# from C++ before its logging starts. Forcing it each way runs both paths on any machine, for the runs that
# load TensorFlow; an error raised before any framework loads is checked once, `without_frameworks`.
ONEDNN = pytest.mark.parametrize("onednn", ["0", "1"], ids=["onednn-off", "onednn-on"])
# On JAX, Keras still loads TensorFlow where it is installed (train.log shows its start-up lines) but trains with
# JAX: the path that logs is enough there.
ONEDNN_PATHS = ["0", "1"] if os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow" else ["1"]
FRAMEWORKS = ("tensorflow", "keras", "jax", "torch")


def script_env(**extra: str) -> dict[str, str]:
    """The environment for running a code/ script: offline, CPU only, quiet TensorFlow."""
    env = dict(os.environ, PYTHONPATH=str(CODE), TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="-1")
    for name in ("CONVNETS_MNIST", "CONVNETS_VERBOSE"):
        env.pop(name, None)
    env.update(extra)
    return env


def without_frameworks(folder: Path) -> dict[str, str]:
    """The environment, for `run_script`, of a process in which importing any deep-learning framework fails."""
    blocker = folder / "no-frameworks"
    blocker.mkdir(exist_ok=True)
    for name in FRAMEWORKS:
        (blocker / f"{name}.py").write_text(f"raise ImportError('{name} imported too early')\n")
    return {"PYTHONPATH": f"{blocker}{os.pathsep}{CODE}"}


def run_script(script: str, *args: str, timeout: float = 900, **env: str) -> subprocess.CompletedProcess:
    """Run `python code/<script> args...` from the repository root and capture its output."""
    return subprocess.run(
        [sys.executable, str(CODE / script), *args],
        cwd=ROOT, env=script_env(**env), capture_output=True, text=True, timeout=timeout,
    )


def assert_one_line_error(result: subprocess.CompletedProcess, code: int = 2) -> str:
    """The script failed with `code` and said why in exactly one line on stderr, `SCRIPT: error: ...`."""
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    script = Path(result.args[1]).name
    assert len(lines) == 1 and lines[0].startswith(f"{script}: error: "), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    return lines[0]


def assert_quiet(result: subprocess.CompletedProcess) -> None:
    """The script succeeded and wrote nothing on stderr: no TensorFlow or absl start-up lines."""
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr == "", result.stderr[-3000:]
