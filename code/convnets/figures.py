"""The site's figures, drawn with matplotlib from real data, real models and the NumPy operations."""

from __future__ import annotations

import math
from pathlib import Path

import keras
import matplotlib.colors
import numpy as np
from matplotlib.patches import Rectangle

from convnets.animations import strongest_filter
from convnets.numpy_ops import conv2d, extract_patches, max_pool2d
from convnets.schemes import plt, save_figure, scheme
from convnets.shapes import output_size, receptive_fields, same_padding, window_layers

DPI = 110


def save(figure: plt.Figure, path: Path) -> None:
    """Write a figure as a PNG on the background of the color scheme it is drawn in."""
    save_figure(figure, path, dpi=DPI, bbox_inches="tight", pad_inches=0.08, pil_kwargs={"optimize": True})


def accent(index: int) -> str:
    """The scheme's color for the `index`-th highlighted window or line."""
    return scheme().accents[index % len(scheme().accents)]


def tint(index: int) -> str:
    """The scheme's cell fill that goes with `accent(index)`, light enough (or dark enough) to write on."""
    return scheme().tints[index % 4]


def bare(axes: plt.Axes, title: str = "") -> None:
    """No ticks and no frame, only a title."""
    axes.set(xticks=[], yticks=[])
    axes.set_title(title, fontsize=10)
    for spine in axes.spines.values():
        spine.set_visible(False)


def show_digit(axes: plt.Axes, digit: np.ndarray, title: str = "") -> None:
    """A 28×28 digit in gray levels, without ticks."""
    axes.imshow(digit, cmap="gray_r", vmin=0, vmax=255)
    axes.set(xticks=[], yticks=[])
    axes.set_title(title, fontsize=10)


def outline(axes: plt.Axes, top: float, left: float, size: float, color: str, inset: float = 0.0,
            width: float = 2.5) -> None:
    """Draw the border of a square window whose top-left cell is (top, left), in image coordinates."""
    axes.add_patch(Rectangle((left - 0.5 + inset, top - 0.5 + inset), size - 2 * inset, size - 2 * inset,
                             fill=False, edgecolor=color, linewidth=width))


def number_grid(axes: plt.Axes, values: np.ndarray, fills: np.ndarray | None = None, fmt: str = "{:g}",
                title: str = "", bold: np.ndarray | None = None) -> None:
    """A small matrix drawn as a table of cells, each with its value written in it."""
    rows, cols = values.shape
    for i in range(rows):
        for j in range(cols):
            fill = scheme().cell if fills is None else fills[i][j]
            axes.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor=fill, edgecolor=scheme().edge))
            weight = "bold" if bold is not None and bold[i, j] else "normal"
            axes.text(j, i, fmt.format(values[i, j]), ha="center", va="center", color=scheme().ink, fontsize=11,
                      fontweight=weight)
    axes.set(xlim=(-0.6, cols - 0.4), ylim=(rows - 0.4, -0.6), aspect="equal")
    bare(axes, title)


def between(figure: plt.Figure, left: plt.Axes, right: plt.Axes, symbol: str) -> None:
    """Write an operator such as → or × halfway between two panels."""
    a, b = left.get_position(), right.get_position()
    figure.text((a.x1 + b.x0) / 2, (a.y0 + a.y1) / 2, symbol, ha="center", va="center", fontsize=18, color=scheme().ink)


# --- The convolution chapter -------------------------------------------------------------------------------------

