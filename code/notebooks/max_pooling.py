# %% [markdown]
# # Max pooling
#
# The companion notebook of the chapter *Max pooling*: max pooling from scratch in NumPy, checked
# against `MaxPooling2D`; the convnet without pooling and its two problems, computed; and the results
# of the experiment that compares four ways to downsample. Run it with `python code/notebooks/max_pooling.py`
# (it trains the first chapter's convnet again, and two small models for an exercise).

# %%
try:
    import convnets  # the tutorial's package, code/convnets in the repository
except ModuleNotFoundError:
    raise SystemExit("This notebook needs the tutorial's convnets package: "
                     "pip install path/to/the/repository") from None

# %%
# --8<-- [start:setup]
import json

import keras
import numpy as np
from keras import layers

from convnets.data import load_mnist
from convnets.models import build_convnet, build_convnet_no_max_pool, build_pooling_variant
from convnets.numpy_ops import extract_patches, max_pool2d
from convnets.paths import SNAPS_DIR
from convnets.shapes import receptive_fields, window_layers
from convnets.stats import mean_interval
from convnets.training import prepare_images
# --8<-- [end:setup]

# %% [markdown]
# ## Max pooling on a few numbers

# %%
# --8<-- [start:toy]
numbers = np.random.default_rng(26).integers(0, 10, size=(4, 4))  # the figure's
print(numbers)
print("max pooled:")
print(max_pool2d(numbers[:, :, np.newaxis])[:, :, 0])
# --8<-- [end:toy]

# %% [markdown]
# ## On a real feature map, against Keras
#
# The first layer of the trained convnet, applied to one test digit, gives 32 feature maps of
# 26×26 pixels. The convnet is the first chapter's, trained again with the same code.

# %%
# --8<-- [start:load]
(train_images, train_labels), (test_images, test_labels) = load_mnist()
train_images, test_images = prepare_images(train_images), prepare_images(test_images)
convnet = build_convnet()
convnet.compile(optimizer="rmsprop",
                loss="sparse_categorical_crossentropy",
                metrics=["accuracy"])
convnet.fit(train_images, train_labels, epochs=5, batch_size=64)
# --8<-- [end:load]

# %%
# --8<-- [start:check]
digit = test_images[1:2]  # one image, with the batch axis in front
first_maps = keras.ops.convert_to_numpy(convnet.layers[1](digit))[0]  # first Conv2D's output
ours = max_pool2d(first_maps)
theirs = keras.ops.convert_to_numpy(layers.MaxPooling2D(pool_size=2)(first_maps[np.newaxis]))[0]
print("feature maps:", first_maps.shape, "-> max pooled:", ours.shape)
print("equal within 1e-5:", np.allclose(ours, theirs, atol=1e-5))
# --8<-- [end:check]

# %% [markdown]
# ## Where the gradient goes
#
# During training, the gradient of the loss flows back through each pooling window to the one input that
# won the max; the other three get none. Here it is on random values, with the framework's own
# automatic differentiation, against a NumPy mask of each window's maximum.

# %%
# --8<-- [start:gradient]
def gradient_of_sum(layer, x: np.ndarray) -> np.ndarray:
    """The gradient of the sum of a layer's outputs with respect to its input, by the backend's autodiff."""
    if keras.backend.backend() == "jax":
        import jax

        return np.asarray(jax.grad(lambda v: layer(v).sum())(x))
    if keras.backend.backend() == "torch":
        import torch

        x = torch.tensor(x, requires_grad=True)
        layer(x).sum().backward()
        return x.grad.numpy()
    import tensorflow as tf

    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = tf.reduce_sum(layer(x))
    return tape.gradient(total, x).numpy()


