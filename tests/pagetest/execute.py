"""Run a page's blocks in one namespace, reproducibly, capturing what a reader's terminal would show."""

from __future__ import annotations

import contextlib
import io
import linecache
import os
import random
from pathlib import Path

import numpy as np

SEED = 0
COLUMNS = "80"  # what Rich and Keras print to when the output is not a terminal


def reproducible_start() -> None:
    """Reset Keras's layer names and set every seed and TensorFlow's op determinism, before a page runs."""
    random.seed(SEED)
    np.random.seed(SEED)
    import keras

    keras.backend.clear_session()
    keras.utils.set_random_seed(SEED)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def new_namespace(page: Path) -> dict:
    """The globals a page's blocks share: those of a script run as __main__."""
    return {"__name__": "__main__", "__file__": str(page), "__builtins__": __builtins__}


def compile_block(source: str, filename: str, first_line: int):
    """Compile `source`, whose first line is the page's line `first_line`, so tracebacks show page lines."""
    padded = "\n" * (first_line - 1) + source
    linecache.cache[filename] = (len(padded), None, padded.splitlines(keepends=True), filename)
    return compile(padded, filename, "exec", dont_inherit=True)


@contextlib.contextmanager
def _terminal_width():
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = COLUMNS
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = saved


def run(code, namespace: dict, stdout: io.StringIO) -> None:
    """Execute compiled code in `namespace`, writing what it prints to `stdout` (kept if it raises)."""
    with _terminal_width(), contextlib.redirect_stdout(stdout):
        exec(code, namespace)
