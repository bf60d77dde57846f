"""How to train, by name: the recipes. No Keras here, so that the scripts check their arguments against these
names before any framework loads."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace


@dataclass(frozen=True)
class Recipe:
    """How to train: optimizer, learning-rate schedule, batch size, epochs, loss, precision and input pipeline."""

    name: str
    optimizer: str = "rmsprop"
    learning_rate: float | None = None  # None keeps the optimizer's Keras default
    schedule: str = "constant"  # "constant" or "warmup-cosine"
    warmup_epochs: float = 0.0
    decay_epochs: float | None = None  # the cosine reaches its floor after this many epochs (None: at the end)
    floor: float = 0.0  # the cosine's floor, as a fraction of the peak learning rate
    batch_size: int = 64
    epochs: int = 5
    label_smoothing: float = 0.0  # the share of each label's probability spread evenly over the ten classes
    mixed_precision: bool | str = False  # "auto": only where the hardware has it (GPUs, AVX512-BF16/AMX CPUs)
    jit_compile: bool | str = "auto"
    steps_per_execution: int = 1
    # "keras": fit slices the arrays itself; "gather": a tf.data pipeline of our own, without tf.data's autotuning
    # ("gather-autotuned": with it); see training.fit_data
    input_pipeline: str = "keras"

    def as_dict(self) -> dict:
        return asdict(self)


RECIPES = {
    # The book's recipe: rmsprop with Keras's defaults, batch 64, 5 epochs.
    "book": Recipe(name="book"),
    # Same architecture, for wall-clock time: Adam with a short warm-up and a cosine decay over the whole run,
    # label smoothing, bfloat16 where the processor has it, and an input pipeline without tf.data's autotuning.
    # Batch size, epochs, peak rate and smoothing are those the validation search chose
    # (convnets.benchmark.search, snaps/fast-recipe-search.json), which never reads the test set.
    "fast": Recipe(
        name="fast",
        optimizer="adam",
        learning_rate=1e-2,
        schedule="warmup-cosine",
        warmup_epochs=0.2,
        decay_epochs=1.0,
        floor=0.05,
        batch_size=128,
        epochs=1,
        label_smoothing=0.1,
        mixed_precision="auto",
        steps_per_execution=16,
        input_pipeline="gather",
    ),
}


def recipe_with(name: str, **overrides) -> Recipe:
    """A named recipe with some fields replaced (those whose value is None are kept)."""
    return replace(RECIPES[name], **{k: v for k, v in overrides.items() if v is not None})
