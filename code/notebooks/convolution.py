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
from convnets.numpy_ops import conv2d, conv2d_channels_first, extract_patches

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
# ## Several input channels, several filters
#
# One output value of a layer with 32 input channels, as a triple sum over the window's rows, its columns
# and the input channels, against Keras.

# %%
# --8<-- [start:channels]
maps = np.asarray(feature_map[0])  # the first layer's output: 26×26, 32 channels
conv2 = layers.Conv2D(filters=64, kernel_size=3)  # shaped like our model's second layer
output = np.asarray(conv2(maps[np.newaxis]))[0]
kernel2, bias2 = conv2.get_weights()
print("input:", maps.shape, " kernel:", kernel2.shape, " output:", output.shape)

i, j, o = 5, 7, 3  # row, column and output channel of one value
total = bias2[o]
for u in range(3):  # the window's rows
    for v in range(3):  # its columns
        for c in range(32):  # every input channel
            total += maps[i + u, j + v, c] * kernel2[u, v, c, o]
print(f"triple sum: {total:.6f}")
print(f"Keras:      {output[i, j, o]:.6f}")
print(f"difference: {abs(total - output[i, j, o]):.1e}")
# --8<-- [end:channels]

# %% [markdown]
# Keras's kernel layout against PyTorch's, checked with a NumPy convolution written for PyTorch's layouts.

# %%
# --8<-- [start:layouts]
torch_kernel = np.transpose(kernel2, (3, 2, 0, 1))  # (k, k, C_in, C_out) -> (C_out, C_in, k, k)
maps_first = np.transpose(maps, (2, 0, 1))  # (H, W, C) -> (C, H, W)
ours_first = conv2d_channels_first(maps_first, torch_kernel, bias2)  # (C_out, out_h, out_w)
print("Keras kernel:", kernel2.shape, " PyTorch kernel:", torch_kernel.shape)
print("channels-first input:", maps_first.shape, " output:", ours_first.shape)
ours = np.transpose(ours_first, (1, 2, 0))  # back to channels last
print("equal to the Keras output within 1e-5:", np.allclose(ours, output, atol=1e-5))
print("and back:", np.array_equal(np.transpose(torch_kernel, (2, 3, 1, 0)), kernel2))
# --8<-- [end:layouts]

# %% [markdown]
# ## 1×1 convolutions
#
# A 1×1 convolution mixes the channels of each pixel: the same as a `Dense` layer on each pixel's channels.

# %%
# --8<-- [start:one_by_one]
mix = layers.Conv2D(filters=16, kernel_size=1)
mixed = np.asarray(mix(maps[np.newaxis]))[0]
kernel1, bias1 = mix.get_weights()
by_hand = maps @ kernel1[0, 0] + bias1  # (26, 26, 32) @ (32, 16): one product per pixel
dense = layers.Dense(16)
dense.build((None, 32))
dense.set_weights([kernel1[0, 0], bias1])
per_pixel = np.asarray(dense(maps))  # Dense works on the last axis, the channels
print("kernel:", kernel1.shape, " output:", mixed.shape)
print("Conv2D(16, 1) = x @ kernel[0, 0] + bias:", np.allclose(mixed, by_hand, atol=1e-5))
print("Conv2D(16, 1) = Dense(16) at each pixel:", np.allclose(mixed, per_pixel, atol=1e-5))
print("parameters:", mix.count_params(), "= (32 + 1)·16 =", (32 + 1) * 16)
# --8<-- [end:one_by_one]

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
# Then the parameters of the convnet's second layer and of a 1×1 convolution from 128 to 32 channels,
# with the formula and with Keras, and the second layer's kernel in PyTorch's layout.

# %%
# --8<-- [start:exercise_parameters]
second = layers.Conv2D(64, 3)
second.build((None, 26, 26, 32))  # the first layer's output: 26×26, 32 channels
print(f"Conv2D(64, 3) on 32 channels:  (3·3·32 + 1)·64 = {(3 * 3 * 32 + 1) * 64:,}, "
      f"Keras: {second.count_params():,}")
for k in (1, 3):
    layer = layers.Conv2D(32, k)
    layer.build((None, None, None, 128))  # any height and width: they do not change the count
    print(f"Conv2D(32, {k}) on 128 channels: ({k}·{k}·128 + 1)·32 = {(k * k * 128 + 1) * 32:,}, "
          f"Keras: {layer.count_params():,}")
keras_kernel = second.get_weights()[0]
pytorch_kernel = np.transpose(keras_kernel, (3, 2, 0, 1))
print("second layer's kernel:", keras_kernel.shape, "in Keras,", pytorch_kernel.shape, "in PyTorch")
print("and back:", np.array_equal(np.transpose(pytorch_kernel, (2, 3, 1, 0)), keras_kernel))
# --8<-- [end:exercise_parameters]

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