values = np.random.default_rng(0).normal(size=(1, 4, 4, 1)).astype("float32")
gradient = gradient_of_sum(layers.MaxPooling2D(2), values)[0, :, :, 0]
window_max = max_pool2d(values[0]).repeat(2, axis=0).repeat(2, axis=1)[:, :, 0]
print(values[0, :, :, 0].round(2))
print("gradient:")
print(gradient)
print("1 exactly where a window has its maximum:", np.array_equal(gradient, values[0, :, :, 0] == window_max))
average = gradient_of_sum(layers.AveragePooling2D(2), values)
print("average pooling sends every input:", np.unique(average))
# --8<-- [end:gradient]

# %% [markdown]
# With 2×2 windows and a stride of 1, the windows overlap: an input that is the maximum of several windows
# gets one for each window it wins.

# %%
# --8<-- [start:overlap]
values = np.random.default_rng(1).normal(size=(1, 4, 4, 1)).astype("float32")
gradient = gradient_of_sum(layers.MaxPooling2D(2, strides=1), values)[0, :, :, 0]
wins = np.zeros((4, 4))  # how many of the 3×3 windows each input wins
for i in range(3):
    for j in range(3):
        window = values[0, i:i + 2, j:j + 2, 0]
        row, col = np.unravel_index(window.argmax(), window.shape)
        wins[i + row, j + col] += 1
print(values[0, :, :, 0].round(2))
print("gradient:")
print(gradient)
print("equal to the number of windows won:", np.array_equal(gradient, wins))
# --8<-- [end:overlap]

# %% [markdown]
# ## The convnet without max pooling

# %%
# --8<-- [start:no_pool_summary]
model_no_max_pool = build_convnet_no_max_pool()
model_no_max_pool.summary()
# --8<-- [end:no_pool_summary]

# %% [markdown]
# Problem 1: how much of the input does each layer see?

# %%
# --8<-- [start:receptive]
models = {"with max pooling": build_convnet(),
          "without max pooling": model_no_max_pool}
for label, model in models.items():
    windows = window_layers(model)
    sizes = receptive_fields([(k, s) for _, k, s in windows])
    print(label)
    for (kind, k, s), size in zip(windows, sizes):
        print(f"  {kind:<12}  {k}×{k}, stride {s}: "
              f"each output sees {size}×{size} input pixels")
# --8<-- [end:receptive]

# %% [markdown]
# Why stacks of 3×3 convolutions: two of them see a 5×5 window, like one 5×5 convolution, with fewer
# weights (here for one input and one output channel, without biases).

# %%
# --8<-- [start:stacks]
two_3x3 = keras.Sequential([keras.Input(shape=(28, 28, 1)),
                            layers.Conv2D(1, 3, use_bias=False, activation="relu"),
                            layers.Conv2D(1, 3, use_bias=False)])
one_5x5 = keras.Sequential([keras.Input(shape=(28, 28, 1)),
                            layers.Conv2D(1, 5, use_bias=False)])
for label, model, windows in (("two 3×3", two_3x3, [(3, 1), (3, 1)]),
                              ("one 5×5", one_5x5, [(5, 1)])):
    size = receptive_fields(windows)[-1]
    print(f"{label}: each output sees {size}×{size} pixels, "
          f"{model.count_params()} weights, output {model.output_shape[1:]}")
# --8<-- [end:stacks]

# %% [markdown]
# Problem 2: how large is the last feature map, and the Dense layer after it?

# %%
# --8<-- [start:size]
height, width, channels = model_no_max_pool.layers[-3].output.shape[1:]
dense = model_no_max_pool.layers[-1]
values = height * width * channels
print(f"last feature map: {height}·{width}·{channels} = {values:,} values")
print(f"Dense layer: ({values:,} + 1)·10 = {(values + 1) * 10:,} parameters "
      f"(Keras: {dense.count_params():,})")
print(f"that is {dense.count_params() / model_no_max_pool.count_params():.0%} "
      f"of the model's {model_no_max_pool.count_params():,} parameters")
# --8<-- [end:size]