def local_patterns(path: Path, digit: np.ndarray, corners: list[tuple[int, int]], size: int = 7) -> None:
    """A digit with a few small windows outlined, each also enlarged: edges and strokes are local patterns."""
    columns = math.ceil(len(corners) / 2)
    figure = plt.figure(figsize=(3.2 + 1.45 * columns, 3.2))
    grid = figure.add_gridspec(2, columns + 1, width_ratios=[2.2] + [1] * columns, wspace=0.15, hspace=0.15)
    whole = figure.add_subplot(grid[:, 0])
    show_digit(whole, digit, "a test digit, 28×28")
    for index, (top, left) in enumerate(corners):
        color = accent(index)
        outline(whole, top, left, size, color)
        crop = figure.add_subplot(grid[index // columns, 1 + index % columns])
        crop.imshow(digit[top:top + size, left:left + size], cmap="gray_r", vmin=0, vmax=255)
        crop.set(xticks=[], yticks=[])
        for spine in crop.spines.values():
            spine.set(edgecolor=color, linewidth=3)
    save(figure, path)


def global_and_local(path: Path, dense: keras.Model, convnet: keras.Model, count: int = 6, zoom: int = 5) -> None:
    """What one unit looks at: a Dense unit weighs all 784 pixels, a Conv2D filter 3×3 of them (drawn to scale
    in a 28×28 frame, and enlarged `zoom` times beside it)."""
    dense_weights = np.asarray(dense.get_layer(index=2).get_weights()[0])  # (784, 512)
    kernels = np.asarray(first_conv(convnet).get_weights()[0])          # (3, 3, 1, 32)
    figure, axes = plt.subplots(2, count, figsize=(1.35 * count, 3.0), gridspec_kw={"hspace": 0.35})
    side, k = 28, kernels.shape[0]
    for column in range(count):
        template = dense_weights[:, column].reshape(side, side)
        bound = np.abs(template).max()
        axes[0, column].imshow(template, cmap="RdBu_r", vmin=-bound, vmax=bound)
        kernel, small = kernels[:, :, 0, column], axes[1, column]
        bound = np.abs(kernel).max()
        corner, big = 2.0, k * zoom  # the kernel to scale at the top left, enlarged at the bottom right
        small.imshow(kernel, cmap="RdBu_r", vmin=-bound, vmax=bound, extent=(corner, corner + k, corner + k, corner))
        far = side - 1.5 - big
        small.imshow(kernel, cmap="RdBu_r", vmin=-bound, vmax=bound, extent=(far, far + big, far + big, far))
        small.add_patch(Rectangle((far, far), big, big, fill=False, edgecolor=scheme().edge, linewidth=0.8))
        for dx, dy in [(k, 0), (0, k)]:
            small.plot([corner + dx, far + dx * zoom], [corner + dy, far + dy * zoom], color=scheme().faint,
                       linewidth=0.8, linestyle=":")
        small.set(xlim=(0, side), ylim=(side, 0), aspect="equal")
    for axes_ in axes.flat:
        axes_.set(xticks=[], yticks=[])
    axes[0, 0].set_ylabel("Dense\n28×28", fontsize=10)
    axes[1, 0].set_ylabel(f"Conv2D\n3×3, and ×{zoom}", fontsize=10)
    figure.suptitle("Trained weights, each panel the size of a 28×28 image: red is positive, blue negative",
                    fontsize=10)
    save(figure, path)


def translation(path: Path, convnet: keras.Model, digit: np.ndarray, canvas: int = 40) -> None:
    """One learned filter finds the same stroke wherever the digit is: its feature map moves with the digit."""
    kernels, biases = (np.asarray(w) for w in first_conv(convnet).get_weights())
    index = strongest_filter(kernels, biases, digit[:, :, np.newaxis].astype("float32") / 255)
    offset = canvas - digit.shape[0]
    figure, axes = plt.subplots(2, 2, figsize=(5.4, 5.6), gridspec_kw={"hspace": 0.25, "wspace": 0.1})
    for column, (top, left) in enumerate([(0, 0), (offset, offset)]):
        picture = np.zeros((canvas, canvas), dtype=digit.dtype)
        picture[top:top + digit.shape[0], left:left + digit.shape[1]] = digit
        response = np.maximum(conv2d(picture[:, :, np.newaxis].astype("float32") / 255, kernels, biases), 0)
        response = response[:, :, index]
        peak = np.unravel_index(response.argmax(), response.shape)
        show_digit(axes[0, column], picture, f"the digit at ({top}, {left})")
        outline(axes[0, column], peak[0], peak[1], 3, accent(1))
        axes[1, column].imshow(response, cmap="magma", vmin=0)
        outline(axes[1, column], peak[0], peak[1], 1, "#17becf", width=2)
        axes[1, column].set(xticks=[], yticks=[])
        axes[1, column].set_title(f"filter {index}: strongest at ({peak[0]}, {peak[1]})", fontsize=10)
    save(figure, path)


def hierarchy(path: Path, digit: np.ndarray, convnet: keras.Model) -> None:
    """What one unit of each Conv2D layer sees of a digit: its receptive field around the same point, the rest
    of the digit faded."""
    layers = window_layers(convnet)
    sizes = receptive_fields([(k, s) for _, k, s in layers])
    jumps = np.cumprod([s for _, _, s in layers])  # input pixels between neighbouring units of each layer
    convs = [(size, jump) for (kind, _, _), size, jump in zip(layers, sizes, jumps) if kind == "Conv2D"]
    centre = 13.5
    figure, axes = plt.subplots(1, len(convs), figsize=(2.4 * len(convs), 2.8), gridspec_kw={"wspace": 0.12})
    fade = np.array(matplotlib.colors.to_rgba(scheme().background))
    for index, ((size, jump), axes_) in enumerate(zip(convs, axes)):
        unit = max(0, round((centre - (size - 1) / 2) / jump))  # the unit whose region is nearest the centre
        top = unit * jump
        mask = np.tile(fade, (*digit.shape, 1))
        mask[:, :, 3] = 0.8
        mask[top:top + size, top:top + size, 3] = 0.0
        show_digit(axes_, digit, f"Conv2D layer {index + 1}\nsees {size}×{size} pixels")
        axes_.imshow(mask)
        outline(axes_, top, top, size, accent(index))
    save(figure, path)


# --- Patches, padding and strides --------------------------------------------------------------------------------

def patch_locations(path: Path, n: int, k: int, s: int, padding: str, examples: list[tuple[int, int]]) -> None:
    """An n×n input (padded if "same") with every patch centre dotted, some patches outlined, and the output."""
    before, after = same_padding(n, k, s) if padding == "same" else (0, 0)
    side, out = n + before + after, output_size(n, k, s, padding)
    figure, (left, right) = plt.subplots(1, 2, figsize=(0.55 * (side + out) + 1.4, 0.55 * side + 0.9),
                                         gridspec_kw={"width_ratios": [side, out], "wspace": 0.35})
    colors = scheme()
    for i in range(side):
        for j in range(side):
            padded = not (before <= i < before + n and before <= j < before + n)
            left.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor=colors.padding if padded else colors.cell,
                                     edgecolor=colors.edge))
            if padded:
                left.text(j, i, "0", ha="center", va="center", color=colors.faint, fontsize=9)
    centres = [(i * s + k // 2, j * s + k // 2) for i in range(out) for j in range(out)]
    left.plot([c for _, c in centres], [r for r, _ in centres], "o", color=colors.ink, markersize=4)
    out_fills = [[colors.cell] * out for _ in range(out)]
    for index, (i, j) in enumerate(examples):
        outline(left, i * s, j * s, k, accent(index), inset=0.06 + 0.05 * index)
        out_fills[i][j] = tint(index)
    left.set(xlim=(-0.6, side - 0.4), ylim=(side - 0.4, -0.6), aspect="equal")
    padded = f"{n}×{n} input, padded to {side}×{side}" if padding == "same" else f"{n}×{n} input"
    bare(left, f'{padded}, {k}×{k} windows, stride {s}')
    labels = np.array([[f"{i},{j}" for j in range(out)] for i in range(out)], dtype=object)
    number_grid(right, labels, fills=out_fills, fmt="{}",
                title=f"output {out}×{out}:\n{out * out} patches")
    for index, (i, j) in enumerate(examples):
        outline(right, i, j, 1, accent(index), inset=0.06)
    save(figure, path)


def dilation_taps(path: Path, k: int = 3, dilations: tuple[int, ...] = (1, 2, 3)) -> None:
    """A k×k kernel at several dilations on one grid: its k·k taps, d pixels apart, and the window they span."""
    side = max(dilations) * (k - 1) + 1
    figure, panels = plt.subplots(1, len(dilations), figsize=(3.1 * len(dilations), 3.6))
    for index, (axes, d) in enumerate(zip(panels, dilations)):
        span = d * (k - 1) + 1
        top = (side - span) // 2  # the window centred on the grid
        taps = {(top + d * a, top + d * b) for a in range(k) for b in range(k)}
        for i in range(side):
            for j in range(side):
                fill = tint(index) if (i, j) in taps else scheme().cell
                axes.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor=fill, edgecolor=scheme().edge))
        axes.plot([j for _, j in taps], [i for i, _ in taps], "o", color=accent(index), markersize=6)
        outline(axes, top, top, span, accent(index), inset=0.04)
        axes.set(xlim=(-0.6, side - 0.4), ylim=(side - 0.4, -0.6), aspect="equal")
        bare(axes, f"dilation {d}: {k * k} taps, {d} apart\nwindow {span}×{span}")
    save(figure, path)


