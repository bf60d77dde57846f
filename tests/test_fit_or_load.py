"""fit_or_load: model.fit once, then the same weights and history from the cache; trained(), that fit by name."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from helpers import ROOT, script_env

FIT = {"epochs": 2, "batch_size": 8, "verbose": 0}


def tiny_model(learning_rate: float = 0.01, loss: str = "sparse_categorical_crossentropy"):
    """A compiled two-layer model: trains on the data below in well under a second."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=(6,))
    x = layers.Dense(4, activation="relu")(inputs)
    outputs = layers.Dense(3, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate), loss=loss, metrics=["accuracy"])
    return model


def tiny_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.random((40, 6), dtype=np.float32), rng.integers(0, 3, size=40)


def count_fits(model, monkeypatch) -> list:
    """Record each call of `model.fit` (still made) in the returned list."""
    calls, fit = [], model.fit

    def counted(*args, **kwargs):
        calls.append(kwargs)
        return fit(*args, **kwargs)

    monkeypatch.setattr(model, "fit", counted)
    return calls


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CONVNETS_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_the_first_call_fits_and_the_next_loads_the_same_weights_and_history(monkeypatch):
    import keras

    from convnets.cached_fit import fit_or_load

    x, y = tiny_data()
    first = tiny_model()
    fits = count_fits(first, monkeypatch)
    history = fit_or_load(first, x, y, **FIT)
    assert fits == [FIT]  # exactly the book's call: the arguments as given, nothing added
    assert isinstance(history, keras.callbacks.History)
    assert sorted(history.history) == ["accuracy", "loss"] and len(history.history["loss"]) == 2
    assert history.epoch == [0, 1] and history.params["epochs"] == 2 and history.seconds >= 0

    second = tiny_model()  # new initial weights, Keras's default names numbered on: the same fit
    assert not all(np.array_equal(a, b) for a, b in zip(first.get_weights(), second.get_weights()))
    refits = count_fits(second, monkeypatch)
    again = fit_or_load(second, x, y, **FIT)
    assert refits == []
    assert again.history == history.history and again.epoch == history.epoch and again.params == history.params
    assert (again.seconds, again.device) == (history.seconds, history.device)
    assert all(np.array_equal(a, b) for a, b in zip(first.get_weights(), second.get_weights()))
    # the optimizer's state comes back too: the loaded model is where the fit left it
    assert int(second.optimizer.iterations.numpy()) == int(first.optimizer.iterations.numpy()) == 10
    np.testing.assert_array_equal(second.predict(x, verbose=0), first.predict(x, verbose=0))


def test_a_loaded_model_says_so_unless_verbose_is_zero(monkeypatch, capsys):
    from convnets.cached_fit import fit_or_load

    x, y = tiny_data()
    fit_or_load(tiny_model(), x, y, **FIT)
    capsys.readouterr()
    fit_or_load(tiny_model(), x, y, **FIT)
    assert capsys.readouterr().out == ""
    fit_or_load(tiny_model(), x, y, **{**FIT, "verbose": 2})  # verbose is not in the key: a hit
    assert "loaded from" in capsys.readouterr().out


def test_the_key_changes_with_the_fit_arguments_the_data_and_the_compile_settings():
    from convnets.cached_fit import fit_key

    x, y = tiny_data()
    key = fit_key(tiny_model(), x, y, FIT)
    assert fit_key(tiny_model(), x, y, FIT) == key  # rebuilt: other layer and optimizer names, same key
    assert fit_key(tiny_model(), x, y, {**FIT, "verbose": 1}) == key
    changed_x = x.copy()
    changed_x[3, 2] += 1e-3
    different = {
        "epochs": fit_key(tiny_model(), x, y, {**FIT, "epochs": 3}),
        "batch size": fit_key(tiny_model(), x, y, {**FIT, "batch_size": 4}),
        "an argument added": fit_key(tiny_model(), x, y, {**FIT, "shuffle": False}),
        "one value of x": fit_key(tiny_model(), changed_x, y, FIT),
        "the dtype of x": fit_key(tiny_model(), x.astype("float64"), y, FIT),
        "the labels": fit_key(tiny_model(), x, np.roll(y, 1), FIT),
        "fewer images": fit_key(tiny_model(), x[:20], y[:20], FIT),
        "the learning rate": fit_key(tiny_model(learning_rate=0.02), x, y, FIT),
        "the loss": fit_key(tiny_model(loss="categorical_crossentropy"), x, y, FIT),
    }
    assert key not in different.values()
    assert len(set(different.values())) == len(different)


