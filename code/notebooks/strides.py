# %% [markdown]
# # Strides
#
# The companion notebook of the chapter *Strides*: windows two pixels apart, the output-size formula with
# a stride, the complete from-scratch convolution (stride and padding) against Keras, and, going further,
# the uneven "same" padding of a strided convolution, dilation and the general formula with explicit
# padding. Run it with `python code/notebooks/strides.py`.

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

from convnets.numpy_ops import conv2d, extract_patches, pad_same  # pad_same: the padding chapter's
from convnets.shapes import output_size, same_padding

keras.utils.set_random_seed(0)  # the same random weights at every run
# --8<-- [end:setup]

# %% [markdown]
# ## Windows two pixels apart
#
# `extract_patches` (in `code/convnets/numpy_ops.py`) cuts out every k×k window, s pixels apart.

# %%
# --8<-- [start:windows]
grid = np.arange(25).reshape(5, 5, 1)  # a 5×5 input whose values are their positions
windows = extract_patches(grid, k=3, s=2)
print("windows:", windows.shape[:2], " each:", windows.shape[2:])
print("top-left value of each window:\n", windows[:, :, 0, 0, 0])
# --8<-- [end:windows]

# %% [markdown]
# In Keras the stride is the `strides` argument of `Conv2D`.

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
for n, k, s in [(5, 3, 2), (28, 3, 2), (28, 3, 3), (28, 5, 2)]:
    image = np.ones((1, n, n, 1), "float32")
    for padding in ("valid", "same"):
        conv = layers.Conv2D(1, k, strides=s, padding=padding)
        formula = output_size(n, k, s, padding)
        keras_size = conv(image).shape[1]
        print(f"{n:>3} {k:>2} {s:>2}  {padding:<7}  {formula:>7}  {keras_size:>5}")
# --8<-- [end:formula_check]

# %% [markdown]
# ## The complete convolution from scratch
#
# `conv2d` (in `code/convnets/numpy_ops.py`) pads like "same" if asked, cuts out the windows s pixels
# apart and takes one dot product per window and filter. Against `Conv2D` with the layer's own weights,
# ReLU included:

# %%
# --8<-- [start:conv2d_check]
image = np.random.default_rng(0).normal(size=(28, 28, 3)).astype("float32")
for strides, padding in [(1, "valid"), (2, "valid"), (2, "same")]:
    layer = layers.Conv2D(8, 3, strides=strides, padding=padding, activation="relu",
                          bias_initializer="random_normal")
    theirs = keras.ops.convert_to_numpy(layer(image[np.newaxis]))[0]
    kernel, bias = layer.get_weights()
    ours = np.maximum(conv2d(image, kernel, bias, strides, padding), 0)  # then the ReLU
    print(f"strides={strides}, padding={padding!r}: {ours.shape},",
          "same as Keras:", np.allclose(ours, theirs, atol=1e-5))
# --8<-- [end:conv2d_check]

# %% [markdown]
# ## Going further: "same" with a stride, and PyTorch
#
# With stride 2, "same" pads 28 rows unevenly: nothing before, one row after. A `ZeroPadding2D` with
# those amounts and a valid convolution with the same weights give the same numbers; one row on each
# side gives the same shape but other numbers.

# %%
# --8<-- [start:same_uneven]
def pad_then_valid(conv: layers.Conv2D, pads: tuple[int, int], images: np.ndarray) -> np.ndarray:
    """Zero-pad (before, after) rows and columns, then apply a valid copy of `conv` with its weights."""
    padded = layers.ZeroPadding2D((pads, pads))(images)
    valid_conv = layers.Conv2D(conv.filters, conv.kernel_size, strides=conv.strides, padding="valid")
    valid_conv.build(padded.shape)
    valid_conv.set_weights(conv.get_weights())
    return keras.ops.convert_to_numpy(valid_conv(padded))


print("same_padding(28, 3, 2):", same_padding(28, 3, 2))
images = np.random.default_rng(1).normal(size=(2, 28, 28, 3)).astype("float32")
same_conv = layers.Conv2D(4, 3, strides=2, padding="same", bias_initializer="random_normal")
expected = keras.ops.convert_to_numpy(same_conv(images))
for pads in [(0, 1), (1, 1)]:
    result = pad_then_valid(same_conv, pads, images)
    equal = np.allclose(result, expected, atol=1e-5)
    print(f"pad {pads} + valid: {result.shape[1]}×{result.shape[2]} output, equal to same: {equal}")
# --8<-- [end:same_uneven]

# %% [markdown]
# ## Going further: dilation
#
# `dilated_conv2d` (in `code/convnets/numpy_ops.py`) takes the k×k taps of a window d(k − 1) + 1 pixels
# wide. Compare it with `Conv2D(..., dilation_rate=2)`, using the layer's own weights.

# %%
# --8<-- [start:dilation_check]
from convnets.numpy_ops import dilated_conv2d

image = np.random.default_rng(0).normal(size=(28, 28, 1)).astype("float32")
dilated = layers.Conv2D(8, 3, dilation_rate=2, bias_initializer="random_normal")
theirs = keras.ops.convert_to_numpy(dilated(image[np.newaxis]))[0]
kernel, bias = (np.asarray(weight) for weight in dilated.get_weights())
ours = dilated_conv2d(image, kernel, bias, dilation=2)
print("kernel:", kernel.shape, f" parameters: {dilated.count_params()}")
print("NumPy:", ours.shape, " Keras:", theirs.shape)
print(f"largest difference: {np.abs(ours - theirs).max():.1e}")
print("equal within 1e-5:", np.allclose(ours, theirs, atol=1e-5))
# --8<-- [end:dilation_check]

