"""code/train.py as a user runs it: errors, outputs, resume, determinism and the book's recipe."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from convnets.devices import backend_version
from convnets.runner import default_settings
from helpers import CODE, ONEDNN_PATHS, ROOT, assert_one_line_error, assert_quiet, run_script, script_env, without_frameworks


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
def test_bad_options_get_a_one_line_error_and_exit_2_before_any_framework_loads(args, message, tmp_path):
    assert message in assert_one_line_error(run_script("train.py", *args, **without_frameworks(tmp_path)))


# oneDNN's two paths: the short run takes both; the other runs take the one that logs (forced on), since a
# start-up line that slips past the capture is what breaks a one-line error.
@pytest.mark.backends
def test_gpu_request_without_a_gpu_is_a_clear_error(tmp_path):
    result = run_script("train.py", "--device", "gpu", "--output", str(tmp_path / "run"), TF_ENABLE_ONEDNN_OPTS="1")
    line = assert_one_line_error(result)
    assert "sees no GPU" in line and "--device cpu" in line


def test_corrupt_data_file_is_reported_before_any_framework_loads(tmp_path):
    bad = tmp_path / "mnist.npz"
    bad.write_bytes(b"PK\x03\x04 truncated")
    result = run_script("train.py", "--data", str(bad), "--output", str(tmp_path / "run"),
                        **without_frameworks(tmp_path))
    assert "corrupt or unreadable" in assert_one_line_error(result)
    assert not (tmp_path / "run").exists(), "a bad input leaves no output folder behind"


def test_resume_without_an_interrupted_run_is_refused_before_any_framework_loads(tmp_path):
    result = run_script("train.py", "--resume", "--output", str(tmp_path / "run"), **without_frameworks(tmp_path))
    assert "nothing to resume" in assert_one_line_error(result)


def test_verbose_shows_the_framework_logs_and_still_ends_with_the_error(tmp_path):
    """oneDNN forced on makes TensorFlow log a start-up line on every CPU; --verbose lets it through."""
    for how in (["--verbose"], []):
        result = run_script("train.py", *how, "--device", "gpu", "--output", str(tmp_path / "run"),
                            TF_ENABLE_ONEDNN_OPTS="1", **({} if how else {"CONVNETS_VERBOSE": "1"}))
        assert result.returncode == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) > 1 and "oneDNN custom operations are on" in result.stderr, result.stderr
        assert lines[-1].startswith("train.py: error: --device gpu was requested")


def test_help_documents_verbose_and_the_divergence_bound():
    from convnets.training import DIVERGENCE_BOUND

    result = run_script("train.py", "--help")
    text = " ".join(result.stdout.split())
    assert "--verbose" in text and "CONVNETS_VERBOSE=1" in text
    assert f"(default: {DIVERGENCE_BOUND:g}," in text


@pytest.mark.backends
def test_an_unexpected_failure_is_one_line_pointing_at_the_full_trace(tmp_path):
    """A damaged checkpoint is no input we check: its error is reported whole in train.log, in brief here."""
    (tmp_path / "backup").mkdir()
    (tmp_path / "backup" / "latest.weights.h5").write_bytes(b"not an HDF5 file")
    (tmp_path / "settings.json").write_text(json.dumps(default_settings(limit=600, overrides={"epochs": 1})))
    result = run_script("train.py", "--resume", "--output", str(tmp_path), TF_ENABLE_ONEDNN_OPTS="1")
    line = assert_one_line_error(result, code=1)
    log = tmp_path / "train.log"
    assert line.startswith("train.py: error: unexpected OSError") and f"the full trace is in {log}" in line
    text = log.read_text()
    assert "oneDNN custom operations are on" in text and "Traceback (most recent call last)" in text


@pytest.fixture(scope="module", params=ONEDNN_PATHS, ids=lambda path: f"onednn-{'on' if path == '1' else 'off'}")
def short_run(request, tmp_path_factory):
    """A real two-epoch run on the first 6,000 training images, with oneDNN forced off, then on (on JAX: on)."""
    output = tmp_path_factory.mktemp("short") / "run"
    result = run_script("train.py", "--limit", "6000", "--epochs", "2", "--output", str(output),
                        TF_ENABLE_ONEDNN_OPTS=request.param)
    return output, result, request.param == "1"


@pytest.mark.backends
def test_short_run_prints_device_progress_and_test_accuracy_and_nothing_else(short_run):
    _, result, _ = short_run
    assert_quiet(result)
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("Training on CPU:") and f"{backend_version()} backend)" in lines[0]
    assert any("loss:" in line and "accuracy:" in line for line in lines)
    assert lines[-1].startswith("Test accuracy: 0.")
    assert float(lines[-1].split(": ")[1]) >= 0.90, "floor for 2 epochs on 6,000 images"


@pytest.mark.backends
def test_short_run_keeps_the_framework_logs_in_train_log(short_run):
    output, _, onednn = short_run
    log = (output / "train.log").read_text()
    assert ("oneDNN custom operations are on" in log) == onednn, log
    assert "Traceback" not in log


@pytest.mark.backends
def test_short_run_writes_model_history_and_curves(short_run):
    import keras

    from convnets.data import LOCAL_FILE, read_npz
    from convnets.training import prepare_images

    output, result, _ = short_run
    record = json.loads((output / "history.json").read_text())
    assert record["settings"]["limit"] == 6000 and record["recipe"]["batch_size"] == 64
    assert record["recipe"]["optimizer"] == "rmsprop" and record["recipe"]["epochs"] == 2
    assert record["backend"] == keras.backend.backend() and record["backend_version"] == backend_version()
    assert len(record["history"]["loss"]) == 2 and record["parameters"] == 104202
    assert (output / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    model = keras.models.load_model(output / "model.keras")
    _, (x_test, y_test) = read_npz(LOCAL_FILE)
    accuracy = float(np.mean(model.predict(prepare_images(x_test), verbose=0).argmax(axis=1) == y_test))
    assert accuracy == pytest.approx(record["test_accuracy"], abs=1e-4)
    assert f"Test accuracy: {record['test_accuracy']:.4f}" in result.stdout


def test_a_finished_run_is_never_overwritten_by_accident(tmp_path):
    output = tmp_path / "run"
    output.mkdir()
    (output / "model.keras").write_bytes(b"a finished run's model")
    line = assert_one_line_error(run_script("train.py", "--limit", "600", "--epochs", "1", "--output", str(output),
                                            **without_frameworks(tmp_path)))
    assert "--overwrite" in line
    assert (output / "model.keras").read_bytes() == b"a finished run's model"


def test_a_loss_past_the_bound_stops_training_and_saves_no_model(tmp_path):
    """The first batch's loss is about ln 10 ≈ 2.3 on any CPU, so a bound of 1 stops it at once."""
    result = run_script("train.py", "--limit", "2000", "--epochs", "2", "--max-loss", "1", "--output", str(tmp_path),
                        TF_ENABLE_ONEDNN_OPTS="1")
    line = assert_one_line_error(result, code=1)
    assert "in epoch 1, the loss reached" in line and "past the divergence bound of 1" in line
    assert "No model was saved" in line
    assert not (tmp_path / "model.keras").exists() and not (tmp_path / "backup").exists()
    assert "Test accuracy" not in result.stdout


