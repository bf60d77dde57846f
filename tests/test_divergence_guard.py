"""The divergence guard stops a run at the first batch whose loss is NaN, infinite or past its bound."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from convnets.training import DIVERGENCE_BOUND, DivergenceGuard


class CountBatches(keras.callbacks.Callback):
    def __init__(self) -> None:
        super().__init__()
        self.batches = 0

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.batches += 1


def fit_guarded(kernel: float, loss="sparse_categorical_crossentropy", bound: float = DIVERGENCE_BOUND):
    """Two epochs of eight batches on a tiny softmax model whose weights are all `kernel`."""
    model = keras.Sequential([keras.Input((4,)),
                              keras.layers.Dense(3, activation="softmax",
                                                 kernel_initializer=keras.initializers.Constant(kernel))])
    model.compile(optimizer="sgd", loss=loss)
    guard, counter = DivergenceGuard(bound), CountBatches()
    x = np.ones((64, 4), dtype="float32")
    y = np.zeros(64, dtype="int64")
    model.fit(x, y, epochs=2, batch_size=8, callbacks=[guard, counter], verbose=0)
    return guard, counter.batches


def test_a_nan_loss_stops_training_after_its_first_batch():
    guard, batches = fit_guarded(float("nan"))
    assert guard.reason == "in epoch 1, the loss became NaN" and batches == 1


def test_an_infinite_loss_stops_training_after_its_first_batch():
    def infinite(y_true, y_pred):
        return keras.ops.sum(y_pred, axis=-1) * 0.0 + float("inf")

    guard, batches = fit_guarded(0.0, loss=infinite)
    assert guard.reason == "in epoch 1, the loss became infinite" and batches == 1


def test_a_loss_past_the_bound_stops_training():
    guard, batches = fit_guarded(0.0, bound=1.0)  # uniform predictions over 3 classes: ln 3 ≈ 1.1
    assert guard.reason.startswith("in epoch 1, the loss reached 1.1") and batches == 1


def test_a_healthy_run_is_left_alone():
    guard, batches = fit_guarded(0.0)
    assert guard.reason is None and batches == 16


@pytest.mark.parametrize("loss, stops", [(2.3, False), (DIVERGENCE_BOUND, False), (DIVERGENCE_BOUND * 1.01, True),
                                         (float("nan"), True), (float("-inf"), True)])
def test_the_bound_is_on_the_reported_loss(loss, stops):
    guard = DivergenceGuard()
    guard.set_model(keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)]))
    guard.on_train_batch_end(0, {"loss": loss})
    assert (guard.reason is not None) == stops and getattr(guard.model, "stop_training", False) == stops
