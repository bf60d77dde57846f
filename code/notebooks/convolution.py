# %% [markdown]
# # The convolution operation
#
# The companion notebook of the chapter *The convolution operation*: a convolution written as a loop on a
# 5×5 image, then vectorized in NumPy and compared with Keras's `Conv2D` (with its ReLU), several input
# channels, and a kernel learned by gradient descent.
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

keras.utils.set_random_seed(0)  # the same random weights at every run
# --8<-- [end:setup]

# %% [markdown]
# ## A convolution by hand
#
# A 3×3 kernel slid over a 5×5 image: at each position, multiply the window by the kernel, sum, add the bias.

# %%
# --8<-- [start:loop]
image = np.array([[2, 0, 0, 5, 5],
                  [2, 2, 1, 5, 5],
                  [0, 1, 1, 6, 5],
                  [0, 2, 2, 5, 5],
                  [1, 1, 2, 6, 6]], dtype="float32")
edge = np.array([[-1, 0, 1],
                 [-1, 0, 1],
                 [-1, 0, 1]], dtype="float32")  # right column minus left column
bias = 0.0

out = np.zeros((3, 3))  # a 3×3 window fits at 3×3 places of a 5×5 image
for i in range(3):
    for j in range(3):
        out[i, j] = np.sum(image[i:i + 3, j:j + 3] * edge) + bias
print(out)
# --8<-- [end:loop]

# %% [markdown]
# The same loop as a function, on a real digit.

# %%
# --8<-- [start:digit]
def conv2d_loop(image, kernel, bias=0.0):
    """Slide a k×k kernel over a 2-D image, one window at a time (stride 1, no padding)."""
    k = kernel.shape[0]
    out = np.zeros((image.shape[0] - k + 1, image.shape[1] - k + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i:i + k, j:j + k] * kernel) + bias
    return out


(train_images, train_labels), (test_images, test_labels) = load_mnist()
digit = test_images[1].astype("float32") / 255  # a 2: ink near 1, paper 0
edges = conv2d_loop(digit, edge)
row, column = np.unravel_index(edges.argmax(), edges.shape)
print("label:", test_labels[1], " image:", digit.shape, " feature map:", edges.shape)
print(f"largest value {edges.max():.2f} at row {row}, column {column}; smallest {edges.min():.2f}")
# --8<-- [end:digit]

# %% [markdown]
# ## Vectorized, with channels and filters, against Keras
#
# Extract every patch, then one `tensordot` takes the dot product of every patch with every kernel.

# %%
# --8<-- [start:conv2d]
def conv2d(x, kernel, bias):
    """x: (H, W, C_in); kernel: (k, k, C_in, C_out); bias: (C_out,). Stride 1, no padding."""
    k = kernel.shape[0]
    rows, cols = x.shape[0] - k + 1, x.shape[1] - k + 1
    patches = np.array([[x[i:i + k, j:j + k] for j in range(cols)]
                        for i in range(rows)])  # (rows, cols, k, k, C_in)
    # one dot product per patch and filter, over the k, k and C_in axes:
    return np.tensordot(patches, kernel, axes=3) + bias  # (rows, cols, C_out)


def relu(x):
    return np.maximum(0, x)
# --8<-- [end:conv2d]


# %%
# --8<-- [start:keras]
x = digit[:, :, np.newaxis]  # (28, 28, 1): one channel
conv = layers.Conv2D(filters=32, kernel_size=3, activation="relu")
theirs = keras.ops.convert_to_numpy(conv(x[np.newaxis]))[0]  # Keras works on batches: add a batch axis
kernel, bias = conv.get_weights()  # the 32 kernels in one tensor, and 32 biases
ours = relu(conv2d(x, kernel, bias))
print("kernel:", kernel.shape, " bias:", bias.shape)
print("ours:", ours.shape, " Keras:", theirs.shape)
print(f"largest difference: {np.abs(ours - theirs).max():.1e}")
# --8<-- [end:keras]

