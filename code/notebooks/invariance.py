# %% [markdown]
# # Shifted digits: equivariance and invariance
#
# The companion notebook of the chapter *Shifted digits*: a convolution's feature map moves with its
# input; max pooling absorbs part of a small shift; global average pooling forgets where a pattern was,
# and shrinks the last Dense layer. The translation experiment's models, and an exercise that trains the
# convnet on shifted digits. Run it with `python code/notebooks/invariance.py`.

# %%
try:
    import convnets  # the tutorial's package, code/convnets in the repository
except ModuleNotFoundError:
    raise SystemExit("This notebook needs the tutorial's convnets package: "
                     "pip install path/to/the/repository") from None

# %%
# --8<-- [start:setup]
import keras
import numpy as np
from keras import layers

from convnets.data import load_mnist
from convnets.models import CANVAS_MODELS, build_convnet, build_global_pooling_convnet
from convnets.numpy_ops import max_pool2d
from convnets.shifts import place_on_canvas
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
centered = keras.ops.convert_to_numpy(conv(digit_at()))[0]  # (38, 38, 32)
moved = keras.ops.convert_to_numpy(conv(digit_at(3, 3)))[0]
print("feature maps:", centered.shape)
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
seen = (first != 0) | (second != 0)
print(f"flattened: {first.size:,} values, {seen.sum():,} of them not 0 in one map or both")
print(f"unchanged among those: {unchanged(first, second):.1%}")
print("same values, sorted:", np.allclose(np.sort(first), np.sort(second), atol=1e-6))
# --8<-- [end:flatten]

# %% [markdown]
# ## Max pooling absorbs part of a small shift
#
# Move the digit by one pixel to the right, and count the 2×2 max-pool outputs that stay the same.

# %%
# --8<-- [start:pooling]
one_right = keras.ops.convert_to_numpy(conv(digit_at(0, 1)))[0]
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
print("GlobalAveragePooling2D:", tuple(gap(centered[np.newaxis]).shape))
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
    after = max_pool2d(keras.ops.convert_to_numpy(conv(digit_at(0, shift)))[0])
    for moves in sorted({shift // 2, (shift + 1) // 2}):
        same = np.allclose(after[:, moves:], pooled[:, :pooled.shape[1] - moves], atol=1e-6)
        print(f"shift {shift}: pooled map == centered one moved by {moves}: {same}")
# --8<-- [end:exercise_pool_shifts]

# %% [markdown]
# **3.** Train the convnet on a 32×32 canvas for one epoch on the first 10,000 training digits, centered, then
# on the same digits each moved at random by up to 2 pixels, and test both on centered and moved test digits
# (the first 2,000).

# %%
# --8<-- [start:exercise_augment]
SIZE = 32  # a 32×32 canvas leaves a margin of 2 pixels around each digit, enough for these moves
(train_digits, train_labels), (test_digits, test_labels) = load_mnist()
digits, labels = train_digits[:10_000], train_labels[:10_000]
moves = np.random.default_rng(0).integers(-2, 3, size=(len(digits), 2))  # (dy, dx), each in -2..2
shifted = np.concatenate([place_on_canvas(digits[i:i + 1], dy, dx, size=SIZE)
                          for i, (dy, dx) in enumerate(moves)])


def floats(images: np.ndarray) -> np.ndarray:
    return images[..., np.newaxis].astype("float32") / 255


test_digits, test_labels = test_digits[:2_000], test_labels[:2_000]  # enough to see the change
tests = {"centered": floats(place_on_canvas(test_digits, size=SIZE)),
         "moved by 2": floats(place_on_canvas(test_digits, 2, 2, size=SIZE))}
for name, images in (("centered", place_on_canvas(digits, size=SIZE)), ("shifted", shifted)):
    keras.utils.set_random_seed(1)
    model = CANVAS_MODELS["convnet"](SIZE)  # the book's convnet on 32×32 inputs
    model.compile(optimizer="rmsprop",
                  loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(floats(images), labels, epochs=1, batch_size=64)
    scores = {test: model.evaluate(x, test_labels, verbose=0)[1] for test, x in tests.items()}
    print(f"trained on {name} digits: " + ", ".join(f"{test} {score:.3f}" for test, score in scores.items()))
# --8<-- [end:exercise_augment]
