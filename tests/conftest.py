"""Fixtures shared by the suite."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")


@pytest.fixture(scope="session")
def mnist():
    """The verified MNIST arrays from data/mnist.npz (`make data` provisions it)."""
    from convnets.data import LOCAL_FILE, read_npz

    if not LOCAL_FILE.exists():
        pytest.fail("data/mnist.npz is missing: run `make data` (make test does it for you)")
    return read_npz(LOCAL_FILE)
