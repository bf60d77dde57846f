"""code/train.py as a user runs it: errors, outputs, resume, determinism and the book's recipe."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from helpers import CODE, ROOT, run_script, script_env


def assert_one_line_error(result: subprocess.CompletedProcess, code: int = 2) -> str:
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("train.py: error: "), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    return lines[0]


@pytest.mark.parametrize("args, message", [
    (["--epochs", "0"], "must be at least 1"),
    (["--batch-size", "-64"], "must be at least 1"),
    (["--epochs", "five"], "expected a whole number"),
    (["--learning-rate", "0"], "above 0"),
    (["--limit", "70000"], "at most 60000"),
    (["--model", "resnet"], "invalid choice"),
    (["--data", "no/such/mnist.npz"], "--data file not found"),
    (["--bogus"], "unrecognized arguments"),
])
def test_bad_options_get_a_one_line_error_and_exit_2(args, message):
    assert message in assert_one_line_error(run_script("train.py", *args))


def test_gpu_request_without_a_gpu_is_a_clear_error(tmp_path):
    line = assert_one_line_error(run_script("train.py", "--device", "gpu", "--output", str(tmp_path / "run")))
    assert "sees no GPU" in line and "--device cpu" in line


def test_corrupt_data_file_is_reported_not_used(tmp_path):
    bad = tmp_path / "mnist.npz"
    bad.write_bytes(b"PK\x03\x04 truncated")
    line = assert_one_line_error(run_script("train.py", "--data", str(bad), "--output", str(tmp_path / "run")))
    assert "corrupt or unreadable" in line
    assert not (tmp_path / "run" / "model.keras").exists()


def test_resume_without_an_interrupted_run_is_refused(tmp_path):
    assert "nothing to resume" in assert_one_line_error(run_script("train.py", "--resume", "--output", str(tmp_path)))


@pytest.fixture(scope="module")
def short_run(tmp_path_factory):
    """A real two-epoch run on the first 6,000 training images."""
    output = tmp_path_factory.mktemp("short") / "run"
    result = run_script("train.py", "--limit", "6000", "--epochs", "2", "--output", str(output))
    assert result.returncode == 0, result.stderr
    return output, result


def test_short_run_prints_device_progress_and_test_accuracy(short_run):
    _, result = short_run
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("Training on CPU:")
    assert any("loss:" in line and "accuracy:" in line for line in lines)
    assert lines[-1].startswith("Test accuracy: 0.")
    assert float(lines[-1].split(": ")[1]) >= 0.90, "floor for 2 epochs on 6,000 images"


def test_short_run_writes_model_history_and_curves(short_run):
    import keras

    from convnets.data import LOCAL_FILE, read_npz
    from convnets.training import prepare_images

    output, result = short_run
    record = json.loads((output / "history.json").read_text())
    assert record["settings"]["limit"] == 6000 and record["recipe"]["batch_size"] == 64
    assert record["recipe"]["optimizer"] == "rmsprop" and record["recipe"]["epochs"] == 2
    assert len(record["history"]["loss"]) == 2 and record["parameters"] == 104202
    assert (output / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    model = keras.models.load_model(output / "model.keras")
    _, (x_test, y_test) = read_npz(LOCAL_FILE)
    accuracy = float(np.mean(model.predict(prepare_images(x_test), verbose=0).argmax(axis=1) == y_test))
    assert accuracy == pytest.approx(record["test_accuracy"], abs=1e-4)
    assert f"Test accuracy: {record['test_accuracy']:.4f}" in result.stdout


def test_a_finished_run_is_never_overwritten_by_accident(short_run):
    output, _ = short_run
    before = (output / "model.keras").read_bytes()
    line = assert_one_line_error(run_script("train.py", "--limit", "600", "--epochs", "1", "--output", str(output)))
    assert "--overwrite" in line
    assert (output / "model.keras").read_bytes() == before


def test_nan_loss_stops_training_with_a_message(tmp_path):
    result = run_script("train.py", "--limit", "2000", "--epochs", "2", "--learning-rate", "1e20",
                        "--output", str(tmp_path))
    line = assert_one_line_error(result, code=1)
    assert "NaN" in line and "No model was saved" in line
    assert not (tmp_path / "model.keras").exists()


def test_interrupted_run_resumes_from_its_last_finished_epoch(tmp_path):
    args = ["--limit", "8000", "--epochs", "4", "--output", str(tmp_path)]
    process = subprocess.Popen([sys.executable, str(CODE / "train.py"), *args], cwd=ROOT, env=script_env(),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    log = tmp_path / "epochs.jsonl"
    deadline = time.monotonic() + 300
    while not (log.exists() and log.read_text().count("\n") >= 1):
        assert process.poll() is None and time.monotonic() < deadline, "the first epoch never finished"
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "--resume" in stderr and "Traceback" not in stderr
    finished = log.read_text().count("\n")
    assert 1 <= finished < 4 and (tmp_path / "backup").is_dir()

    result = run_script("train.py", "--output", str(tmp_path), "--resume")
    assert result.returncode == 0, result.stderr
    assert f"Epoch {finished + 1}/4" in result.stdout and "Epoch 1/4" not in result.stdout
    record = json.loads((tmp_path / "history.json").read_text())
    assert len(record["history"]["loss"]) == 4
    assert record["test_accuracy"] > 0.9
    assert not (tmp_path / "backup").exists()


def _weights(folder):
    import keras

    return keras.models.load_model(folder / "model.keras").get_weights()


def test_same_seed_with_deterministic_gives_identical_weights(tmp_path):
    runs = {}
    for name, seed in (("first", "7"), ("second", "7"), ("other", "8")):
        result = run_script("train.py", "--limit", "1500", "--epochs", "1", "--seed", seed, "--deterministic",
                            "--output", str(tmp_path / name))
        assert result.returncode == 0, result.stderr
        runs[name] = _weights(tmp_path / name)
    assert all(np.array_equal(a, b) for a, b in zip(runs["first"], runs["second"]))
    assert not all(np.array_equal(a, b) for a, b in zip(runs["first"], runs["other"]))


@pytest.mark.slow
def test_book_recipe_reaches_99_percent_on_the_full_data():
    from convnets.cache import trained

    _, record = trained("convnet")  # rmsprop, batch 64, 5 epochs, all 60,000 images; shared with the docs
    assert record["recipe"] == {**record["recipe"], "optimizer": "rmsprop", "batch_size": 64, "epochs": 5}
    assert record["settings"]["limit"] is None
    assert record["test_accuracy"] >= 0.990
