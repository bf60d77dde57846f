"""Shared helpers for the test suite."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CODE = ROOT / "code"


def script_env(**extra: str) -> dict[str, str]:
    """The environment for running a code/ script: offline, CPU only, quiet TensorFlow."""
    env = dict(os.environ, PYTHONPATH=str(CODE), TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="-1")
    env.pop("CONVNETS_MNIST", None)
    env.update(extra)
    return env


def run_script(script: str, *args: str, timeout: float = 900, **env: str) -> subprocess.CompletedProcess:
    """Run `python code/<script> args...` from the repository root and capture its output."""
    return subprocess.run(
        [sys.executable, str(CODE / script), *args],
        cwd=ROOT, env=script_env(**env), capture_output=True, text=True, timeout=timeout,
    )
