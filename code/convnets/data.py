"""Load MNIST exactly as `keras.datasets.mnist.load_data()` returns it, offline first, and verify it."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from convnets.paths import DATA_DIR

ENV_VAR = "CONVNETS_MNIST"
LOCAL_FILE = DATA_DIR / "mnist.npz"

# Fingerprint of the real MNIST arrays.
FIRST_TRAIN_LABELS = (5, 0, 4, 1, 9, 2, 1, 3, 1, 4)
FIRST_TEST_LABELS = (7, 2, 1, 0, 4, 1, 4, 9, 5, 9)
TRAIN_PIXEL_SUM = 1567298545
TEST_PIXEL_SUM = 264923200
TRAIN_LABEL_COUNTS = (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949)

HOW_TO_GET = "run `make data` or `convnets-data` (both work offline), or point $CONVNETS_MNIST or --data at an mnist.npz"

Split = tuple[np.ndarray, np.ndarray]


class DataError(Exception):
    """MNIST is missing, corrupt or not what it claims to be."""


def load_mnist(path: str | os.PathLike | None = None, *, allow_download: bool = True) -> tuple[Split, Split]:
    """Return ((x_train, y_train), (x_test, y_test)) as uint8 arrays, like Keras does.

    Looks at `path`, then $CONVNETS_MNIST, then data/mnist.npz, then Keras's cache or download.
    """
    explicit = path or os.environ.get(ENV_VAR)
    if explicit:
        return read_npz(explicit)
    if LOCAL_FILE.exists():
        return read_npz(LOCAL_FILE)
    if allow_download:
        try:
            return _keras_load()
        except Exception as error:  # no network, a broken cache, ...
            raise DataError(f"MNIST not found locally and the Keras download failed ({short_error(error)}); "
                            f"{HOW_TO_GET}") from None
    raise DataError(f"MNIST not found; {HOW_TO_GET}")


def load_local_mnist(path: str | os.PathLike | None = None) -> tuple[Split, Split] | None:
    """MNIST from `path`, $CONVNETS_MNIST or data/mnist.npz, verified with NumPy alone, before any framework loads.

    None when there is no local copy (then `load_mnist` can still download it); DataError when a copy is bad.
    """
    if not (path or os.environ.get(ENV_VAR) or LOCAL_FILE.exists()):
        return None
    return load_mnist(path, allow_download=False)


def _keras_load() -> tuple[Split, Split]:
    import keras

    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    verify(x_train, y_train, x_test, y_test)
    return (x_train, y_train), (x_test, y_test)


def read_npz(path: str | os.PathLike) -> tuple[Split, Split]:
    """Read and verify an mnist.npz in Keras's layout; refuse anything else."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"MNIST file not found: {path}; {HOW_TO_GET}")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in ("x_train", "y_train", "x_test", "y_test")}
    except KeyError as error:
        raise DataError(f"{path} is not an MNIST npz: missing array {error}") from None
    except Exception as error:  # truncated zip, bad CRC, not a zip at all, ...
        raise DataError(f"{path} is corrupt or unreadable ({short_error(error)}); {HOW_TO_GET}") from None
    try:
        verify(**arrays)
    except DataError as error:
        raise DataError(f"{path}: {error}") from None
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def verify(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray) -> None:
    """Check shapes, dtypes, labels and pixel sums against the real MNIST."""
    expected_shapes = {
        "x_train": (x_train, (60000, 28, 28)),
        "y_train": (y_train, (60000,)),
        "x_test": (x_test, (10000, 28, 28)),
        "y_test": (y_test, (10000,)),
    }
    for name, (array, shape) in expected_shapes.items():
        if array.shape != shape or array.dtype != np.uint8:
            raise DataError(f"{name} is {array.dtype}{list(array.shape)}, expected uint8{list(shape)}")
    checks = [
        (tuple(y_train[:10].tolist()) == FIRST_TRAIN_LABELS, "first training labels differ"),
        (tuple(y_test[:10].tolist()) == FIRST_TEST_LABELS, "first test labels differ"),
        (tuple(np.bincount(y_train, minlength=10).tolist()) == TRAIN_LABEL_COUNTS, "training label counts differ"),
        (int(x_train.sum(dtype=np.int64)) == TRAIN_PIXEL_SUM, "training pixel sum differs"),
        (int(x_test.sum(dtype=np.int64)) == TEST_PIXEL_SUM, "test pixel sum differs"),
    ]
    for ok, problem in checks:
        if not ok:
            raise DataError(f"not the MNIST data set: {problem}")


def sha256(data: bytes) -> str:
    """The SHA-256 of `data`, in hexadecimal."""
    return hashlib.sha256(data).hexdigest()


def short_error(error: BaseException) -> str:
    """`error` in one line: its type and the first line of its message."""
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__
