# %% [markdown]
# # The convolution operation
#
# The companion notebook of the chapter *The convolution operation*: a `Conv2D` layer's feature maps,
# kernel and bias, then the same convolution written from scratch in NumPy (extract the patches, take
# a dot product with the kernel, reassemble the output map) and checked against Keras.
# Run it with `python code/notebooks/convolution.py`.

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
from convnets.numpy_ops import conv2d, extract_patches

keras.utils.set_random_seed(0)  # the same random weights at every run
# --8<-- [end:setup]

# %% [markdown]
# ## Feature maps, filters and kernels
#
# One test digit, as a rank-3 tensor: height, width, channels.

# %%
# --8<-- [start:digit]
(_, _), (test_images, test_labels) = load_mnist()
digit = test_images[1][:, :, np.newaxis].astype("float32") / 255
print("label:", test_labels[1], " shape:", digit.shape)
# --8<-- [end:digit]

# %%
# --8<-- [start:layer]
conv = layers.Conv2D(filters=32, kernel_size=3)
feature_map = conv(digit[np.newaxis])  # Keras works on batches: add a batch axis
kernel, bias = conv.get_weights()
print("input:      ", digit[np.newaxis].shape)
print("kernel:     ", kernel.shape)
print("bias:       ", bias.shape)
print("feature map:", tuple(feature_map.shape))
# --8<-- [end:layer]

# %% [markdown]
# ## A convolution, step by step
#
# Step 1: extract every 3×3 patch of the input.

# %%
# --8<-- [start:patches]
patches = extract_patches(digit, 3)
print("patches:", patches.shape)
print("the patch at row 10, column 12:")
print(patches[10, 12, :, :, 0].round(2))
# --8<-- [end:patches]

# %% [markdown]
# Step 2: one output value is the dot product of a patch with a filter's kernel, plus its bias.

# %%
# --8<-- [start:one_value]
value = np.sum(patches[10, 12] * kernel[:, :, :, 0]) + bias[0]
print(f"filter 0 at row 10, column 12: {value:.4f}")
# --8<-- [end:one_value]

# %% [markdown]
# Step 3: do that for every patch and every filter at once (`conv2d` in `code/convnets/numpy_ops.py`),
# and compare with Keras.

# %%
# --8<-- [start:check]
ours = conv2d(digit, kernel, bias)
theirs = np.asarray(feature_map[0])
print("NumPy:", ours.shape, " Keras:", theirs.shape)
print(f"same value at row 10, column 12: {ours[10, 12, 0]:.4f}")
print(f"largest difference: {np.abs(ours - theirs).max():.1e}")
print("equal within 1e-5:", np.allclose(ours, theirs, atol=1e-5))
# --8<-- [end:check]

# %% [markdown]
# ## Exercises
#
# **1.** Convolve the digit with a hand-made kernel that detects vertical edges. Where is its
# response strongest?

# %%
# --8<-- [start:exercise_edges]
vertical_edge = np.array([[-1, 0, 1]] * 3, dtype="float32")
kernel_3311 = vertical_edge.reshape(3, 3, 1, 1)  # (k, k, C_in, C_out)
edges = conv2d(digit, kernel_3311, np.zeros(1))[:, :, 0]
row, column = np.unravel_index(edges.argmax(), edges.shape)
print(f"response map {edges.shape}: strongest {edges.max():.2f} "
      f"at row {row}, column {column}")
print(f"most negative {edges.min():.2f}: an edge the other way round")
# --8<-- [end:exercise_edges]

# %% [markdown]
# **2.** Count the multiplications and the parameters of the first `Conv2D` layer of the book's
# convnet, and of the first `Dense` layer of the dense baseline.

# %%
# --8<-- [start:exercise_cost]
conv_products = 26 * 26 * 32 * (3 * 3 * 1)  # a 3×3×1 dot product per output
conv_parameters = (3 * 3 * 1 + 1) * 32
dense_products = 784 * 512  # every unit weighs every pixel
dense_parameters = (784 + 1) * 512
print(f"Conv2D(32, 3) on 28×28×1: {conv_products:>7,} multiplications, "
      f"{conv_parameters:>7,} parameters")
print(f"Dense(512) on 784 pixels: {dense_products:>7,} multiplications, "
      f"{dense_parameters:>7,} parameters")
# --8<-- [end:exercise_cost]

# %% [markdown]
# **3.** Move the digit by 4 pixels down and 6 to the right. Show that the feature map moves by
# exactly the same amount.

# %%
# --8<-- [start:exercise_shift]
canvas = np.zeros((34, 34, 1), dtype="float32")
canvas[:28, :28] = digit
moved = np.roll(canvas, shift=(4, 6), axis=(0, 1))
response = conv2d(canvas, kernel, bias)
moved_response = conv2d(moved, kernel, bias)
# Output (i, j) of the digit must be output (i + 4, j + 6) of the moved one.
same = np.allclose(response[:-4, :-6], moved_response[4:, 6:], atol=1e-5)
print("moved input, moved output:", same)
# --8<-- [end:exercise_shift]
