"""Train with the data set held on the GPU: one compiled JAX function runs many training steps per call.

Keras's `fit` hands the device one batch per call and copies each batch from host memory. On a
GPU this small convnet's step takes tens of microseconds, so that per-step work is most of the time.
Here the same model, loss, optimizer and schedule (the Keras stateless API) run inside
`jax.lax.scan` over batches gathered on the device from arrays copied there once. Each epoch uses
the full batches of a fresh shuffle; the few images left over change from epoch to epoch.

Not trained through convnets.runner.run_training: it replaces `fit`, around which run_training is built.
"""

from __future__ import annotations

import statistics
import time

import numpy as np


def chunk_lengths(steps: int, every: int) -> list[int]:
    """Steps per compiled call in one epoch: `every` steps between evaluations, the rest last."""
    every = every or steps
    return [every] * (steps // every) + ([steps % every] if steps % every else [])


def train(recipe, x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray,
          every: int, seed: int = 1) -> dict:
    """Train the convnet with `recipe`; evaluate every `every` steps off the clock; return timings."""
    import jax
    import jax.numpy as jnp
    import keras

    from convnets import models, training
    from convnets.benchmark.clock import Clock

    one_time_start = time.perf_counter()
    steps = len(x_train) // recipe.batch_size
    model = models.build_convnet()
    training.compile_model(model, recipe, steps)  # under mixed_float16, Keras adds loss scaling here
    optimizer = model.optimizer
    optimizer.build(model.trainable_variables)
    loss_function = training.make_loss(recipe)  # with the recipe's label smoothing

    def scaled_loss(trainable, non_trainable, optimizer_state, images, labels):
        predictions, non_trainable = model.stateless_call(trainable, non_trainable, images, training=True)
        loss = loss_function(labels, predictions)
        with keras.StatelessScope(state_mapping=list(zip(optimizer.variables, optimizer_state))):
            scaled = optimizer.scale_loss(loss)
        return scaled, (loss, non_trainable)

    gradients = jax.value_and_grad(scaled_loss, has_aux=True)

    def run_steps(state, images, labels, batches):
        def step(state, indices):
            trainable, non_trainable, optimizer_state = state
            (_, (loss, non_trainable)), grads = gradients(
                trainable, non_trainable, optimizer_state, images[indices], labels[indices])
            trainable, optimizer_state = optimizer.stateless_apply(optimizer_state, grads, trainable)
            return (trainable, non_trainable, optimizer_state), loss
        return jax.lax.scan(step, state, batches)

    def predict_classes(trainable, non_trainable, images):
        predictions, _ = model.stateless_call(trainable, non_trainable, images, training=False)
        return jnp.argmax(predictions, axis=-1)

    images, labels = jax.device_put(x_train), jax.device_put(y_train.astype("int32"))
    test_images = jax.device_put(x_test)
    state = ([v.value for v in model.trainable_variables], [v.value for v in model.non_trainable_variables],
             [v.value for v in optimizer.variables])
    lengths = chunk_lengths(steps, every)
    compile_start = time.perf_counter()
    compiled = {
        length: jax.jit(run_steps, donate_argnums=0).lower(
            state, images, labels, jnp.zeros((length, recipe.batch_size), jnp.int32)).compile()
        for length in set(lengths)
    }
    predict = jax.jit(predict_classes).lower(state[0], state[1], test_images).compile()
    compile_seconds = time.perf_counter() - compile_start
    jax.block_until_ready((images, labels, test_images))
    one_time_seconds = time.perf_counter() - one_time_start

    rng = np.random.default_rng(seed)
    clock = Clock()
    evaluations, chunk_seconds, done = [], [], 0
    for epoch in range(recipe.epochs):
        order = jax.device_put(rng.permutation(len(x_train))[:steps * recipe.batch_size].astype("int32")
                               .reshape(steps, recipe.batch_size))
        start = 0
        for length in lengths:
            began = clock.elapsed()
            state, losses = compiled[length](state, images, labels, order[start:start + length])
            jax.block_until_ready(losses)
            seconds = clock.pause()
            chunk_seconds.append((length, seconds - began))
            start += length
            done += length
            if every:
                classes = np.asarray(predict(state[0], state[1], test_images))
                evaluations.append({"step": done, "epoch": epoch + start / steps, "seconds": seconds,
                                    "accuracy": float(np.mean(classes == y_test))})
            clock.resume()
    fit_seconds = clock.elapsed()

    for variable, value in zip(model.trainable_variables, state[0]):
        variable.assign(value)
    for variable, value in zip(model.non_trainable_variables, state[1]):
        variable.assign(value)
    full = [seconds for length, seconds in chunk_seconds if length == lengths[0]]
    return {
        "model": model,
        "fit_seconds": fit_seconds,
        "evaluations": evaluations,
        "one_time_seconds": one_time_seconds,
        "compile_seconds": compile_seconds,
        "compile_in_fit": False,
        "trained_images": done * recipe.batch_size,
        "steady_images_per_second": lengths[0] * recipe.batch_size / statistics.median(full),
    }
