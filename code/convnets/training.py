"""How a recipe becomes a compiled model, and the callbacks every training run uses."""

from __future__ import annotations

# --8<-- [start:imports]
import json
import math
import os
import time
from pathlib import Path

import keras
import numpy as np

from convnets.devices import native_bfloat16
from convnets.recipes import Recipe
from convnets.run_files import BACKUP_DIR, LOG_FILE
# --8<-- [end:imports]


# --8<-- [start:prepare_images]
def prepare_images(images: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) digits to float32 (N, 28, 28, 1) in [0, 1]."""
    return images.reshape((-1, 28, 28, 1)).astype("float32") / 255
# --8<-- [end:prepare_images]


def precision_policy(recipe: Recipe, on_gpu: bool) -> str:
    """The Keras dtype policy for a recipe: float16 on GPUs, bfloat16 on CPUs ("auto": where it is native)."""
    if not recipe.mixed_precision:
        return "float32"
    if recipe.mixed_precision == "auto" and not on_gpu and not native_bfloat16():
        return "float32"  # emulated bfloat16 is many times slower than float32
    return "mixed_float16" if on_gpu else "mixed_bfloat16"


# --8<-- [start:optimizer]
def make_optimizer(recipe: Recipe, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    """Build the recipe's optimizer with its learning-rate schedule."""
    optimizer_class = {"rmsprop": keras.optimizers.RMSprop, "adam": keras.optimizers.Adam}[recipe.optimizer]
    if recipe.learning_rate is None:
        return optimizer_class()
    learning_rate: float | keras.optimizers.schedules.LearningRateSchedule = recipe.learning_rate
    if recipe.schedule == "warmup-cosine":
        total = math.ceil(steps_per_epoch * min(recipe.decay_epochs or recipe.epochs, recipe.epochs))
        warmup = min(total - 1, math.ceil(recipe.warmup_epochs * steps_per_epoch))
        learning_rate = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=recipe.learning_rate / 10,
            decay_steps=max(1, total - warmup),
            alpha=recipe.floor,
            warmup_target=recipe.learning_rate,
            warmup_steps=warmup,
        )
    return optimizer_class(learning_rate=learning_rate)
# --8<-- [end:optimizer]


# --8<-- [start:smoothing]
class SmoothedSparseCrossentropy(keras.losses.Loss):
    """Cross-entropy against integer labels smoothed: each target puts 1 - s + s/10 on its class and s/10 on the others."""

    def __init__(self, smoothing: float, name: str = "smoothed_sparse_crossentropy", **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.smoothing = smoothing

    def call(self, y_true, y_pred):
        labels = keras.ops.cast(keras.ops.reshape(y_true, (-1,)), "int32")
        targets = keras.ops.one_hot(labels, keras.ops.shape(y_pred)[-1], dtype=y_pred.dtype)
        return keras.losses.categorical_crossentropy(targets, y_pred, label_smoothing=self.smoothing)

    def get_config(self) -> dict:
        return {**super().get_config(), "smoothing": self.smoothing}
# --8<-- [end:smoothing]


# A model compiled with it can be saved and loaded again (train.py's model.keras).
keras.saving.register_keras_serializable(package="convnets")(SmoothedSparseCrossentropy)


def make_loss(recipe: Recipe) -> keras.losses.Loss:
    """Sparse categorical cross-entropy, with the recipe's label smoothing if it has any."""
    if recipe.label_smoothing:
        return SmoothedSparseCrossentropy(recipe.label_smoothing)
    return keras.losses.SparseCategoricalCrossentropy()


def compile_model(model: keras.Model, recipe: Recipe, steps_per_epoch: int) -> keras.Model:
    """Compile with the recipe's optimizer and loss, and accuracy."""
    model.compile(
        optimizer=make_optimizer(recipe, steps_per_epoch),
        loss=make_loss(recipe),
        metrics=["accuracy"],
        jit_compile=recipe.jit_compile,
        steps_per_execution=recipe.steps_per_execution,
    )
    return model


def steps_per_epoch(num_images: int, batch_size: int) -> int:
    return math.ceil(num_images / batch_size)


# --8<-- [start:fit_data]
def fit_data(images: np.ndarray, labels: np.ndarray, recipe: Recipe) -> dict:
    """`fit`'s data arguments for the recipe's input pipeline.

    "keras" hands `fit` the arrays, and Keras slices them; on TensorFlow it builds a tf.data pipeline that
    tf.data's autotuning adjusts while it runs. "gather" (TensorFlow only; elsewhere the arrays) is a tf.data
    pipeline of our own: the image indices reshuffled every epoch, each batch taken with one gather, one batch
    prepared ahead, and autotuning off; "gather-autotuned" is the same pipeline with autotuning on.
    """
    if recipe.input_pipeline == "keras" or keras.backend.backend() != "tensorflow":
        return {"x": images, "y": labels, "batch_size": recipe.batch_size}
    import tensorflow as tf

    x, y, count = tf.constant(images), tf.constant(labels), len(images)
    batches = (tf.data.Dataset.range(count)
               .shuffle(count, reshuffle_each_iteration=True)
               .batch(recipe.batch_size)
               .map(lambda indices: (tf.gather(x, indices), tf.gather(y, indices)))
               .prefetch(1)
               .apply(tf.data.experimental.assert_cardinality(steps_per_epoch(count, recipe.batch_size))))
    options = tf.data.Options()
    options.autotune.enabled = recipe.input_pipeline == "gather-autotuned"
    return {"x": batches.with_options(options), "shuffle": False}  # it shuffles itself, every epoch
# --8<-- [end:fit_data]


class EpochLog(keras.callbacks.Callback):
    """Appends each finished epoch's metrics and wall-clock seconds to a JSON-lines file."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        row = {"epoch": epoch, **{k: float(v) for k, v in (logs or {}).items()},
               "seconds": time.perf_counter() - self._start}
        with self.path.open("a") as handle:
            handle.write(json.dumps(row) + "\n")
            handle.flush()
            os.fsync(handle.fileno())


# A uniform guess over 10 classes has a cross-entropy of ln 10 ≈ 2.3; a running mean above 100 means the
# network gives the right class a probability below e^-100 on average: the weights have blown up.
DIVERGENCE_BOUND = 100.0


class DivergenceGuard(keras.callbacks.Callback):
    """Stops training as soon as the loss is NaN, infinite or above `bound`; `reason` then says which."""

    def __init__(self, bound: float = DIVERGENCE_BOUND) -> None:
        super().__init__()
        self.bound = bound
        self.reason: str | None = None
        self.epoch = 0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        loss = float((logs or {}).get("loss", 0.0))
        if math.isnan(loss):
            problem = "the loss became NaN"
        elif math.isinf(loss):
            problem = "the loss became infinite"
        elif loss > self.bound:
            problem = f"the loss reached {loss:.3g}, past the divergence bound of {self.bound:g}"
        else:
            return
        self.reason = f"in epoch {self.epoch + 1}, {problem}"
        self.model.stop_training = True


def run_callbacks(folder: Path, guard: DivergenceGuard) -> list[keras.callbacks.Callback]:
    """What every run in an output folder trains with: resumable checkpoints, the epoch log and the guard."""
    return [
        keras.callbacks.BackupAndRestore(backup_dir=str(folder / BACKUP_DIR), double_checkpoint=True),
        EpochLog(folder / LOG_FILE),
        guard,
    ]
