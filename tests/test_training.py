"""convnets.training: the recipes' loss with label smoothing and their input pipelines."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from convnets import recipes, training


def test_smoothed_loss_is_the_cross_entropy_against_spread_out_targets():
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.ones(10), size=8).astype("float32")
    labels = rng.integers(0, 10, size=8)
    smoothing = 0.1
    targets = np.full((8, 10), smoothing / 10) + (1 - smoothing) * np.eye(10)[labels]
    by_hand = -(targets * np.log(probabilities)).sum(axis=1).mean()
    loss = training.SmoothedSparseCrossentropy(smoothing)
    assert float(loss(labels, probabilities)) == pytest.approx(by_hand, rel=1e-5)
    plain = keras.losses.SparseCategoricalCrossentropy()(labels, probabilities)
    assert float(training.SmoothedSparseCrossentropy(0.0)(labels, probabilities)) == pytest.approx(float(plain), rel=1e-5)


def test_a_recipe_without_smoothing_keeps_the_books_loss_and_one_with_it_survives_saving(tmp_path):
    assert type(training.make_loss(recipes.RECIPES["book"])) is keras.losses.SparseCategoricalCrossentropy
    recipe = recipes.recipe_with("fast", label_smoothing=0.1)
    inputs = keras.Input(shape=(4,))
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(inputs))
    training.compile_model(model, recipe, steps_per_epoch=10)
    model.fit(np.zeros((2, 4)), np.array([3, 7]), verbose=0)
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    assert isinstance(loaded.loss, training.SmoothedSparseCrossentropy) and loaded.loss.smoothing == 0.1


def epoch_of(batches) -> tuple[list[np.ndarray], list[np.ndarray]]:
    images, labels = zip(*((np.asarray(x), np.asarray(y)) for x, y in batches))
    return list(images), list(labels)


def test_the_gather_pipeline_gives_every_image_once_an_epoch_reshuffled_with_autotuning_off():
    keras.utils.set_random_seed(3)
    images = np.arange(10 * 2 * 2, dtype="float32").reshape(10, 2, 2, 1)
    labels = np.arange(10, dtype="uint8")
    data = training.fit_data(images, labels, recipes.recipe_with("fast", batch_size=4))
    assert set(data) == {"x", "shuffle"} and data["shuffle"] is False  # fit's own shuffling would only warn
    batches = data["x"]
    assert int(batches.cardinality()) == training.steps_per_epoch(10, 4) == 3
    assert batches.options().autotune.enabled is False
    autotuned = training.fit_data(images, labels, recipes.recipe_with("fast", input_pipeline="gather-autotuned"))
    assert autotuned["x"].options().autotune.enabled is True
    first, second = epoch_of(batches), epoch_of(batches)
    for epoch_images, epoch_labels in (first, second):
        assert [len(batch) for batch in epoch_labels] == [4, 4, 2]
        order = np.concatenate(epoch_labels)
        assert sorted(order) == list(range(10))
        assert (np.concatenate(epoch_images) == images[order]).all()  # each image stays with its label
    assert not np.array_equal(np.concatenate(first[1]), np.concatenate(second[1]))  # a new order each epoch


def test_the_keras_pipeline_hands_fit_the_arrays():
    images, labels = np.zeros((6, 28, 28, 1), "float32"), np.zeros(6, "uint8")
    data = training.fit_data(images, labels, recipes.RECIPES["book"])
    assert data["x"] is images and data["y"] is labels and data["batch_size"] == recipes.RECIPES["book"].batch_size
