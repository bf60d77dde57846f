"""Where every figure is drawn and saved: matplotlib set up once (no display), PNG files written atomically."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from convnets.atomic import atomic_path  # noqa: E402


def save_figure(figure: plt.Figure, path: Path, **options) -> None:
    """Write `figure` as a PNG at `path` (savefig's `options`), then close it."""
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", **options)
    plt.close(figure)


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
        axes.grid(alpha=0.3)
        axes.legend()
        axes.xaxis.get_major_locator().set_params(integer=True)
    if title:
        figure.suptitle(title)
    save_figure(figure, path, dpi=120)
