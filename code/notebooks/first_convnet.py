# %% [markdown]
# # Your first convnet
#
# The companion notebook of the chapter *Your first convnet*: the book's small MNIST convnet, trained with
# the book's recipe, then read layer by layer and compared with a densely connected network. Run it with
# `python code/notebooks/first_convnet.py`: each `fit` trains for real, the book's about a minute on a
# laptop CPU.

# %%
try:
    import convnets  # the tutorial's package, code/convnets in the repository
except ModuleNotFoundError:
    raise SystemExit("This notebook needs the tutorial's convnets package: "
                     "pip install path/to/the/repository") from None

# %% [markdown]
# ## The book's code: Listings 8.1 to 8.4
#
# Only the data line differs: `load_mnist()` reads the local, verified copy of MNIST (data/mnist.npz) and
# returns the same arrays as `keras.datasets.mnist.load_data()`, which downloads it.

# %%
# --8<-- [start:book]
from tensorflow import keras
from tensorflow.keras import layers

inputs = keras.Input(shape=(28, 28, 1))
x = layers.Conv2D(filters=32, kernel_size=3, activation="relu")(inputs)
x = layers.MaxPooling2D(pool_size=2)(x)
x = layers.Conv2D(filters=64, kernel_size=3, activation="relu")(x)
x = layers.MaxPooling2D(pool_size=2)(x)
x = layers.Conv2D(filters=128, kernel_size=3, activation="relu")(x)
x = layers.Flatten()(x)
outputs = layers.Dense(10, activation="softmax")(x)
model = keras.Model(inputs=inputs, outputs=outputs)
model.summary()

from convnets.data import load_mnist
(train_images, train_labels), (test_images, test_labels) = load_mnist()
train_images = train_images.reshape((60000, 28, 28, 1))
train_images = train_images.astype("float32") / 255
test_images = test_images.reshape((10000, 28, 28, 1))
test_images = test_images.astype("float32") / 255
model.compile(optimizer="rmsprop",
              loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
model.fit(train_images, train_labels, epochs=5, batch_size=64)

test_loss, test_acc = model.evaluate(test_images, test_labels)
print(f"Test accuracy: {test_acc:.3f}")
# --8<-- [end:book]

# %% [markdown]
# ## Where every shape and parameter count comes from
#
# A 3×3 window fits in 26 positions across 28 pixels; a 2×2 max pooling halves the size (rounding down).
# A Conv2D layer has one 3×3×(input channels) kernel plus one bias per filter.

# %%
# --8<-- [start:explain]
def explain(layer, height: int, channels: int) -> tuple[str, str]:
    """Why a layer's output has its size, and how to count its parameters."""
    if isinstance(layer, layers.Conv2D):
        k, filters = layer.kernel_size[0], layer.filters
        count = (k * k * channels + 1) * filters
        return (f"{height} - {k} + 1 = {height - k + 1}",
                f"({k}·{k}·{channels} + 1)·{filters} = {count:,}")
    if isinstance(layer, layers.MaxPooling2D):
        return f"{height} // 2 = {height // 2}", "0"
    if isinstance(layer, layers.Flatten):
        size = height * height * channels
        return f"{height}·{height}·{channels} = {size}", "0"
    units = layer.units  # Dense: a weight per input and unit, a bias per unit
    return "", f"({channels} + 1)·{units} = {(channels + 1) * units:,}"


print(f"{'layer':<16} {'output':<10} {'output size':<18} parameters")
height, channels, agree = 28, 1, []
for layer in model.layers[1:]:
    size, count = explain(layer, height, channels)
    agree.append(count.endswith(f"{layer.count_params():,}"))  # the count Keras gives
    shape = layer.output.shape[1:]
    dims = "×".join(map(str, shape))
    print(f"{layer.name:<16} {dims:<10} {size:<18} {count}")
    height, channels = shape[0], shape[-1]
print("every count as in the summary:", all(agree))
# --8<-- [end:explain]

# %% [markdown]
# ## The dense baseline against the convnet
#
# The baseline is the densely connected network of the book's chapter 2 (`build_dense()` in
# code/convnets/models.py), compiled and trained the same way.

# %%
# --8<-- [start:dense]
from convnets.models import build_dense

dense = build_dense()
dense.compile(optimizer="rmsprop",
              loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
dense.fit(train_images, train_labels, epochs=5, batch_size=64)
# --8<-- [end:dense]

# %%
# --8<-- [start:table]
print("model    | parameters | test accuracy")
for name, net in (("dense", dense), ("convnet", model)):
    _, accuracy = net.evaluate(test_images, test_labels, verbose=0)
    print(f"{name:<8} | {net.count_params():>10,} | {accuracy:>13.3f}")
# --8<-- [end:table]

# %% [markdown]
# ## Exercises
#
# **1.** How many parameters has a `Conv2D(16, kernel_size=5)` layer applied to 32×32 RGB images?

# %%
# --8<-- [start:exercise_parameters]
rgb_layer = layers.Conv2D(16, kernel_size=5)
rgb_layer.build((None, 32, 32, 3))
print("by hand:", (5 * 5 * 3 + 1) * 16, " Keras:", rgb_layer.count_params())
# --8<-- [end:exercise_parameters]

# %% [markdown]
# **2.** Give the first layer 5×5 windows instead of 3×3. What happens to the shapes, and to the
# size of the `Flatten` output?

# %%
# --8<-- [start:exercise_five]
inputs = keras.Input(shape=(28, 28, 1))
x = layers.Conv2D(32, kernel_size=5, activation="relu")(inputs)
x = layers.MaxPooling2D(pool_size=2)(x)
x = layers.Conv2D(64, kernel_size=3, activation="relu")(x)
x = layers.MaxPooling2D(pool_size=2)(x)
x = layers.Conv2D(128, kernel_size=3, activation="relu")(x)
x = layers.Flatten()(x)
outputs = layers.Dense(10, activation="softmax")(x)
wider = keras.Model(inputs, outputs)
for layer in wider.layers[1:]:
    shape = str(layer.output.shape[1:])
    print(f"{type(layer).__name__:<14} {shape:<16} {layer.count_params():>7,}")
print(f"total: {wider.count_params():,} parameters, against {model.count_params():,}")
# --8<-- [end:exercise_five]

# %% [markdown]
# **3.** How many test digits does the trained convnet get wrong?

# %%
# --8<-- [start:exercise_mistakes]
import numpy as np

predicted = model.predict(test_images, verbose=0).argmax(axis=1)
wrong = np.flatnonzero(predicted != test_labels)
print(f"misclassified: {len(wrong)} of {len(test_labels):,} test digits")
# --8<-- [end:exercise_mistakes]

# %% [markdown]
# **4.** Train both networks again from scratch, on the first 5,000 training images only (5 epochs,
# batch size 64). Which one does better on the test set?

# %%
# --8<-- [start:exercise_subset]
for name, original in (("convnet", model), ("dense", dense)):
    fresh = keras.models.clone_model(original)  # the same layers, new random weights
    fresh.compile(optimizer="rmsprop",
                  loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    fresh.fit(train_images[:5000], train_labels[:5000], epochs=5, batch_size=64, verbose=0)
    _, accuracy = fresh.evaluate(test_images, test_labels, verbose=0)
    print(f"{name:<8} test accuracy {accuracy:.3f}, after 5,000 training images")
# --8<-- [end:exercise_subset]