# %% [markdown]
# ## What the experiment found
#
# `code/pooling_experiment.py` trained four variants of the convnet, 20 seeds each, on a 2-core CPU, and
# wrote the runs to a JSON file; `code/experiment_results.py` prints them in detail.

# %%
# --8<-- [start:results]
NAMES = {"max": "max pooling", "average": "average pooling",
         "strided": "strided conv", "none": "no pooling"}
run = json.loads((SNAPS_DIR / "pooling_experiment_cpu.json").read_text())
settings = run["settings"]
print(f"{settings['training_images']:,} training images, {settings['epochs']} epochs, "
      f"{settings['seeds']} seeds per model")
print("test accuracy in %: the mean over the seeds [its 95% interval]")
print("downsampling     | test accuracy        | median time per run")
for row in run["results"]:
    accuracy = mean_interval([100 * a for a in row["test_accuracy"]])
    print(f"{NAMES[row['pooling']]:<16} | {accuracy.mean:.2f} [{accuracy.low:.2f}, {accuracy.high:.2f}] | "
          f"{np.median(row['seconds']):.0f} s")
# --8<-- [end:results]

# %% [markdown]
# ## Exercises
#
# **1.** Write average pooling from scratch, and check it against `AveragePooling2D`.

# %%
# --8<-- [start:exercise_average]
def average_pool2d(image: np.ndarray, size: int = 2) -> np.ndarray:
    """Average pooling of an (H, W, C) map, like AveragePooling2D."""
    return extract_patches(image, size, size).mean(axis=(2, 3))


ours = average_pool2d(first_maps)
theirs = keras.ops.convert_to_numpy(layers.AveragePooling2D(2)(first_maps[np.newaxis]))[0]
print("average pooled:", ours.shape)
print("equal within 1e-5:", np.allclose(ours, theirs, atol=1e-5))
# --8<-- [end:exercise_average]

# %% [markdown]
# **2.** Swap max pooling for average pooling, train both models for one epoch on the first 10,000
# training images, and compare their test accuracy.

# %%
# --8<-- [start:exercise_train]
first_train, first_labels = train_images[:10_000], train_labels[:10_000]
for pooling in ("max", "average"):
    keras.utils.set_random_seed(1)  # the same initial weights' seed and batch order for both
    model = build_pooling_variant(pooling)
    model.compile(optimizer="rmsprop",
                  loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(first_train, first_labels, epochs=1, batch_size=64)
    _, accuracy = model.evaluate(test_images, test_labels, verbose=0)
    print(f"{pooling} pooling: test accuracy {accuracy:.3f}")
# --8<-- [end:exercise_train]

# %% [markdown]
# **3.** Keep only the first max-pooling layer. How many parameters does the Dense layer have then?

# %%
# --8<-- [start:exercise_one_pool]
inputs = keras.Input(shape=(28, 28, 1))
x = layers.Conv2D(32, 3, activation="relu")(inputs)
x = layers.MaxPooling2D(2)(x)
x = layers.Conv2D(64, 3, activation="relu")(x)
x = layers.Conv2D(128, 3, activation="relu")(x)
x = layers.Flatten()(x)
outputs = layers.Dense(10, activation="softmax")(x)
one_pool = keras.Model(inputs, outputs)
print("last feature map:", one_pool.layers[-3].output.shape[1:])
print(f"Dense layer: {one_pool.layers[-1].count_params():,} parameters, "
      f"model: {one_pool.count_params():,}")
# --8<-- [end:exercise_one_pool]

# %% [markdown]
# **4.** Is 2×2 max pooling applied twice the same as one 4×4 max pooling with stride 4?

# %%
# --8<-- [start:exercise_twice]
twice = max_pool2d(max_pool2d(first_maps))
once = max_pool2d(first_maps, size=4)
print("twice:", twice.shape, "once:", once.shape)
print("equal:", np.array_equal(twice, once))
# --8<-- [end:exercise_twice]
