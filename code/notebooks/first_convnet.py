# %% [markdown]
# # Your first convnet
#
# The companion notebook of the chapter *Your first convnet*: build the small MNIST convnet, read its
# summary layer by layer, train it with the book's recipe and compare it with a densely connected
# network. Run it with `python code/notebooks/first_convnet.py`; each `fit_or_load` trains the first time and
# then loads the result from the cache in `runs/cache`.

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

from convnets.cache import fit_or_load
from convnets.data import load_mnist
from convnets.models import build_convnet, build_dense
from convnets.training import prepare_images
# --8<-- [end:setup]

# %% [markdown]
# `build_convnet()` lives in `code/convnets/models.py`: three `Conv2D` layers, two `MaxPooling2D`
# layers between them, then `Flatten` and a 10-way softmax `Dense` layer.

# %%
# --8<-- [start:summary]
model = build_convnet()
model.summary()
# --8<-- [end:summary]

# %% [markdown]
# ## Where every shape and parameter count comes from
#
# A 3×3 convolution without padding trims one pixel from each border; a 2×2 max pooling halves the
# size (rounding down). A Conv2D layer has one 3×3×(input channels) kernel plus one bias per filter.

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
height, channels = 28, 1
for layer in model.layers[1:]:
    size, count = explain(layer, height, channels)
    assert count.endswith(f"{layer.count_params():,}")  # Keras agrees
    shape = layer.output.shape[1:]
    dims = "×".join(map(str, shape))
    print(f"{layer.name:<16} {dims:<10} {size:<18} {count}")
    height, channels = shape[0], shape[-1]
# --8<-- [end:explain]

# %% [markdown]
# ## Prepare MNIST, then train and evaluate

# %%
# --8<-- [start:data]
(train_images, train_labels), (test_images, test_labels) = load_mnist()
train_images = prepare_images(train_images)
test_images = prepare_images(test_images)
print("train:", train_images.shape, train_images.dtype, train_labels.shape)
print("test: ", test_images.shape, test_images.dtype, test_labels.shape)
# --8<-- [end:data]

# %% [markdown]
# The book compiles with RMSprop:

# %%
# --8<-- [start:compile]
model.compile(optimizer="rmsprop",
              loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
# --8<-- [end:compile]

# %% [markdown]
# and trains with `model.fit(train_images, train_labels, epochs=5, batch_size=64)`. `fit_or_load` makes
# exactly that call the first time (about a minute on a laptop CPU) and saves the weights and the
# history in the cache; afterwards it loads them into `model`.

# %%
# --8<-- [start:train]
history = fit_or_load(model, train_images, train_labels, epochs=5, batch_size=64)
# --8<-- [end:train]

# %%
# --8<-- [start:history]
metrics = history.history
for epoch, (loss, accuracy) in enumerate(zip(metrics["loss"], metrics["accuracy"]), start=1):
    print(f"epoch {epoch}: loss {loss:.4f}, accuracy {accuracy:.4f}")
# --8<-- [end:history]

# %%
# --8<-- [start:evaluate]
test_loss, test_acc = model.evaluate(test_images, test_labels, verbose=0)
print(f"Test accuracy: {test_acc:.3f}")
# --8<-- [end:evaluate]

# %% [markdown]
# ## The dense baseline against the convnet
#
# The baseline is the densely connected network of the book's chapter 2 (`build_dense()`), compiled
# and trained the same way.

# %%
# --8<-- [start:dense]
dense = build_dense()
dense.compile(optimizer="rmsprop",
              loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
dense_history = fit_or_load(dense, train_images, train_labels, epochs=5, batch_size=64)
# --8<-- [end:dense]

# %% [markdown]
# `history.seconds` is how long `model.fit` took, and `history.device` what it ran on, when the model
# was trained: a model loaded from the cache keeps the time of its training.

# %%
# --8<-- [start:table]
print("model    | parameters | test accuracy | training time")
for name, net, fit in (("dense", dense, dense_history), ("convnet", model, history)):
    _, accuracy = net.evaluate(test_images, test_labels, verbose=0)
    print(f"{name:<8} | {net.count_params():>10,} | "
          f"{accuracy:>13.4f} | {fit.seconds:>11.0f} s")
print(f"Trained with the book's recipe on {history.device}")
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
print(f"total: {wider.count_params():,} parameters, "
      f"against {build_convnet().count_params():,}")
# --8<-- [end:exercise_five]

# %% [markdown]
# **3.** How many test digits does the trained convnet get wrong, and which ones?

# %%
# --8<-- [start:exercise_mistakes]
predicted = model.predict(test_images, verbose=0).argmax(axis=1)
wrong = np.flatnonzero(predicted != test_labels)
print(f"misclassified: {len(wrong)} of {len(test_labels):,} test digits")
# --8<-- [end:exercise_mistakes]
