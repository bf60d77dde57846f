"""The package's shape: the layering and acyclic imports of pyproject.toml's import-linter contracts, and light
modules for the scripts to check their arguments with before any framework loads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from helpers import CODE, ROOT, script_env

HEAVY = ("keras", "tensorflow", "jax", "torch", "matplotlib")
LIGHT = ("atomic", "cli", "data", "data_command", "devices", "framework_logs", "model_names", "paths", "provision",
         "recipes", "run_files", "shifts")  # what the scripts import before checking their arguments
CHECK_FIRST = ("bench", "pooling_experiment", "prepare_data", "train", "translation_experiment")  # code/ scripts


def test_the_package_keeps_its_import_contracts():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([lint, "--no-cache"], cwd=ROOT, env=script_env(), capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_the_modules_and_scripts_that_check_arguments_load_no_framework():
    modules = [f"convnets.{name}" for name in LIGHT] + list(CHECK_FIRST)
    program = (f"import importlib, sys\nfor name in {modules!r}:\n    importlib.import_module(name)\n"
               f"print(sorted(name for name in {HEAVY!r} if name in sys.modules))")
    result = subprocess.run([sys.executable, "-c", program], cwd=CODE, env=script_env(), capture_output=True,
                            text=True, check=True)
    assert result.stdout.strip() == "[]", result.stdout
