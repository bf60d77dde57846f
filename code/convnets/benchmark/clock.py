"""The benchmark's clock, and the Keras callback that runs it inside `fit`.

The callback is how the benchmark watches a training it does not own: the clock starts when `fit`
starts training and stops, once the device has finished, when training ends; it pauses while the test
set is evaluated, and records how long each call of the training function took.
"""

from __future__ import annotations

import time

import keras
import numpy as np


class Clock:
    """A stopwatch for training that stops while the model is evaluated."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.paused = 0.0

    def elapsed(self) -> float:
        """Seconds of training so far, evaluations excluded."""
        return time.perf_counter() - self.start - self.paused

    def pause(self) -> float:
        """Stop counting; returns the training seconds so far."""
        self._pause_start = time.perf_counter()
        return self._pause_start - self.start - self.paused

    def resume(self) -> None:
        self.paused += time.perf_counter() - self._pause_start


def accuracy(predictions: np.ndarray, labels: np.ndarray) -> float:
    """The fraction of images whose highest-scoring class is the label."""
    return float(np.mean(np.argmax(predictions, axis=-1) == labels))


def wait_for(model: keras.Model) -> None:
    """Block until the device has finished the work queued so far (JAX and GPUs run asynchronously)."""
    keras.ops.convert_to_numpy(model.trainable_variables[-1])


def steady_step_seconds(calls: list[tuple[int, float]]) -> float:
    """Seconds per training step once compiled: the calls after the first, all together."""
    later = calls[1:] or calls
    return sum(seconds for _, seconds in later) / sum(steps for steps, _ in later)


def one_time_seconds(calls: list[tuple[int, float]]) -> float:
    """The first call's extra time over a compiled call of as many steps: tracing and compilation, mostly."""
    steps, seconds = calls[0]
    return max(0.0, seconds - steps * steady_step_seconds(calls))


class TimeTraining(keras.callbacks.Callback):
    """Times `fit` from its first step to its last, measuring test accuracy every `every` steps and at each
    epoch's end with the clock paused (`every` 0: never)."""

    def __init__(self, x_test: np.ndarray, y_test: np.ndarray, every: int, steps_per_epoch: int) -> None:
        super().__init__()
        self.x_test, self.y_test, self.every, self.steps_per_epoch = x_test, y_test, every, steps_per_epoch
        self.evaluations: list[dict] = []
        self.calls: list[tuple[int, float]] = []  # (steps, seconds) of each call of the training function
        self.steps = 0
        self.epoch_seconds: list[float] = []  # the training seconds of each epoch
        self.fit_seconds: float | None = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.clock = Clock()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch, self.epoch_steps, self.next_eval = epoch, 0, self.every
        self.last_call = self.epoch_start = self.clock.elapsed()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if not self.calls:
            wait_for(self.model)  # so that the first call's time holds the compilation
        now = self.clock.elapsed()
        done = min(batch + 1, self.steps_per_epoch)  # a call of several steps may report past the epoch's end
        self.calls.append((done - self.epoch_steps, now - self.last_call))
        self.last_call = now
        self.steps += done - self.epoch_steps
        self.epoch_steps = done
        if self.every and self.epoch_steps >= self.next_eval:
            self.evaluate()
            self.next_eval += self.every

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        wait_for(self.model)
        self.epoch_seconds.append(self.clock.elapsed() - self.epoch_start)
        if self.every and (not self.evaluations or self.evaluations[-1]["step"] != self.steps):
            self.evaluate()

    def on_train_end(self, logs: dict | None = None) -> None:
        wait_for(self.model)
        self.fit_seconds = self.clock.elapsed()

    def evaluate(self) -> None:
        wait_for(self.model)
        seconds = self.clock.pause()
        predictions = self.model.predict(self.x_test, batch_size=1000, verbose=0)
        self.evaluations.append({"step": self.steps, "epoch": self.epoch + self.epoch_steps / self.steps_per_epoch,
                                 "seconds": seconds, "accuracy": accuracy(predictions, self.y_test)})
        self.clock.resume()
        self.last_call = self.clock.elapsed()

    def timings(self, batch_size: int) -> dict:
        """The benchmark's record of the timed training."""
        return {"fit_seconds": self.fit_seconds, "epoch_seconds": self.epoch_seconds, "evaluations": self.evaluations,
                "one_time_seconds": one_time_seconds(self.calls), "compile_in_fit": True,
                "steady_images_per_second": batch_size / steady_step_seconds(self.calls)}