# %% [markdown]
# ## Several input channels
#
# One output value of a layer with 32 input channels, as a triple sum over the window's rows, its columns
# and the input channels, against Keras.

# %%
# --8<-- [start:channels]
maps = theirs  # the first layer's output: 26×26, 32 channels
conv2 = layers.Conv2D(filters=64, kernel_size=3)  # shaped like our model's second layer
output = keras.ops.convert_to_numpy(conv2(maps[np.newaxis]))[0]
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
# Going further: Keras's kernel layout against PyTorch's, checked with a convolution written for PyTorch's
# layouts.

# %%
# --8<-- [start:channels_first]
def conv2d_channels_first(x, kernel, bias):
    """x: (C_in, H, W); kernel: (C_out, C_in, k, k), PyTorch's layouts. Stride 1, no padding."""
    c_out, _, k, _ = kernel.shape
    rows, cols = x.shape[1] - k + 1, x.shape[2] - k + 1
    out = np.zeros((c_out, rows, cols))
    for u in range(k):
        for v in range(k):  # the input shifted by (u, v), its channels mixed by the weights at (u, v)
            shifted = x[:, u:u + rows, v:v + cols]  # (C_in, rows, cols)
            out += np.einsum("oc,chw->ohw", kernel[:, :, u, v], shifted)
    return out + bias[:, np.newaxis, np.newaxis]  # (C_out, rows, cols)
# --8<-- [end:channels_first]


# %%
# --8<-- [start:layouts]
torch_kernel = np.transpose(kernel2, (3, 2, 0, 1))  # (k, k, C_in, C_out) -> (C_out, C_in, k, k)
maps_first = np.transpose(maps, (2, 0, 1))  # (H, W, C) -> (C, H, W)
ours_first = conv2d_channels_first(maps_first, torch_kernel, bias2)  # (C_out, rows, cols)
print("Keras kernel:", kernel2.shape, " PyTorch kernel:", torch_kernel.shape)
print("channels-first input:", maps_first.shape, " output:", ours_first.shape)
back = np.transpose(ours_first, (1, 2, 0))  # back to channels last
print(f"largest difference from Keras: {np.abs(back - output).max():.1e}")
print("kernel back to Keras's layout:", np.array_equal(np.transpose(torch_kernel, (2, 3, 1, 0)), kernel2))
# --8<-- [end:layouts]

# %% [markdown]
# Going further: a 1×1 convolution mixes the channels of each pixel, the same as a `Dense` layer on each
# pixel's channels.

# %%
# --8<-- [start:one_by_one]
mix = layers.Conv2D(filters=16, kernel_size=1)
mixed = keras.ops.convert_to_numpy(mix(maps[np.newaxis]))[0]
kernel1, bias1 = mix.get_weights()
by_hand = maps @ kernel1[0, 0] + bias1  # (26, 26, 32) @ (32, 16): one product per pixel
dense = layers.Dense(16)
dense.build((None, 32))
dense.set_weights([kernel1[0, 0], bias1])
per_pixel = keras.ops.convert_to_numpy(dense(maps))  # Dense works on the last axis, the channels
print("kernel:", kernel1.shape, " output:", mixed.shape)
print(f"Conv2D(16, 1) against x @ kernel[0, 0] + bias: {np.abs(mixed - by_hand).max():.1e}")
print(f"Conv2D(16, 1) against Dense(16) at each pixel: {np.abs(mixed - per_pixel).max():.1e}")
print("parameters:", mix.count_params(), "= (32 + 1)·16 =", (32 + 1) * 16)
# --8<-- [end:one_by_one]

# %% [markdown]
# ## A kernel learned by gradient descent
#
# The hand-made edge kernel gives the targets; a one-filter `Conv2D` learns it back from (input, output) pairs.

# %%
# --8<-- [start:learn]
images = train_images[:256, :, :, np.newaxis].astype("float32") / 255
hand = edge.reshape(3, 3, 1, 1)  # (k, k, C_in, C_out): one filter
targets = np.stack([conv2d(x, hand, np.zeros(1)) for x in images])  # (256, 26, 26, 1)

