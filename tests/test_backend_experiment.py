"""code/backend_experiment.py: the first chapter's convnet on each backend, and its stored record."""

from __future__ import annotations

import json

from helpers import ROOT, assert_one_line_error, assert_quiet, run_script, without_frameworks

from backend_experiment import BACKENDS, BATCH_SIZE, EPOCHS  # code/backend_experiment.py


def test_a_short_run_trains_on_each_backend_it_names_in_turn_and_records_which(tmp_path):
    output = tmp_path / "backends.json"
    backends = ["jax", "tensorflow"]  # the two that make setup installs (make test-torch installs PyTorch)
    result = run_script("backend_experiment.py", "--backends", *backends, "--limit", "640", "--epochs", "2",
                        "--test-limit", "500", "--output", str(output))
    assert_quiet(result)
    record = json.loads(output.read_text())
    assert [row["backend"] for row in record["results"]] == backends
    assert record["settings"] | {"training_images": 640, "test_images": 500, "epochs": 2} == record["settings"]
    for row in record["results"]:
        assert row["backend_version"].startswith(row["backend"] + " ") and f"{row['backend_version']} backend" in row["device"]
        assert len(row["epoch_seconds"]) == 2 and row["fit_seconds"] >= sum(row["epoch_seconds"]) - 0.1
        assert 0.1 < row["test_accuracy"] <= 1
        assert f"{row['backend_version']}: test accuracy {row['test_accuracy']:.4f}" in result.stdout


def test_a_backend_that_cannot_load_is_a_one_line_error_and_no_record(tmp_path):
    output = tmp_path / "backends.json"
    result = run_script("backend_experiment.py", "--backends", "jax", "--output", str(output),
                        **without_frameworks(tmp_path))
    line = assert_one_line_error(result, code=1)
    assert "the jax run failed: Keras cannot load the jax backend" in line
    assert not output.exists()


def test_the_stored_record_has_every_verified_backend_with_the_first_chapters_settings():
    chapter = (ROOT / "code" / "notebooks" / "first_convnet.py").read_text()
    assert f'model.compile(optimizer="rmsprop"' in chapter
    assert f"model.fit(train_images, train_labels, epochs={EPOCHS}, batch_size={BATCH_SIZE})" in chapter
    record = json.loads((ROOT / "snaps" / "backends.json").read_text())
    assert [row["backend"] for row in record["results"]] == list(BACKENDS)
    assert record["settings"] == {"model": "convnet", "optimizer": "rmsprop", "batch_size": 64, "epochs": 5,
                                  "training_images": 60_000, "test_images": 10_000, "seed": 1}
    assert all(len(row["epoch_seconds"]) == 5 for row in record["results"])