# %% [markdown]
# The window grows with the dilation, the weights do not. Keras does not combine a dilation with a
# stride.

# %%
# --8<-- [start:dilation_sizes]
for d in (1, 2, 3):
    conv = layers.Conv2D(8, 3, dilation_rate=d)
    size = conv(np.zeros((1, 28, 28, 1), "float32")).shape[1]
    span = d * (3 - 1) + 1
    print(f"dilation {d}: window {span}×{span}, {conv.count_params()} parameters, "
          f"28×28 input -> {size}×{size}")
try:
    layers.Conv2D(8, 3, strides=2, dilation_rate=2)
except ValueError as error:
    print("strides=2 with dilation_rate=2:", str(error).split(". ")[0])
# --8<-- [end:dilation_sizes]

# %% [markdown]
# ## Going further: the general formula
#
# `conv_output_size` (in `code/convnets/shapes.py`) takes explicit padding and a dilation. Against
# Keras, with the padding done by a `ZeroPadding2D` layer before a valid `Conv2D`:

# %%
# --8<-- [start:general_check]
from convnets.shapes import conv_output_size

print("  n  k  s  d  padding  formula  Keras")
for n, k, s, d, pads in [(28, 3, 1, 2, (0, 0)), (28, 3, 1, 2, (2, 2)), (28, 3, 2, 1, (0, 1)),
                         (28, 5, 2, 1, (1, 2)), (27, 4, 2, 1, (1, 2)), (13, 3, 1, 3, (1, 0))]:
    padded_conv = keras.Sequential([layers.ZeroPadding2D((pads, pads)),
                                    layers.Conv2D(1, k, strides=s, dilation_rate=d)])
    keras_size = padded_conv(np.ones((1, n, n, 1), "float32")).shape[1]
    formula = conv_output_size(n, k, s, d, pads)
    print(f"{n:>3} {k:>2} {s:>2} {d:>2}  {str(pads):<7}  {formula:>7}  {keras_size:>5}")
# --8<-- [end:general_check]

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
# **3.** (a) How long is the output of a 3×3 convolution with dilation 2 on 28 pixels padded with one
# zero on each side? (b) Which explicit padding reproduces Keras's "same" for n = 27, k = 4, s = 2?

# %%
# --8<-- [start:exercise_dilated]
n, k, d, pads = 28, 3, 2, (1, 1)
formula = conv_output_size(n, k, s=1, d=d, padding=pads)
padded_conv = keras.Sequential([layers.ZeroPadding2D((pads, pads)), layers.Conv2D(1, k, dilation_rate=d)])
keras_size = padded_conv(np.ones((1, n, n, 1), "float32")).shape[1]
print(f"window {d * (k - 1) + 1}, padded axis {n + sum(pads)}: formula {formula}, Keras {keras_size}")
# --8<-- [end:exercise_dilated]

# %%
# --8<-- [start:exercise_explicit]
n, k, s = 27, 4, 2
total = (output_size(n, k, s, "same") - 1) * s + k - n
print(f"output {output_size(n, k, s, 'same')}, total padding {total}, same_padding: {same_padding(n, k, s)}")
images = np.random.default_rng(2).normal(size=(2, n, n, 1)).astype("float32")
same_conv = layers.Conv2D(2, k, strides=s, padding="same")
expected = keras.ops.convert_to_numpy(same_conv(images))
for before in range(total + 1):
    pads = (before, total - before)
    equal = np.allclose(pad_then_valid(same_conv, pads, images), expected, atol=1e-5)
    print(f"pad {pads} + valid: equal to same: {equal}")
# --8<-- [end:exercise_explicit]

# %% [markdown]
# **4.** Replace the two `MaxPooling2D` layers of the book's convnet by a stride of 2 in the convolutions
# they followed. Train it and the book's convnet for one epoch on the first 10,000 training images;
# compare their parameter counts and test accuracies.

# %%
# --8<-- [start:exercise_strided]
from convnets.data import load_mnist  # MNIST from a local copy (keras.datasets.mnist needs a download)
from convnets.models import build_convnet  # the book's convnet, with max pooling

keras.utils.set_random_seed(0)  # the same starting weights at every run
inputs = keras.Input(shape=(28, 28, 1))
x = layers.Conv2D(32, 3, strides=2, activation="relu")(inputs)  # was: no stride, then MaxPooling2D(2)
x = layers.Conv2D(64, 3, strides=2, activation="relu")(x)  # the same
x = layers.Conv2D(128, 3, activation="relu")(x)
x = layers.Flatten()(x)
outputs = layers.Dense(10, activation="softmax")(x)
strided = keras.Model(inputs, outputs)
for layer in strided.layers[1:]:
    print(f"{type(layer).__name__:<8} {str(layer.output.shape[1:]):<13} {layer.count_params():>7,} parameters")

(train_images, train_labels), (test_images, test_labels) = load_mnist()
train_images = train_images[:10_000].reshape((10_000, 28, 28, 1)).astype("float32") / 255
train_labels = train_labels[:10_000]
test_images = test_images.reshape((10_000, 28, 28, 1)).astype("float32") / 255
for name, model in [("max pooling", build_convnet()), ("stride 2", strided)]:
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(train_images, train_labels, epochs=1, batch_size=64)
    test_loss, test_acc = model.evaluate(test_images, test_labels, verbose=0)
    print(f"{name:<11} {model.count_params():>8,} parameters, test accuracy {test_acc:.3f}")
# --8<-- [end:exercise_strided]