def convolution_steps(path: Path, image: np.ndarray, kernel: np.ndarray, at: tuple[int, int]) -> None:
    """Convolution as three steps: take a patch, multiply it by the kernel and sum, write the sum in the output."""
    k = kernel.shape[0]
    output = conv2d(image[:, :, np.newaxis], kernel[:, :, np.newaxis, np.newaxis], np.zeros(1))[:, :, 0]
    patch = extract_patches(image[:, :, np.newaxis], k)[at][:, :, 0]
    products = patch * kernel
    figure, axes = plt.subplots(1, 5, figsize=(13, 3.2), gridspec_kw={"width_ratios": [5, 3, 3, 3, 3], "wspace": 0.45})
    number_grid(axes[0], image, title=f"input {image.shape[0]}×{image.shape[1]}")
    outline(axes[0], at[0], at[1], k, accent(0))
    number_grid(axes[1], patch, fills=[[tint(0)] * k] * k, title="1. one 3×3 patch")
    number_grid(axes[2], kernel, fills=[[tint(2)] * k] * k, fmt="{:+g}", title="2. the kernel")
    number_grid(axes[3], products, fmt="{:+g}", title=f"3. multiply, then sum:\n{products.sum():g}")
    fills = [[tint(1) if (i, j) == at else scheme().cell for j in range(output.shape[1])] for i in range(output.shape[0])]
    number_grid(axes[4], output, fills=fills, title=f"4. output map {output.shape[0]}×{output.shape[1]}")
    outline(axes[4], at[0], at[1], 1, accent(1), inset=0.04)
    figure.canvas.draw()
    for left, right, symbol in [(0, 1, "→"), (1, 2, "×"), (2, 3, "="), (3, 4, "→")]:
        between(figure, axes[left], axes[right], symbol)
    save(figure, path)