learner = keras.Sequential([keras.Input(shape=(28, 28, 1)), layers.Conv2D(1, 3, use_bias=False)])
learner.compile(optimizer=keras.optimizers.Adam(0.1), loss="mse")
history = learner.fit(images, targets, epochs=30, batch_size=32, verbose=0)
learned = learner.layers[0].get_weights()[0][:, :, 0, 0]
loss = history.history["loss"]
print(f"loss after 1 epoch: {loss[0]:.3f}, after 30 epochs: {loss[-1]:.1e}")
print(learned.round(2) + 0.0)  # + 0.0 writes -0.0 as 0.0
print(f"largest difference from the hand-made kernel: {np.abs(learned - edge).max():.1e}")
# --8<-- [end:learn]

# %% [markdown]
# ## Exercises
#
# **1.** Learn a 3×3 blur (every weight 1/9) plus a bias of 0.5 the same way: the layer needs a bias now.

# %%
# --8<-- [start:exercise_blur]
blur = np.full((3, 3, 1, 1), 1 / 9, dtype="float32")
targets = np.stack([conv2d(x, blur, np.full(1, 0.5)) for x in images])

learner = keras.Sequential([keras.Input(shape=(28, 28, 1)), layers.Conv2D(1, 3)])  # with a bias
learner.compile(optimizer=keras.optimizers.Adam(0.1), loss="mse")
learner.fit(images, targets, epochs=30, batch_size=32, verbose=0)
learned, learned_bias = learner.layers[0].get_weights()
print(learned[:, :, 0, 0].round(2))
print(f"bias: {learned_bias[0]:.2f}")
print(f"largest difference from the blur: {np.abs(learned - blur).max():.1e}")
# --8<-- [end:exercise_blur]

# %% [markdown]
# **2.** Train the book's convnet and one with 8, 16 and 32 filters on the first 10,000 training images for
# one epoch, and compare their parameters and test accuracies.

# %%
# --8<-- [start:exercise_filters]
def convnet(filters):
    """The book's convnet, with `filters` filters in its three Conv2D layers."""
    inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(filters[0], 3, activation="relu")(inputs)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(filters[1], 3, activation="relu")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(filters[2], 3, activation="relu")(x)
    outputs = layers.Dense(10, activation="softmax")(layers.Flatten()(x))
    return keras.Model(inputs, outputs)


subset = train_images[:10_000, :, :, np.newaxis].astype("float32") / 255
test_set = test_images[:, :, :, np.newaxis].astype("float32") / 255
for filters in ((32, 64, 128), (8, 16, 32)):
    model = convnet(filters)
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(subset, train_labels[:10_000], epochs=1, batch_size=64, verbose=0)
    _, accuracy = model.evaluate(test_set, test_labels, verbose=0)
    print(f"filters {filters}: {model.count_params():>7,} parameters, test accuracy {accuracy:.3f}")
# --8<-- [end:exercise_filters]

# %% [markdown]
# **3.** Count the multiplications and the parameters of the first `Conv2D` layer of the book's
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
# with the formula and with Keras.

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
# --8<-- [end:exercise_parameters]

# %% [markdown]
# **4.** Move the digit by 4 pixels down and 6 to the right. Show that the feature map moves by
# exactly the same amount.

# %%
# --8<-- [start:exercise_shift]
canvas = np.zeros((34, 34, 1), dtype="float32")
canvas[:28, :28] = x
moved = np.roll(canvas, shift=(4, 6), axis=(0, 1))
response = conv2d(canvas, kernel, bias)
moved_response = conv2d(moved, kernel, bias)
# Output (i, j) of the digit must be output (i + 4, j + 6) of the moved one.
difference = np.abs(response[:-4, :-6] - moved_response[4:, 6:]).max()
print(f"moved input, moved output: largest difference {difference:.1e}")
# --8<-- [end:exercise_shift]
