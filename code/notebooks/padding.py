# %% [markdown]
# # Border effects and padding
#
# The companion notebook of the chapter *Border effects and padding*: why a 3×3 window turns a 5×5
# input into a 3×3 output, what `padding="same"` changes, and the output-size formula checked against
# Keras. Run it with `python code/notebooks/padding.py`.

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

from convnets.shapes import conv_output_size, output_size, same_padding  # output_size calls the first
# --8<-- [end:setup]

# %% [markdown]
# ## Valid against same
#
# The same 3×3 convolution on a 5×5 input, without padding and with it.

# %%
# --8<-- [start:shapes]
five_by_five = np.ones((1, 5, 5, 1), dtype="float32")  # one 5×5 image, 1 channel
for padding in ("valid", "same"):
    conv = layers.Conv2D(filters=1, kernel_size=3, padding=padding)
    height, width = conv(five_by_five).shape[1:3]
    print(f'padding="{padding}": 5×5 input -> {height}×{width} output')
# --8<-- [end:shapes]

# %% [markdown]
# ## The output-size formula
#
# `output_size` and `same_padding` are in `code/convnets/shapes.py`. Compare them with Keras on a
# few input sizes and windows.

# %%
# --8<-- [start:formula_check]
print("  n  k  padding  formula  Keras  padding added")
for n, k in [(5, 3), (28, 3), (28, 5), (13, 3), (7, 4)]:
    image = np.ones((1, n, n, 1), "float32")
    for padding in ("valid", "same"):
        keras_size = layers.Conv2D(1, k, padding=padding)(image).shape[1]
        formula = output_size(n, k, 1, padding)
        added = same_padding(n, k) if padding == "same" else (0, 0)
        print(f"{n:>3} {k:>2}  {padding:<7}  {formula:>7}  {keras_size:>5}",
              f" {added}")
# --8<-- [end:formula_check]

# %% [markdown]
# ## The book's convnet with same padding
#
# With `padding="same"` only the poolings shrink the maps.

# %%
# --8<-- [start:same_convnet]
inputs = keras.Input(shape=(28, 28, 1))
x = layers.Conv2D(32, 3, padding="same", activation="relu")(inputs)
x = layers.MaxPooling2D(2)(x)
x = layers.Conv2D(64, 3, padding="same", activation="relu")(x)
x = layers.MaxPooling2D(2)(x)
x = layers.Conv2D(128, 3, padding="same", activation="relu")(x)
x = layers.Flatten()(x)
outputs = layers.Dense(10, activation="softmax")(x)
same_convnet = keras.Model(inputs, outputs)
for layer in same_convnet.layers[1:]:
    shape = str(layer.output.shape[1:])
    count = layer.count_params()
    print(f"{type(layer).__name__:<13} {shape:<13} {count:>7,} parameters")
# --8<-- [end:same_convnet]

# %% [markdown]
# ## Exercises
#
# **1.** How many rows and columns of zeros does `padding="same"` add around a 28×28 input for a 5×5
# window? And for a 3×3 window?

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
counts = np.asarray(ones_layer(np.ones((1, 6, 6, 1), "float32")))[0, :, :, 0]
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
