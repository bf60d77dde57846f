# %% [markdown]
# # Shifted digits: equivariance and invariance
#
# The companion notebook of the chapter *Shifted digits*: a convolution's response map moves with its
# input; max pooling absorbs part of a small shift; global average pooling forgets where a pattern was,
# and shrinks the last Dense layer. Then the results of the translation experiment, which tests three
# models on shifted test digits. Run it with `python code/notebooks/invariance.py`.

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
from convnets.models import CANVAS_MODELS, build_convnet, build_global_pooling_convnet
from convnets.numpy_ops import max_pool2d
from convnets.paths import SNAPS_DIR
from convnets.shifts import place_on_canvas
from convnets.stats import mean_interval
# --8<-- [end:setup]

# %% [markdown]
# ## A convolution is equivariant
#
# A test digit on a 40×40 canvas, at the center and moved 3 pixels down and right, through the same
# Conv2D layer (untrained: equivariance holds for any weights).

# %%
# --8<-- [start:equivariance]
_, (test_images, _) = load_mnist()
digits = test_images[:1]  # one digit, with the batch axis in front


def digit_at(dy: int = 0, dx: int = 0) -> np.ndarray:
    """The digit on a 40×40 canvas, moved dy rows down and dx columns right, as floats in [0, 1]."""
    return place_on_canvas(digits, dy, dx)[..., np.newaxis].astype("float32") / 255


keras.utils.set_random_seed(0)
conv = layers.Conv2D(filters=32, kernel_size=3, activation="relu")
centered = np.asarray(conv(digit_at()))[0]  # (38, 38, 32)
moved = np.asarray(conv(digit_at(3, 3)))[0]
print("response maps:", centered.shape)
print("moved map == centered map moved by (3, 3):",
      np.allclose(moved[3:, 3:], centered[:-3, :-3], atol=1e-6))
print("moved map == centered map:", np.allclose(moved, centered, atol=1e-6))
# --8<-- [end:equivariance]

# %% [markdown]
# ## Flatten sees a different input
#
# Flatten lays the map out as one long vector: the same values, at other places. The blank canvas
# gives 0 before and after the move, so the count is over the values that see some of the digit.

# %%
# --8<-- [start:flatten]
def unchanged(before: np.ndarray, after: np.ndarray) -> float:
    """The fraction of the values, among those not 0 in both maps, that are equal in both."""
    seen = (before != 0) | (after != 0)
    return np.mean(np.isclose(before, after, atol=1e-6)[seen])


first, second = centered.reshape(-1), moved.reshape(-1)
print(f"flattened: {first.size:,} values, {unchanged(first, second):.1%} of them unchanged")
print("same values, sorted:", np.allclose(np.sort(first), np.sort(second), atol=1e-6))
# --8<-- [end:flatten]

# %% [markdown]
# ## Max pooling absorbs part of a small shift
#
# Move the digit by one pixel to the right, and count the 2×2 max-pool outputs that stay the same.

# %%
# --8<-- [start:pooling]
one_right = np.asarray(conv(digit_at(0, 1)))[0]
print(f"feature map values unchanged: {unchanged(centered, one_right):.0%}")
print(f"max-pooled values unchanged:  "
      f"{unchanged(max_pool2d(centered), max_pool2d(one_right)):.0%}")
# --8<-- [end:pooling]

# %% [markdown]
# ## Global average pooling
#
# The mean of each channel over all positions: one number per channel, wherever the pattern was.

# %%
# --8<-- [start:global_average]
gap = layers.GlobalAveragePooling2D()
print("GlobalAveragePooling2D:", gap(centered[np.newaxis]).shape)
print("same as the mean over rows and columns:",
      np.allclose(gap(centered[np.newaxis])[0], centered.mean(axis=(0, 1)), atol=1e-6))
print("same for the moved digit:",
      np.allclose(gap(moved[np.newaxis]), gap(centered[np.newaxis]), atol=1e-6))
# --8<-- [end:global_average]

# %% [markdown]
# The last Dense layer, after Flatten and after global average pooling, for 28×28 digits.

# %%
# --8<-- [start:dense_size]
for name, model in {"Flatten": build_convnet(),
                    "GlobalAveragePooling2D": build_global_pooling_convnet()}.items():
    inputs, dense = model.layers[-2].output.shape[-1], model.layers[-1]
    print(f"after {name}: ({inputs:,} + 1)·10 = {dense.count_params():,} "
          f"parameters, model: {model.count_params():,}")
# --8<-- [end:dense_size]

# %% [markdown]
# ## The translation experiment
#
# The three models on a 40×40 canvas.

# %%
# --8<-- [start:canvas_models]
for name, build in CANVAS_MODELS.items():
    model = build(40)
    print(f"{name:<15} {model.count_params():>8,} parameters, "
          f"last Dense: {model.layers[-1].count_params():>7,}")
# --8<-- [end:canvas_models]

# %% [markdown]
# `code/translation_experiment.py` trains them on centered digits and tests them on shifted ones.

# %%
# --8<-- [start:show_experiment]
def show_experiment(path) -> None:
    """Print a run of the translation experiment: its settings, then test accuracy per shift and model."""
    run = json.loads(path.read_text())
    settings = run["settings"]
    print(f"{settings['training_images']:,} training images, {settings['epochs']} epochs, "
          f"{settings['seeds']} seeds per model, on {run['machine'].split(' (')[0]} "
          f"in {run['duration_seconds'] / 60:.0f} min")
    print(f"rerun with: {run['command']}")
    print("test accuracy, mean ± half-width of its 95% interval over the seeds")
    print("shift |" + "|".join(f" {row['model']:<14}" for row in run["results"]))
    for index, shift in enumerate(settings["shifts"]):
        cells = []
        for row in run["results"]:
            interval = mean_interval(row["accuracy_by_shift"][index])
            cells.append(f" {interval.mean:.3f} ± {interval.half_width:.3f} ")
        print(f"{shift:>2} px |" + "|".join(cells))
# --8<-- [end:show_experiment]

# %%
# --8<-- [start:full_run]
show_experiment(SNAPS_DIR / "translation_experiment.json")
# --8<-- [end:full_run]

# %% [markdown]
# ## Exercises
#
# **1.** How many parameters does the last Dense layer have after Flatten, and after global average
# pooling, on canvases of 28, 40 and 64 pixels?

# %%
# --8<-- [start:exercise_canvas_size]
for size in (28, 40, 64):
    flatten = CANVAS_MODELS["convnet"](size).layers[-1].count_params()
    average = CANVAS_MODELS["global-pooling"](size).layers[-1].count_params()
    print(f"{size}×{size}: after Flatten {flatten:>7,}, "
          f"after GlobalAveragePooling2D {average:,}")
# --8<-- [end:exercise_canvas_size]

# %% [markdown]
# **2.** Move the digit right by 1 to 4 pixels. For which shifts is the max-pooled map the centered
# one's moved by whole positions?

# %%
# --8<-- [start:exercise_pool_shifts]
pooled = max_pool2d(centered)
for shift in (1, 2, 3, 4):
    after = max_pool2d(np.asarray(conv(digit_at(0, shift)))[0])
    for moves in sorted({shift // 2, (shift + 1) // 2}):
        same = np.allclose(after[:, moves:], pooled[:, :pooled.shape[1] - moves], atol=1e-6)
        print(f"shift {shift}: pooled map == centered one moved by {moves}: {same}")
# --8<-- [end:exercise_pool_shifts]
