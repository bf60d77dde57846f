# %% [markdown]
# # Strides
#
# The companion notebook of the chapter *Strides*: the distance between two windows, the output-size
# formula with a stride, and the book's convnet with strided convolutions in place of max pooling.
# Run it with `python code/notebooks/strides.py`.

# %%
try:
    import convnets  # the tutorial's package, code/convnets in the repository
except ModuleNotFoundError:
    raise SystemExit("This notebook needs the tutorial's convnets package: "
                     "pip install path/to/the/repository") from None

# %%
# --8<-- [start:setup]
import numpy as np
from keras import layers

from convnets.models import build_pooling_variant
from convnets.shapes import output_size
# --8<-- [end:setup]

# %% [markdown]
# ## Stride 2 on a 5×5 input

# %%
# --8<-- [start:shapes]
five_by_five = np.ones((1, 5, 5, 1), dtype="float32")
for strides in (1, 2):
    conv = layers.Conv2D(filters=1, kernel_size=3, strides=strides)
    height, width = conv(five_by_five).shape[1:3]
    print(f"strides={strides}: 5×5 input -> {height}×{width} output")
# --8<-- [end:shapes]

# %% [markdown]
# ## The formula with a stride, against Keras

# %%
# --8<-- [start:formula_check]
print("  n  k  s  padding  formula  Keras")
for n, k, s in [(5, 3, 2), (28, 3, 2), (26, 3, 2), (28, 3, 3), (28, 5, 2)]:
    image = np.ones((1, n, n, 1), "float32")
    for padding in ("valid", "same"):
        conv = layers.Conv2D(1, k, strides=s, padding=padding)
        formula = output_size(n, k, s, padding)
        keras_size = conv(image).shape[1]
        print(f"{n:>3} {k:>2} {s:>2}  {padding:<7}  {formula:>7}  {keras_size:>5}")
# --8<-- [end:formula_check]

# %% [markdown]
# ## Downsampling with strided convolutions
#
# `build_pooling_variant("strided")` (in `code/convnets/models.py`) is the book's convnet with its two
# max-pooling layers removed and stride 2 in the two convolutions they followed.

# %%
# --8<-- [start:strided_convnet]
strided = build_pooling_variant("strided")
for layer in strided.layers[1:]:
    is_conv = isinstance(layer, layers.Conv2D)
    stride = f"stride {layer.strides[0]}" if is_conv else ""
    shape = str(layer.output.shape[1:])
    print(f"{type(layer).__name__:<8} {stride:<9} {shape:<13} "
          f"{layer.count_params():>7,} parameters")
print(f"total: {strided.count_params():,} parameters")
# --8<-- [end:strided_convnet]

# %% [markdown]
# ## Exercises
#
# **1.** Which stride makes a valid 3×3 convolution turn a 28×28 input into a 7×7 output?

# %%
# --8<-- [start:exercise_stride]
for s in range(1, 6):
    print(f"stride {s}: {output_size(28, 3, s)}×{output_size(28, 3, s)}")
# --8<-- [end:exercise_stride]

# %% [markdown]
# **2.** When the stride is larger than the window, some pixels are never seen. Which columns of a
# 10-pixel-wide input does a 2×2 window with stride 3 skip?

# %%
# --8<-- [start:exercise_skipped]
n, k, s = 10, 2, 3
seen = set()
for start in range(0, n - k + 1, s):
    seen.update(range(start, start + k))
print("windows start at:", list(range(0, n - k + 1, s)))
print("columns never seen:", sorted(set(range(n)) - seen))
# --8<-- [end:exercise_skipped]

# %% [markdown]
# **3.** A 3×3 convolution with `padding="same"` and stride 2 on inputs of size 5, 6 and 7: what are
# the outputs?

# %%
# --8<-- [start:exercise_same]
for n in (5, 6, 7):
    conv = layers.Conv2D(1, 3, strides=2, padding="same")
    keras_size = conv(np.ones((1, n, n, 1), "float32")).shape[1]
    formula = output_size(n, 3, 2, "same")
    print(f"n={n}: ceil({n}/2) = {formula}, Keras: {keras_size}")
# --8<-- [end:exercise_same]