def test_the_key_changes_with_the_backend_and_its_version(monkeypatch):
    from convnets import devices
    from convnets.cached_fit import fit_key

    x, y = tiny_data()
    keys = set()
    for backend in ("tensorflow 2.21.0", "jax 0.10.2", "jax 0.10.3"):
        monkeypatch.setattr(devices, "backend_version", lambda: backend)
        keys.add(fit_key(tiny_model(), x, y, FIT))
    assert len(keys) == 3


def test_the_key_changes_with_the_architecture_and_the_metrics():
    import keras
    from keras import layers

    from convnets.cached_fit import fit_key

    x, y = tiny_data()
    wider = keras.Sequential([keras.Input(shape=(6,)), layers.Dense(5, activation="relu"),
                              layers.Dense(3, activation="softmax")])
    narrower = keras.Sequential([keras.Input(shape=(6,)), layers.Dense(4, activation="relu"),
                                 layers.Dense(3, activation="softmax")])
    keys = set()
    for model, metrics in ((wider, ["accuracy"]), (narrower, ["accuracy"])):
        model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=metrics)
        keys.add(fit_key(model, x, y, FIT))
    narrower.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=[])
    keys.add(fit_key(narrower, x, y, FIT))
    assert len(keys) == 3


def test_a_truncated_weights_file_is_trained_again_not_loaded(own_cache, monkeypatch):
    from convnets.cached_fit import WEIGHTS_FILE, fit_or_load

    x, y = tiny_data()
    fit_or_load(tiny_model(), x, y, **FIT)
    [weights] = own_cache.glob(f"fit-*/{WEIGHTS_FILE}")
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])

    model = tiny_model()
    fits = count_fits(model, monkeypatch)
    fit_or_load(model, x, y, **FIT)
    assert len(fits) == 1
    again = tiny_model()  # the entry is whole again
    refits = count_fits(again, monkeypatch)
    fit_or_load(again, x, y, **FIT)
    assert refits == []
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), again.get_weights()))


def test_a_half_written_entry_is_trained_again(own_cache, monkeypatch):
    from convnets.cached_fit import fit_or_load
    from convnets.store import MANIFEST_FILE

    x, y = tiny_data()
    fit_or_load(tiny_model(), x, y, **FIT)
    [manifest] = own_cache.glob(f"fit-*/{MANIFEST_FILE}")
    manifest.unlink()  # as if the process stopped before the entry was complete
    model = tiny_model()
    fits = count_fits(model, monkeypatch)
    fit_or_load(model, x, y, **FIT)
    assert len(fits) == 1


def test_a_trained_model_or_an_uncompiled_one_is_refused():
    import keras

    from convnets.cached_fit import fit_or_load

    x, y = tiny_data()
    model = tiny_model()
    model.fit(x, y, **FIT)
    with pytest.raises(ValueError, match="untrained model"):
        fit_or_load(model, x, y, **FIT)
    with pytest.raises(ValueError, match="compile"):
        fit_or_load(keras.Sequential([keras.Input(shape=(6,)), keras.layers.Dense(3)]), x, y, **FIT)


def test_an_argument_it_cannot_key_is_refused_not_ignored():
    import keras

    from convnets.cached_fit import fit_or_load

    x, y = tiny_data()
    with pytest.raises(TypeError, match="cannot key"):
        fit_or_load(tiny_model(), x, y, callbacks=[keras.callbacks.TerminateOnNaN()], **FIT)