def test_fast_recipe_runs_quietly_and_saves_a_model_that_loads_with_its_smoothed_loss(tmp_path):
    import keras

    from convnets.recipes import RECIPES
    from convnets.training import SmoothedSparseCrossentropy

    fast = RECIPES["fast"]
    result = run_script("train.py", "--recipe", "fast", "--limit", "3000", "--output", str(tmp_path),
                        TF_ENABLE_ONEDNN_OPTS="1")
    assert_quiet(result)
    epochs = f"{fast.epochs} epoch{'s' if fast.epochs != 1 else ''}"
    assert f"recipe fast: {fast.optimizer}, batch {fast.batch_size}, {epochs}, 3,000 training images" in result.stdout
    assert result.stdout.strip().splitlines()[-1].startswith("Test accuracy: 0.")
    model = keras.models.load_model(tmp_path / "model.keras")
    assert isinstance(model.loss, SmoothedSparseCrossentropy) and model.loss.smoothing == fast.label_smoothing > 0


def test_interrupted_run_resumes_from_its_last_finished_epoch(tmp_path):
    """Ctrl-C after the first of three epochs. The run gets SIGINT's default action back: a suite started in the
    background (`make test &`, nohup) ignores SIGINT, and a Python started so would ignore it too."""
    args = ["--limit", "4000", "--epochs", "3", "--output", str(tmp_path)]
    process = subprocess.Popen([sys.executable, str(CODE / "train.py"), *args], cwd=ROOT, env=script_env(),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
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
    assert 1 <= finished < 3 and (tmp_path / "backup").is_dir()

    result = run_script("train.py", "--output", str(tmp_path), "--resume")
    assert result.returncode == 0, result.stderr
    assert f"Epoch {finished + 1}/3" in result.stdout and "Epoch 1/3" not in result.stdout
    record = json.loads((tmp_path / "history.json").read_text())
    losses = record["history"]["loss"]
    assert len(losses) == 3
    assert losses[finished] < losses[0] / 2, f"{losses}: the resumed run started again instead of from its backup"
    assert record["test_accuracy"] > 0.9
    assert not (tmp_path / "backup").exists()


def _weights(folder):
    import keras

    return keras.models.load_model(folder / "model.keras").get_weights()


def test_same_seed_with_deterministic_gives_identical_weights(tmp_path):
    runs = {}
    for name, seed in (("first", "7"), ("second", "7"), ("other", "8")):
        result = run_script("train.py", "--limit", "640", "--epochs", "1", "--seed", seed, "--deterministic",
                            "--output", str(tmp_path / name))
        assert result.returncode == 0, result.stderr
        runs[name] = _weights(tmp_path / name)
    assert all(np.array_equal(a, b) for a, b in zip(runs["first"], runs["second"]))
    assert not all(np.array_equal(a, b) for a, b in zip(runs["first"], runs["other"]))


@pytest.mark.slow
def test_book_recipe_reaches_99_percent_on_the_full_data():
    from convnets.named_runs import trained

    _, record = trained("convnet")  # rmsprop, batch 64, 5 epochs, all 60,000 images: the first chapter's fit
    assert record["recipe"] == {**record["recipe"], "optimizer": "rmsprop", "batch_size": 64, "epochs": 5}
    assert record["settings"]["limit"] is None
    assert record["test_accuracy"] >= 0.990