def edge_response(path: Path, digit: np.ndarray, kernel: np.ndarray) -> None:
    """A hand-made kernel on a digit: the digit, the kernel, and the feature map it gives, on a diverging scale
    whose color bar says which sign is which."""
    image = digit[:, :, np.newaxis].astype("float32") / 255
    response = conv2d(image, kernel[:, :, np.newaxis, np.newaxis], np.zeros(1))[:, :, 0]
    bound = float(np.abs(response).max())
    figure, axes = plt.subplots(1, 3, figsize=(10.5, 3.6), gridspec_kw={"width_ratios": [28, 16, 28], "wspace": 0.35})
    show_digit(axes[0], digit, "input: ink is high (drawn dark),\npaper is 0")
    signs = [[tint(1) if value > 0 else tint(0) if value < 0 else scheme().cell for value in row] for row in kernel]
    number_grid(axes[1], kernel, fills=signs, title="the kernel:\nright column − left column")
    shown = axes[2].imshow(response, cmap="RdBu_r", vmin=-bound, vmax=bound)
    axes[2].set(xticks=[], yticks=[])
    axes[2].set_title(f"feature map {response.shape[0]}×{response.shape[1]}", fontsize=10)
    bar = figure.colorbar(shown, ax=axes[2], fraction=0.046, pad=0.04)
    bar.set_ticks([-bound, 0, bound])
    bar.set_ticklabels([f"{-bound:.2f}: values fall\nfrom left to right", "0: no change",
                        f"+{bound:.2f}: values rise\nfrom left to right"], fontsize=9)
    bar.outline.set_edgecolor(scheme().edge)
    figure.canvas.draw()
    for left, right, symbol in [(0, 1, "*"), (1, 2, "=")]:
        between(figure, axes[left], axes[right], symbol)
    save(figure, path)


def slice_stack(axes: plt.Axes, x: float, y: float, rows: int, cols: int, fills: list[str],
                window: tuple[int, int, int] | None = None, shift: float = 0.55, cell: float = 1.0) -> None:
    """A (rows, cols, len(fills)) tensor drawn as stacked grids, the first slice in front, with its top-left
    corner at (x, y); `window` = (top, left, size) outlines the same square on every slice."""
    for depth in reversed(range(len(fills))):
        left, top = x + depth * shift, y + depth * shift
        for i in range(rows):
            for j in range(cols):
                axes.add_patch(Rectangle((left + j * cell, top - (i + 1) * cell), cell, cell, facecolor=fills[depth],
                                         edgecolor=scheme().edge, linewidth=0.8))
        if window:
            row, column, size = window
            axes.add_patch(Rectangle((left + column * cell, top - (row + size) * cell), size * cell, size * cell,
                                     fill=False, edgecolor=accent(0), linewidth=2.2))


