"""What can be trained, by name: the models. No Keras here, so that the scripts check their arguments against
these names before any framework loads."""

from __future__ import annotations

BOOK_MODELS = ("convnet", "no-max-pool", "dense")  # the book's models: what train.py offers
POOLINGS = ("max", "average", "strided", "none")  # the pooling experiment's ways to downsample the convnet


def pooling_model(pooling: str) -> str:
    """The model name of the convnet that downsamples with `pooling` (see models.build_pooling_variant)."""
    return f"pooling-{pooling}"


MODEL_NAMES = (*BOOK_MODELS, *map(pooling_model, POOLINGS))  # every model run_training can train
SHIFT_MODELS = ("dense", "convnet", "global-pooling")  # the translation experiment's (models.CANVAS_MODELS)
