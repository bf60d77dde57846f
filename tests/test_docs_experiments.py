"""The long experiments whose snapshots (snaps/*.json) the pages show: the default suite runs each on a
subset and checks it against the snapshot's shape and architecture; `make test-full` reruns the snapshot's
own command and checks that it reproduces the numbers the page shows."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from helpers import ROOT, assert_quiet, run_script

# snapshot -> (script in code/, arguments of the shortened run, the key naming each row of its results)
QUICK_TEST_IMAGES = 1000  # the shortened runs' --test-limit: enough to tell learning (above 50%) from guessing
QUICK_POOLING = ("pooling_experiment.py", ["--limit", "1000", "--epochs", "1"], "pooling")
EXPERIMENTS = {
    "snaps/pooling_experiment.json": QUICK_POOLING,  # the full experiment the page shows
    "snaps/pooling_experiment_cpu.json": QUICK_POOLING,  # the page's smaller CPU run
    # With fewer images or one epoch, the global-pooling convnet stays below 50%: it learns slower than the others.
    "snaps/translation_experiment.json": ("translation_experiment.py", ["--limit", "6000", "--epochs", "2",
                                                                        "--seeds", "1", "--max-shift", "1"], "model"),
}
# Snapshots of timings, which no rerun reproduces, are checked by the tests of their scripts: tests/test_bench.py
# runs the benchmark in its smoke mode (`make bench`, ARGS=--search, rewrites them), and
# tests/test_backend_experiment.py a short backend experiment (`make backend-experiment`).
COVERED_ELSEWHERE = ("snaps/benchmark-cpu.json", "snaps/benchmark-gpu.json", "snaps/fast-recipe-search.json",
                     "snaps/backends.json")
FULL_TOLERANCE = 0.005  # mean test accuracy over the snapshot's seeds, from one machine to another


def snapshots_with_a_command() -> list[str]:
    return sorted(str(path.relative_to(ROOT)) for path in (ROOT / "snaps").glob("*.json")
                  if "command" in json.loads(path.read_text()))


def keras_backend() -> str:
    import keras

    return keras.backend.backend()


def rows_by_key(record: dict, key: str) -> dict:
    return {row[key]: row for row in record["results"]}


def test_every_experiment_snapshot_has_a_shortened_and_a_full_test():
    assert snapshots_with_a_command() == sorted([*EXPERIMENTS, *COVERED_ELSEWHERE])


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """Runs a shortened experiment once per module, however many snapshots it stands for."""
    records: dict[tuple, dict] = {}

    def run(script: str, args: list[str]) -> dict:
        if (script, *args) not in records:
            output = tmp_path_factory.mktemp("quick") / "record.json"
            result = run_script(script, *args, "--test-limit", str(QUICK_TEST_IMAGES), "--output", str(output),
                                TF_ENABLE_ONEDNN_OPTS="1")
            assert_quiet(result)
            records[(script, *args)] = json.loads(output.read_text())
        return records[(script, *args)]

    return run


@pytest.mark.slow
@pytest.mark.parametrize("snapshot", sorted(EXPERIMENTS))
def test_shortened_experiment_writes_the_snapshots_record_with_todays_architectures(snapshot, quick_run):
    script, quick_args, key = EXPERIMENTS[snapshot]
    fresh, committed = quick_run(script, quick_args), json.loads((ROOT / snapshot).read_text())
    # A record made before a field was added (the backend's version) lacks only that field.
    assert set(committed) <= set(fresh) and sorted(fresh["settings"]) == sorted(committed["settings"])
    assert fresh["backend"] == keras_backend() and fresh["backend_version"].startswith(fresh["backend"] + " ")
    assert fresh["settings"]["test_images"] == QUICK_TEST_IMAGES
    fresh_rows, committed_rows = rows_by_key(fresh, key), rows_by_key(committed, key)
    assert list(fresh_rows) == list(committed_rows)
    for name, row in fresh_rows.items():
        assert row["parameters"] == committed_rows[name]["parameters"], \
            f"{snapshot}: {name} has {row['parameters']:,} parameters in today's code, " \
            f"{committed_rows[name]['parameters']:,} in the snapshot: rerun `{committed['command']}`"
        assert 0.5 < row["mean_test_accuracy"] <= 1.0
        hits = [accuracy * QUICK_TEST_IMAGES for accuracy in row["test_accuracy"]]
        assert all(abs(hit - round(hit)) < 1e-3 for hit in hits), f"{name}: not scored on {QUICK_TEST_IMAGES} images"


@pytest.mark.full
@pytest.mark.parametrize("snapshot", sorted(EXPERIMENTS))
def test_full_experiment_reproduces_the_snapshot(snapshot, tmp_path):
    committed = json.loads((ROOT / snapshot).read_text())
    words = shlex.split(committed["command"])  # python code/SCRIPT ARGS...
    script, args, key = Path(words[1]).name, words[2:], EXPERIMENTS[snapshot][2]
    if "--device" in args:  # the snapshot's machine may have had a GPU; this one trains where it can
        del args[args.index("--device"):args.index("--device") + 2]
    output = tmp_path / "record.json"
    result = run_script(script, *args, "--output", str(output), timeout=6 * 3600)
    assert result.returncode == 0, result.stderr[-3000:]
    fresh = json.loads(output.read_text())
    assert fresh["settings"] == committed["settings"]
    committed_rows = rows_by_key(committed, key)
    for name, row in rows_by_key(fresh, key).items():
        shown = committed_rows[name]["mean_test_accuracy"]
        assert abs(row["mean_test_accuracy"] - shown) <= FULL_TOLERANCE, \
            f"{name}: {row['mean_test_accuracy']:.4f} on {fresh['machine']}, {shown:.4f} in the snapshot"