def first_chapter_convnet():
    """The convnet, built and compiled by the lines of code/notebooks/first_convnet.py (the first chapter's code)."""
    import keras

    script = (ROOT / "code" / "notebooks" / "first_convnet.py").read_text()
    build = script[script.index("inputs = keras.Input"):script.index("model.summary()")]
    compile_call = script[script.index("model.compile("):script.index("model.fit(")]
    namespace = {"keras": keras, "layers": keras.layers}
    exec(build + compile_call, namespace)
    return namespace["model"]


def test_trained_and_the_first_chapters_fit_share_one_entry_and_one_training(own_cache, mnist, monkeypatch):
    import keras

    from convnets.cached_fit import fit_or_load
    from convnets.named_runs import trained
    from convnets.training import prepare_images

    fits, fit = [], keras.Model.fit
    monkeypatch.setattr(keras.Model, "fit", lambda *args, **kwargs: fits.append(kwargs) or fit(*args, **kwargs))
    model, record = trained("convnet", limit=512, overrides={"epochs": 1})
    assert len(fits) == 1
    (x_train, y_train), (x_test, y_test) = mnist
    book = first_chapter_convnet()
    history = fit_or_load(book, prepare_images(x_train[:512]), y_train[:512], epochs=1, batch_size=64, verbose=0)
    assert len(fits) == 1 and len(list(own_cache.glob("fit-*/"))) == 1
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), book.get_weights()))
    assert record["history"] == history.history and record["fit_seconds_last_session"] == history.seconds
    assert (record["settings"]["limit"], record["recipe"]["epochs"], record["parameters"]) == (512, 1, book.count_params())
    test_loss, test_accuracy = book.evaluate(prepare_images(x_test), y_test, batch_size=512, verbose=0)
    assert record["test_accuracy"] == pytest.approx(test_accuracy) and record["test_loss"] == pytest.approx(test_loss)


def test_a_fit_served_by_the_page_runner_inside_fit_or_load_trains_once(own_cache, monkeypatch):
    """trained() on a page: its fit_or_load's model.fit is the page runner's, which calls fit_or_load again."""
    import keras

    from convnets.cached_fit import fit_or_load
    from pagetest.plugin import cached_fit

    monkeypatch.setattr(keras.Model, "fit", cached_fit(keras.Model.fit))
    x, y = tiny_data()
    history = fit_or_load(tiny_model(), x, y, **FIT)
    assert len(history.history["loss"]) == 2 and len(list(own_cache.glob("fit-*/"))) == 1


@pytest.mark.parametrize("changes", [{"canvas": 40}, {"recipe": "fast"}])
def test_trained_refuses_what_it_cannot_fit_on_arrays(changes):
    from convnets.named_runs import trained

    with pytest.raises(ValueError, match="run_training"):
        trained("convnet", **changes)


CONCURRENT = r"""
import json, sys, time
from pathlib import Path

sys.path.insert(0, sys.argv[2])
from test_fit_or_load import tiny_data, tiny_model

from convnets.cached_fit import fit_or_load

barrier = Path(sys.argv[1])
(barrier / sys.argv[3]).touch()
while len(list(barrier.glob("ready-*"))) < 2:  # start together
    time.sleep(0.01)
model, fits = tiny_model(), []
fit = model.fit


def slow_fit(*args, **kwargs):
    fits.append(1)
    time.sleep(2)  # long enough for the other process to reach the lock
    return fit(*args, **kwargs)


model.fit = slow_fit
history = fit_or_load(model, *tiny_data(), epochs=2, batch_size=8, verbose=0)
print(json.dumps({"fits": len(fits), "history": history.history}))
"""


def test_two_processes_at_once_train_once(tmp_path, own_cache):
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    env = script_env(CONVNETS_CACHE=str(own_cache))
    processes = [subprocess.Popen([sys.executable, "-c", CONCURRENT, str(barrier), str(ROOT / "tests"), f"ready-{n}"],
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for n in range(2)]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert sorted(result["fits"] for result in results) == [0, 1]
    assert results[0]["history"] == results[1]["history"]
    assert len([path for path in own_cache.glob("fit-*") if path.is_dir()]) == 1
    assert not list(own_cache.glob(".partial-*"))
