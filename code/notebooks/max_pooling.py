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
numbers = np.random.default_rng(26).integers(0, 10, size=(4, 4))  # the figure's
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
from convnets.stats import mean_interval, paired_difference

NAMES = {"max": "max pooling", "average": "average pooling",
         "strided": "strided conv", "none": "no pooling"}


def verdict(difference) -> str:
    """What a paired difference's 95% interval allows one to say."""
    if not difference.excludes_zero():
        return "no clear difference"
    return "higher than max" if difference.low > 0 else "lower than max"


def show_experiment(path) -> None:
    """Print a run of the pooling experiment: its settings, then a row per model with 95% intervals."""
    run = json.loads(path.read_text())
    settings = run["settings"]
    print(f"{settings['training_images']:,} training images, "
          f"{settings['epochs']} epochs, {settings['seeds']} seeds per model")
    machine = run["machine"].split(" (")[0]
    print(f"on {machine}, Keras {run['keras']} ({run['backend']}), "
          f"in {run['duration_seconds']:.0f} s")
    print(f"rerun with: {run['command']}")
    print("test accuracy: mean over the seeds, in %, [95% interval]")
    print("minus max pooling: mean difference, paired by seed, in points [95% interval]")
    print("downsampling     | parameters | test accuracy        | minus max pooling    | verdict")
    rows = {row["pooling"]: row for row in run["results"]}
    for name, row in rows.items():
        accuracy = mean_interval([100 * a for a in row["test_accuracy"]])
        line = (f"{NAMES[name]:<16} | {row['parameters']:>10,} | "
                f"{accuracy.mean:.2f} [{accuracy.low:.2f}, {accuracy.high:.2f}] |")
        if name != "max":
            difference = paired_difference([100 * a for a in row["test_accuracy"]],
                                           [100 * a for a in rows["max"]["test_accuracy"]])
            line += (f" {difference.mean:+.2f} [{difference.low:+.2f}, {difference.high:+.2f}] |"
                     f" {verdict(difference)}")
        print(line)
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
# Does the model without pooling memorize its training images? The gap between the accuracy on the
# training images (as Keras reports it for the last epoch) and on the test images says.

# %%
# --8<-- [start:train_gap]
cpu_run = json.loads((SNAPS_DIR / "pooling_experiment_cpu.json").read_text())
print("downsampling     | training | test   | gap, points | median seconds")
for row in cpu_run["results"]:
    train = 100 * np.mean(row["train_accuracy"])
    test = 100 * np.mean(row["test_accuracy"])
    print(f"{NAMES[row['pooling']]:<16} | {train:7.2f}% | {test:.2f}% | {train - test:+11.2f} | "
          f"{np.median(row['seconds']):14.0f}")
# --8<-- [end:train_gap]

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

# %% [markdown]
# **4.** With 2×2 windows and a stride of 1, the windows overlap. What gradient reaches an input that is
# the maximum of several windows?

# %%
# --8<-- [start:exercise_overlap]
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
# --8<-- [end:exercise_overlap]

# %% [markdown]
# **5.** The intervals of the differences pair the runs of two models by seed. How wide are they without
# the pairing?

# %%
# --8<-- [start:exercise_pairing]
from convnets.stats import unpaired_difference

runs = {row["pooling"]: [100 * a for a in row["test_accuracy"]] for row in cpu_run["results"]}
print("minus max pooling, in points: mean ± half-width of the 95% interval")
for name in ("average", "strided", "none"):
    paired = paired_difference(runs[name], runs["max"])
    unpaired = unpaired_difference(runs[name], runs["max"])
    print(f"{NAMES[name]:<16} paired {paired.mean:+.2f} ± {paired.half_width:.2f}, "
          f"unpaired {unpaired.mean:+.2f} ± {unpaired.half_width:.2f}")
# --8<-- [end:exercise_pairing]
