# %% [markdown]
# # Max pooling
#
# The companion notebook of the chapter *Max pooling*: max pooling from scratch in NumPy, checked
# against `MaxPooling2D`; the convnet without pooling and its two problems, computed; and the results
# of the experiment that compares four ways to downsample. Run it with `python code/notebooks/max_pooling.py`.

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

from convnets.cache import fit_or_load
from convnets.data import load_mnist
from convnets.models import build_convnet, build_convnet_no_max_pool
from convnets.numpy_ops import extract_patches, max_pool2d
from convnets.paths import SNAPS_DIR
from convnets.shapes import receptive_fields, window_layers
from convnets.training import prepare_images
# --8<-- [end:setup]

# %% [markdown]
# ## Max pooling on a few numbers

# %%
# --8<-- [start:toy]
numbers = np.random.default_rng(8).integers(0, 10, size=(4, 4))  # the figure's
print(numbers)
print("max pooled:")
print(max_pool2d(numbers[:, :, np.newaxis])[:, :, 0])
# --8<-- [end:toy]

# %% [markdown]
# ## On a real feature map, against Keras
#
# The first layer of the trained convnet, applied to one test digit, gives 32 feature maps of
# 26×26 pixels. The convnet is the first chapter's: the same model, compile and `fit_or_load` call
# find that chapter's training in the cache (or make it, if this notebook runs first).

# %%
# --8<-- [start:load]
(train_images, train_labels), (test_images, _) = load_mnist()
train_images, test_images = prepare_images(train_images), prepare_images(test_images)
convnet = build_convnet()
convnet.compile(optimizer="rmsprop",
                loss="sparse_categorical_crossentropy",
                metrics=["accuracy"])
fit_or_load(convnet, train_images, train_labels, epochs=5, batch_size=64)
# --8<-- [end:load]

# %%
# --8<-- [start:check]
digit = test_images[1:2]  # one image, with the batch axis in front
first_maps = np.asarray(convnet.layers[1](digit))[0]  # first Conv2D's output
ours = max_pool2d(first_maps)
theirs = np.asarray(layers.MaxPooling2D(pool_size=2)(first_maps[np.newaxis]))[0]
print("feature maps:", first_maps.shape, "-> max pooled:", ours.shape)
print("equal within 1e-5:", np.allclose(ours, theirs, atol=1e-5))
# --8<-- [end:check]

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
# ## Max, average, strided or nothing: the experiment
#
# `code/pooling_experiment.py` trains the four variants and writes a JSON file to `snaps/`.

# %%
# --8<-- [start:show_experiment]
NAMES = {"max": "max pooling", "average": "average pooling",
         "strided": "strided conv", "none": "no pooling"}


def show_experiment(path) -> None:
    """Print a run of the pooling experiment: its settings, then a row per model."""
    run = json.loads(path.read_text())
    settings = run["settings"]
    print(f"{settings['training_images']:,} training images, "
          f"{settings['epochs']} epochs, {settings['seeds']} seed(s) per model")
    machine = run["machine"].split(" (")[0]
    print(f"on {machine}, Keras {run['keras']} ({run['backend']}), "
          f"in {run['duration_seconds']:.0f} s")
    print(f"rerun with: {run['command']}")
    print("downsampling     | parameters | test accuracy   | training | per seed")
    for row in run["results"]:
        accuracy = f"{row['mean_test_accuracy']:.4f}"
        if len(row["test_accuracy"]) > 1:
            accuracy += f" ± {row['std_test_accuracy']:.4f}"
        seconds = sum(row["seconds"]) / len(row["seconds"])
        seeds = " ".join(f"{value:.4f}" for value in row["test_accuracy"])
        print(f"{NAMES[row['pooling']]:<16} | {row['parameters']:>10,} | "
              f"{accuracy:<15} | {seconds:>6.0f} s | {seeds}")
# --8<-- [end:show_experiment]

# %%
# --8<-- [start:full_run]
show_experiment(SNAPS_DIR / "pooling_experiment.json")
# --8<-- [end:full_run]

# %%
# --8<-- [start:cpu_run]
show_experiment(SNAPS_DIR / "pooling_experiment_cpu.json")
# --8<-- [end:cpu_run]

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
theirs = np.asarray(layers.AveragePooling2D(2)(first_maps[np.newaxis]))[0]
print("average pooled:", ours.shape)
print("equal within 1e-5:", np.allclose(ours, theirs, atol=1e-5))
# --8<-- [end:exercise_average]

# %% [markdown]
# **2.** Keep only the first max-pooling layer. How many parameters does the Dense layer have then?

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
# **3.** Is 2×2 max pooling applied twice the same as one 4×4 max pooling with stride 4?

# %%
# --8<-- [start:exercise_twice]
twice = max_pool2d(max_pool2d(first_maps))
once = max_pool2d(first_maps, size=4)
print("twice:", twice.shape, "once:", once.shape)
print("equal:", np.array_equal(twice, once))
# --8<-- [end:exercise_twice]