def channels(path: Path, c_in: int = 3, c_out: int = 4, n: int = 5, k: int = 3) -> None:
    """One k×k×C_in kernel makes one output channel; C_out kernels (a 2×2 grid here) make C_out output channels."""
    out, shift = n - k + 1, 0.55
    inputs = [tint(index) for index in range(c_in)]
    filters = list(scheme().fills[:c_out])
    figure, axes = plt.subplots(figsize=(12, 7.4))
    row_one, row_two = 15.5, 6.2

    def label(x: float, y: float, text: str, size: int = 11) -> None:
        axes.text(x, y, text, ha="center", va="top", fontsize=size, color=scheme().ink)

    def symbol(x: float, y: float, text: str) -> None:
        axes.text(x, y, text, ha="center", va="center", fontsize=22, color=scheme().ink)

    # One filter: a window through all input channels, times one kernel of the same depth, gives one value.
    slice_stack(axes, 0, row_one, n, n, inputs, window=(0, 0, k))
    label(n / 2 + shift, row_one - n - 0.4, f"input {n}×{n}×{c_in}\n(one slice per channel)")
    symbol(n + c_in * shift + 0.9, row_one - n / 2, "∗")
    x_kernel = n + c_in * shift + 2.2
    slice_stack(axes, x_kernel, row_one - 1, k, k, inputs)
    label(x_kernel + k / 2 + shift, row_one - k - 1.4, f"one kernel {k}×{k}×{c_in}\n(one slice per input channel)")
    symbol(x_kernel + k + c_in * shift + 1.0, row_one - n / 2, "→")
    x_out = x_kernel + k + c_in * shift + 2.4
    slice_stack(axes, x_out, row_one - 1, out, out, [filters[0]])
    axes.add_patch(Rectangle((x_out, row_one - 2), 1, 1, fill=False, edgecolor=accent(1), linewidth=2.2))
    label(x_out + out / 2, row_one - out - 1.4, f"one output channel\n{out}×{out}")
    axes.text(x_out + out + 1.0, row_one - 1.2,
              f"each value: the {k}·{k}·{c_in} = {k * k * c_in}\nproducts of a window and\n"
              "the kernel, summed,\nplus the bias", ha="left", va="top", fontsize=11, color=scheme().ink)

    # Several filters: each has its own kernel and makes its own output channel; they stack.
    slice_stack(axes, 0, row_two, n, n, inputs)
    label(n / 2 + shift, row_two - n - 0.9, f"input {n}×{n}×{c_in}")
    symbol(n + c_in * shift + 0.9, row_two - n / 2, "∗")
    x_kernels, cell, pitch = n + c_in * shift + 2.2, 0.7, 3.6
    for index, fill in enumerate(filters):
        left, top = x_kernels + (index % 2) * pitch, row_two + 0.4 - (index // 2) * 3.4
        slice_stack(axes, left, top, k, k, [fill] * c_in, shift=0.3, cell=cell)
        label(left + k * cell / 2, top - k * cell - 0.15, f"filter {index + 1}", size=10)
    label(x_kernels + pitch - 0.2, row_two - n - 0.9, f"{c_out} kernels, each {k}×{k}×{c_in}")
    symbol(x_kernels + 2 * pitch + 0.6, row_two - n / 2, "→")
    x_outs = x_kernels + 2 * pitch + 2.0
    slice_stack(axes, x_outs, row_two - 1, out, out, filters)
    label(x_outs + out / 2 + shift, row_two - out - 1.4, f"output {out}×{out}×{c_out}\n(one channel per filter)")
    axes.text(x_outs + out + c_out * shift + 0.6, row_two - 1.2,
              "each filter makes\none output channel;\nthey stack along\nthe depth axis", ha="left", va="top",
              fontsize=11, color=scheme().ink)

    axes.set(xlim=(-0.3, 28.5), ylim=(-1.3, row_one + 1.3), aspect="equal")
    bare(axes)
    save(figure, path)


# --- Max pooling ---------------------------------------------------------------------------------------------

def max_pooling(path: Path, values: np.ndarray, size: int = 2) -> None:
    """2×2 max pooling with stride 2 on a small map of numbers: each window keeps its largest value."""
    pooled = max_pool2d(values[:, :, np.newaxis].astype(float), size)[:, :, 0]
    rows, cols = values.shape
    fills = [[tint(i // size * (cols // size) + j // size) for j in range(cols)] for i in range(rows)]
    bold = np.zeros(values.shape, dtype=bool)
    for i in range(pooled.shape[0]):
        for j in range(pooled.shape[1]):
            window = values[i * size:(i + 1) * size, j * size:(j + 1) * size]
            r, c = np.unravel_index(window.argmax(), window.shape)
            bold[i * size + r, j * size + c] = True
    out_fills = [[fills[i * size][j * size] for j in range(pooled.shape[1])] for i in range(pooled.shape[0])]
    figure, axes = plt.subplots(1, 2, figsize=(6.2, 3.2), gridspec_kw={"width_ratios": [rows, pooled.shape[0]],
                                                                        "wspace": 0.6})
    number_grid(axes[0], values, fills=fills, bold=bold, title=f"input {rows}×{cols}, one channel")
    number_grid(axes[1], pooled, fills=out_fills, bold=np.ones(pooled.shape, dtype=bool),
                title=f"max pooled {pooled.shape[0]}×{pooled.shape[1]}")
    figure.canvas.draw()
    between(figure, axes[0], axes[1], "→")
    save(figure, path)


def receptive_field_growth(path: Path, digit: np.ndarray, pooled: keras.Model, unpooled: keras.Model) -> None:
    """The input region one unit of each Conv2D layer sees, with max pooling and without."""
    figure, axes = plt.subplots(1, 2, figsize=(7.0, 3.6), gridspec_kw={"wspace": 0.08})
    for axes_, model, label in [(axes[0], pooled, "with max pooling"), (axes[1], unpooled, "without pooling")]:
        layers = window_layers(model)
        sizes = receptive_fields([(k, s) for _, k, s in layers])
        convs = [size for (kind, _, _), size in zip(layers, sizes) if kind == "Conv2D"]
        show_digit(axes_, digit, f"{label}: " + " → ".join(f"{size}×{size}" for size in convs))
        for index, size in enumerate(convs):
            top = (digit.shape[0] - size) // 2
            outline(axes_, top, top, size, accent(index), width=3)
    handles = [plt.Line2D([], [], color=accent(index), linewidth=3) for index in range(len(convs))]
    axes[0].legend(handles, [f"Conv2D layer {index + 1}" for index in range(len(convs))], loc="upper center",
                   bbox_to_anchor=(1.04, -0.02), ncol=len(convs), frameon=False, fontsize=10)
    save(figure, path)


def accuracy_against_shift(path: Path, results: Path) -> None:
    """Test accuracy against the shift of the test digits, one line per model with its 95% band over seeds,
    redrawn from the results of code/translation_experiment.py."""
    import json

    from convnets.stats import mean_interval

    record = json.loads(results.read_text())
    shifts = record["settings"]["shifts"]
    labels = {"dense": "dense baseline", "convnet": "the book's convnet\n(Flatten)",
              "global-pooling": "convnet with global\naverage pooling"}
    figure, axes = plt.subplots(figsize=(7.4, 4.0))
    for color, row in zip(scheme().accents, record["results"]):
        intervals = [mean_interval(values) for values in row["accuracy_by_shift"]]
        axes.plot(shifts, [i.mean for i in intervals], color=color, marker="o", linewidth=2,
                  label=labels.get(row["model"], row["model"]))
        axes.fill_between(shifts, [i.low for i in intervals], [i.high for i in intervals], color=color,
                          alpha=0.2, linewidth=0)
    axes.axhline(0.1, color=scheme().faint, linestyle=":", linewidth=1)
    axes.annotate("chance: 10%", (shifts[-1], 0.1), xytext=(0, 4), textcoords="offset points", ha="right",
                  fontsize=9, color=scheme().faint)
    axes.set(xticks=shifts, ylim=(0, 1), xlabel="shift of the test digits, in pixels down and right",
             ylabel="test accuracy")
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.grid(axis="y")
    axes.legend(frameon=False, fontsize=9, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    settings = record["settings"]
    axes.set_title(f"Trained on centered digits, tested on shifted ones "
                   f"({settings['seeds']} seeds, 95% intervals)", fontsize=10)
    save(figure, path)


# --- The trained convnet -------------------------------------------------------------------------------------

def first_conv(model: keras.Model) -> keras.layers.Conv2D:
    """The model's first Conv2D layer."""
    return next(layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D))


def first_layer_filters(path: Path, convnet: keras.Model, columns: int = 8) -> None:
    """The 32 learned 3×3 kernels of the first Conv2D layer, red positive and blue negative."""
    kernels = np.asarray(first_conv(convnet).get_weights()[0])[:, :, 0, :]
    count = kernels.shape[-1]
    rows = math.ceil(count / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(1.0 * columns, 1.05 * rows))
    bound = np.abs(kernels).max()
    for index, axes_ in enumerate(axes.flat):
        axes_.set(xticks=[], yticks=[])
        if index < count:
            axes_.imshow(kernels[:, :, index], cmap="RdBu_r", vmin=-bound, vmax=bound)
            axes_.set_title(str(index), fontsize=8, pad=2)
        else:
            axes_.set_visible(False)
    save(figure, path)


def feature_maps(path: Path, convnet: keras.Model, digit: np.ndarray, per_layer: int = 8) -> None:
    """The most active channels of each Conv2D layer for one test digit."""
    convs = [layer for layer in convnet.layers if isinstance(layer, keras.layers.Conv2D)]
    probe = keras.Model(convnet.inputs[0], [layer.output for layer in convs])
    maps = probe(digit[np.newaxis, :, :, np.newaxis].astype("float32") / 255)
    figure, axes = plt.subplots(len(convs), per_layer + 1, figsize=(1.2 * (per_layer + 1), 1.45 * len(convs)),
                                gridspec_kw={"hspace": 0.45, "wspace": 0.08})
    for row, activation in enumerate(maps):
        activation = np.asarray(activation)[0]
        strongest = np.argsort(activation.mean(axis=(0, 1)))[::-1][:per_layer]
        if row == 0:
            show_digit(axes[row, 0], digit, "input")
        else:
            axes[row, 0].set_visible(False)
        height, width, channels = activation.shape
        axes[row, 1].set_title(f"Conv2D {row + 1}: {height}×{width}×{channels}, the {per_layer} most active channels",
                               fontsize=9, loc="left")
        for column, channel in enumerate(strongest, start=1):
            axes[row, column].imshow(activation[:, :, channel], cmap="magma", vmin=0)
            axes[row, column].set(xticks=[], yticks=[])
            axes[row, column].set_xlabel(f"ch {channel}", fontsize=8, labelpad=1)
    figure.text(0.5, 0.06, "Each map has its own color scale: black is 0, the brightest color is that map's "
                "largest value.", ha="center", va="top", fontsize=9)
    save(figure, path)


# --- The first chapter -------------------------------------------------------------------------------------------

def layer_caption(layer: keras.layers.Layer) -> str:
    """A layer's type and its settings, in a few words: "Conv2D, 32 filters 3×3"."""
    if isinstance(layer, keras.layers.InputLayer):
        return "Input"
    if isinstance(layer, keras.layers.Conv2D):
        k = layer.kernel_size[0]
        return f"Conv2D, {layer.filters} filters {k}×{k}"
    if isinstance(layer, keras.layers.MaxPooling2D):
        return "MaxPooling2D {}×{}".format(*layer.pool_size)
    if isinstance(layer, keras.layers.Dense):
        return f"Dense, {layer.units} units"
    return type(layer).__name__


def model_shapes(path: Path, model: keras.Model) -> None:
    """The whole model, top to bottom, one row per layer as `model.layers` has them: each output drawn to scale
    (a square per map size, stacked deeper as the channels grow; a bar for a vector), its shape and its parameter
    count. A narrow, tall layout, so that a phone shows it at full width with large text."""
    rows = []
    for layer in model.layers:
        shape = tuple(int(n) for n in layer.output.shape[1:])
        if len(shape) == 3:
            side = 0.4 + 1.6 * shape[0] / 28
            slices = 1 if shape[2] == 1 else 1 + round(math.log2(shape[2] / 16))
            height = side + 0.16 * (slices - 1)
        else:
            side, slices, height = 0.0, 0, 0.3
        rows.append((layer, shape, side, slices, height))
    gap, left, text_x, text_span = 0.45, 0.2, 3.2, 1.5  # text_span: the height of a row's three lines of text
    total = sum(max(row[4], text_span) for row in rows) + gap * (len(rows) - 1)
    figure, axes = plt.subplots(figsize=(4.4, 0.42 * total + 0.2))
    colors = {keras.layers.Conv2D: 0, keras.layers.MaxPooling2D: 2, keras.layers.Dense: 3}
    top = total
    for index, (layer, shape, side, slices, height) in enumerate(rows):
        kind = next((value for cls, value in colors.items() if isinstance(layer, cls)), None)
        fill, edge = (scheme().neutral, scheme().edge) if kind is None else (tint(kind), accent(kind))
        span = max(height, text_span)
        middle = top - span / 2
        if slices:  # a map: squares stacked back to front, each one step down and to the right
            for step in range(slices):
                shift = 0.16 * (slices - 1 - step)
                axes.add_patch(Rectangle((left + shift, middle - height / 2 + (0.16 * (slices - 1) - shift)), side, side,
                                         facecolor=fill, edgecolor=edge, linewidth=1.5))
        else:  # a vector: a row of cells, as many as it has values up to 12, then longer cells
            width, cells = 2.4, min(shape[0], 12)
            for cell in range(cells):
                axes.add_patch(Rectangle((left + cell * width / cells, middle - height / 2), width / cells, height,
                                         facecolor=fill, edgecolor=edge, linewidth=1.2))
        size = " × ".join(map(str, shape))
        params = layer.count_params()
        axes.text(text_x, middle + 0.28, layer_caption(layer), fontsize=13, fontweight="bold", va="bottom",
                  color=scheme().ink)
        axes.text(text_x, middle + 0.2, size, fontsize=13, va="top", color=scheme().ink)
        if params:
            axes.text(text_x, middle - 0.35, f"{params:,} parameters", fontsize=11, va="top", color=scheme().faint)
        if index < len(rows) - 1:
            below = top - span - gap - max(rows[index + 1][4], text_span) / 2 + rows[index + 1][4] / 2
            axes.annotate("", xy=(left + 1.2, below + 0.06), xytext=(left + 1.2, middle - height / 2 - 0.06),
                          arrowprops={"arrowstyle": "-|>", "color": scheme().faint, "linewidth": 1.5})
        top -= span + gap
    axes.set(xlim=(0, 8.4), ylim=(-0.1, total + 0.1), aspect="equal")
    bare(axes)
    save(figure, path)


def misread_digits(path: Path, convnet: keras.Model, images: np.ndarray, labels: np.ndarray, count: int = 12,
                   columns: int = 4) -> None:
    """The first `count` test digits the convnet gets wrong, each titled with its label and the model's answer."""
    predicted = np.asarray(convnet.predict(images[..., np.newaxis].astype("float32") / 255, verbose=0)).argmax(axis=1)
    wrong = np.flatnonzero(predicted != labels)[:count]
    rows = math.ceil(len(wrong) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(1.35 * columns, 1.9 * rows),
                                gridspec_kw={"hspace": 0.55, "wspace": 0.12})
    for axes_, index in zip(axes.flat, wrong):
        show_digit(axes_, images[index])
        axes_.set_title(f"label {labels[index]}\nread {predicted[index]}", fontsize=14, linespacing=1.1)
    for axes_ in axes.flat[len(wrong):]:
        axes_.set_visible(False)
    save(figure, path)


def plot_training_curves(histories: dict[str, dict[str, list[float]]], path: Path, title: str = "") -> None:
    """Loss and accuracy per epoch, one line per run, saved as a PNG."""
    figure, (loss_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(9, 3.4), constrained_layout=True)
    for label, history in histories.items():
        epochs = range(1, len(history["loss"]) + 1)
        loss_axes.plot(epochs, history["loss"], marker="o", label=label)
        accuracy_axes.plot(epochs, history["accuracy"], marker="o", label=label)
    loss_axes.set(xlabel="epoch", ylabel="training loss", title="Loss")
    accuracy_axes.set(xlabel="epoch", ylabel="training accuracy", title="Accuracy")
    for axes in (loss_axes, accuracy_axes):
        axes.grid()
        axes.legend()
        axes.xaxis.get_major_locator().set_params(integer=True)
    if title:
        figure.suptitle(title)
    save_figure(figure, path, dpi=120)
