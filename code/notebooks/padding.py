# %% [markdown]
# # Border effects and padding
#
# The companion notebook of the chapter *Border effects and padding*: why a 3×3 window turns a 5×5
# input into a 3×3 output, why border pixels count less, what `padding="same"` adds, and how much.
# Run it with `python code/notebooks/padding.py`.

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

from convnets.numpy_ops import pad_same
from convnets.shapes import output_size, same_padding
# --8<-- [end:setup]

# %% [markdown]
# ## Border pixels count less
#
# Count, for each pixel of a 5×5 input, how many 3×3 windows contain it: without padding, then with one
# ring of zeros around the input.

# %%
# --8<-- [start:coverage]
def windows_per_pixel(n: int, k: int, pad: int = 0) -> np.ndarray:
    """How many k×k windows (stride 1) contain each pixel of an n×n input with `pad` zeros around it."""
    counts = np.zeros((n + 2 * pad, n + 2 * pad), dtype=int)
    for i in range(n + 2 * pad - k + 1):  # every position where the window fits
        for j in range(n + 2 * pad - k + 1):
            counts[i:i + k, j:j + k] += 1
    return counts[pad:pad + n, pad:pad + n]  # the input's pixels, not the zeros


print("no padding:\n", windows_per_pixel(5, 3))
# --8<-- [end:coverage]

# %% [markdown]
# ## Padding from scratch, then in Keras

# %%
# --8<-- [start:pad_check]
image = np.random.default_rng(0).normal(size=(5, 5, 1)).astype("float32")
padded = pad_same(image, k=3)
print("input:", image.shape, " padded:", padded.shape)
same = layers.Conv2D(1, 3, padding="same")
valid = layers.Conv2D(1, 3, padding="valid")
same.build((1, 5, 5, 1))
valid.build((1, 7, 7, 1))
valid.set_weights(same.get_weights())  # the same kernel and bias
ours = keras.ops.convert_to_numpy(valid(padded[np.newaxis]))  # zeros added by hand, then no padding
theirs = keras.ops.convert_to_numpy(same(image[np.newaxis]))
print("output:", tuple(ours.shape[1:]), " same as padding='same':", np.allclose(ours, theirs))
# --8<-- [end:pad_check]

# %%
# --8<-- [start:shapes]
five_by_five = np.ones((1, 5, 5, 1), dtype="float32")  # one 5×5 image, 1 channel
for padding in ("valid", "same"):
    conv = layers.Conv2D(filters=1, kernel_size=3, padding=padding)
    height, width = conv(five_by_five).shape[1:3]
    print(f'padding="{padding}": 5×5 input -> {height}×{width} output')
# --8<-- [end:shapes]

# %% [markdown]
# Padding does not make the border count as much as the middle.

# %%
# --8<-- [start:coverage_same]
print('padding="same":\n', windows_per_pixel(5, 3, pad=1))
# --8<-- [end:coverage_same]

# %% [markdown]
# ## How much padding
#
# `output_size` and `same_padding` are in `code/convnets/shapes.py`. Compare them with Keras on a
# few input sizes and windows.

# %%
# --8<-- [start:formula_check]
print("  n  k  padding  formula  Keras  padding added")
for n, k in [(5, 3), (28, 3), (7, 4)]:
    image = np.ones((1, n, n, 1), "float32")
    for padding in ("valid", "same"):
        keras_size = layers.Conv2D(1, k, padding=padding)(image).shape[1]
        formula = output_size(n, k, padding=padding)
        added = same_padding(n, k) if padding == "same" else (0, 0)
        print(f"{n:>3} {k:>2}  {padding:<7}  {formula:>7}  {keras_size:>5}",
              f" {added}")
# --8<-- [end:formula_check]

# %% [markdown]
# ## Exercises
#
# **1.** How many rows of zeros does `padding="same"` add above and below a 28×28 input, for 3×3, 5×5
# and 7×7 windows?

# %%
# --8<-- [start:exercise_amount]
for k in (3, 5, 7):
    print(f"{k}×{k} window: {same_padding(28, k)} rows before and after")
# --8<-- [end:exercise_amount]

# %% [markdown]
# **2.** With an even window, say 4×4, the padding cannot be the same on both sides. Where does Keras
# put the extra row? Check it with a kernel of ones on an image of ones.

# %%
# --8<-- [start:exercise_even]
ones_layer = layers.Conv2D(1, 4, padding="same", use_bias=False,
                           kernel_initializer="ones")
counts = keras.ops.convert_to_numpy(ones_layer(np.ones((1, 6, 6, 1), "float32")))[0, :, :, 0]
print("same_padding(6, 4):", same_padding(6, 4))
print("pixels of the image under each window (the rest is padding):")
print(counts.astype(int))
# --8<-- [end:exercise_even]

# %% [markdown]
# **3.** Stack ten 3×3 convolutions without padding on a 28×28 input. How large is the last output?

# %%
# --8<-- [start:exercise_stack]
size = 28
for _ in range(10):
    size = output_size(size, 3)
print("after ten valid 3×3 convolutions:", size, "×", size)
# --8<-- [end:exercise_stack]

# %% [markdown]
# **4.** Give every `Conv2D` of the book's convnet `padding="same"`. How large is the last feature map,
# how many values reach the `Dense` layer, how many parameters has it? Train the model for one epoch on
# the first 10,000 training images and evaluate it on the test images.

# %%
# --8<-- [start:exercise_same]
from convnets.data import load_mnist  # MNIST from a local copy (keras.datasets.mnist needs a download)

keras.utils.set_random_seed(0)  # the same starting weights at every run
inputs = keras.Input(shape=(28, 28, 1))
x = layers.Conv2D(32, 3, padding="same", activation="relu")(inputs)
x = layers.MaxPooling2D(2)(x)
x = layers.Conv2D(64, 3, padding="same", activation="relu")(x)
x = layers.MaxPooling2D(2)(x)
x = layers.Conv2D(128, 3, padding="same", activation="relu")(x)
x = layers.Flatten()(x)
outputs = layers.Dense(10, activation="softmax")(x)
same_model = keras.Model(inputs, outputs)
for layer in same_model.layers[1:]:
    shape = str(layer.output.shape[1:])
    print(f"{type(layer).__name__:<13} {shape:<13} {layer.count_params():>7,} parameters")

(train_images, train_labels), (test_images, test_labels) = load_mnist()
train_images = train_images[:10_000].reshape((10_000, 28, 28, 1)).astype("float32") / 255
train_labels = train_labels[:10_000]
test_images = test_images.reshape((10_000, 28, 28, 1)).astype("float32") / 255
same_model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                   metrics=["accuracy"])
same_model.fit(train_images, train_labels, epochs=1, batch_size=64)
test_loss, test_acc = same_model.evaluate(test_images, test_labels, verbose=0)
print(f"test accuracy: {test_acc:.3f}")
# --8<-- [end:exercise_same]
