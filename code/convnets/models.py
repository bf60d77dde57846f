"""The book's models, built with the Functional API."""

from __future__ import annotations

from functools import partial
from typing import Callable

import keras
from keras import layers

from convnets.model_names import POOLINGS, pooling_model


# --8<-- [start:convnet]
def build_convnet() -> keras.Model:
    """The small MNIST convnet (the book's Listing 8.1)."""
    inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(filters=32, kernel_size=3, activation="relu")(inputs)
    x = layers.MaxPooling2D(pool_size=2)(x)
    x = layers.Conv2D(filters=64, kernel_size=3, activation="relu")(x)
    x = layers.MaxPooling2D(pool_size=2)(x)
    x = layers.Conv2D(filters=128, kernel_size=3, activation="relu")(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(10, activation="softmax", dtype="float32")(x)
    return keras.Model(inputs=inputs, outputs=outputs)
# --8<-- [end:convnet]


# --8<-- [start:no_max_pool]
def build_convnet_no_max_pool() -> keras.Model:
    """The same convnet without its max-pooling layers (Listing 8.5)."""
    inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(filters=32, kernel_size=3, activation="relu")(inputs)
    x = layers.Conv2D(filters=64, kernel_size=3, activation="relu")(x)
    x = layers.Conv2D(filters=128, kernel_size=3, activation="relu")(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(10, activation="softmax", dtype="float32")(x)
    return keras.Model(inputs=inputs, outputs=outputs)
# --8<-- [end:no_max_pool]


# --8<-- [start:dense]
def build_dense() -> keras.Model:
    """The chapter-2 baseline: a single hidden Dense layer of 512 units."""
    inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Flatten()(inputs)
    x = layers.Dense(512, activation="relu")(x)
    outputs = layers.Dense(10, activation="softmax", dtype="float32")(x)
    return keras.Model(inputs=inputs, outputs=outputs)
# --8<-- [end:dense]


# --8<-- [start:pooling_variant]
def build_pooling_variant(pooling: str) -> keras.Model:
    """The convnet with its downsampling swapped: max, average, strided or none."""
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, not {pooling!r}")
    inputs = keras.Input(shape=(28, 28, 1))
    x = inputs
    for filters in (32, 64):
        stride = 2 if pooling == "strided" else 1
        x = layers.Conv2D(filters, kernel_size=3, strides=stride, activation="relu")(x)
        if pooling == "max":
            x = layers.MaxPooling2D(pool_size=2)(x)
        elif pooling == "average":
            x = layers.AveragePooling2D(pool_size=2)(x)
    x = layers.Conv2D(filters=128, kernel_size=3, activation="relu")(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(10, activation="softmax", dtype="float32")(x)
    return keras.Model(inputs=inputs, outputs=outputs)
# --8<-- [end:pooling_variant]


# Every model run_training can train, by the names in convnets.model_names.
MODELS: dict[str, Callable[[], keras.Model]] = {
    "convnet": build_convnet,
    "no-max-pool": build_convnet_no_max_pool,
    "dense": build_dense,
    **{pooling_model(pooling): partial(build_pooling_variant, pooling) for pooling in POOLINGS},
}


# --8<-- [start:on_canvas]
def on_canvas(name: str, size: int) -> keras.Model:
    """The model MODELS[name], built for 28×28 digits, with the same layers on a size×size input."""
    x = inputs = keras.Input(shape=(size, size, 1))
    for layer in MODELS[name]().layers[1:]:  # after its InputLayer
        config = layer.get_config()
        config.pop("name")  # a fresh name, as for any new layer
        x = layer.__class__.from_config(config)(x)
    return keras.Model(inputs=inputs, outputs=x)
# --8<-- [end:on_canvas]


# --8<-- [start:global_pooling]
def build_global_pooling_convnet(size: int = 28) -> keras.Model:
    """The book's convnet with GlobalAveragePooling2D in place of Flatten."""
    inputs = keras.Input(shape=(size, size, 1))
    x = layers.Conv2D(filters=32, kernel_size=3, activation="relu")(inputs)
    x = layers.MaxPooling2D(pool_size=2)(x)
    x = layers.Conv2D(filters=64, kernel_size=3, activation="relu")(x)
    x = layers.MaxPooling2D(pool_size=2)(x)
    x = layers.Conv2D(filters=128, kernel_size=3, activation="relu")(x)
    x = layers.GlobalAveragePooling2D()(x)  # the mean of each channel: 128 values
    outputs = layers.Dense(10, activation="softmax", dtype="float32")(x)
    return keras.Model(inputs=inputs, outputs=outputs)
# --8<-- [end:global_pooling]


# The translation experiment's models by the names in convnets.model_names.SHIFT_MODELS, each given the canvas size.
CANVAS_MODELS: dict[str, Callable[[int], keras.Model]] = {
    "dense": partial(on_canvas, "dense"),
    "convnet": partial(on_canvas, "convnet"),
    "global-pooling": build_global_pooling_convnet,
}
