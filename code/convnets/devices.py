"""Choose where Keras trains: CPU or an NVIDIA GPU, whichever backend is installed, and what the CPU can do."""

from __future__ import annotations

import os
from pathlib import Path

DEVICES = ("auto", "cpu", "gpu")
CPUINFO = Path("/proc/cpuinfo")
BFLOAT16_FLAGS = ("avx512_bf16", "amx_bf16")


class DeviceError(Exception):
    """The requested device is not available."""


# Set before TensorFlow loads, unless the user set them. oneDNN is on everywhere: TensorFlow turns it on
# by itself only on CPUs with AVX-512 VNNI/BF16 or AMX, so this makes AVX2-only CPUs run the same kernels.
FRAMEWORK_DEFAULTS = {"TF_CPP_MIN_LOG_LEVEL": "2", "TF_ENABLE_ONEDNN_OPTS": "1"}


def framework_defaults() -> None:
    """Apply FRAMEWORK_DEFAULTS where the environment does not already say otherwise."""
    for name, value in FRAMEWORK_DEFAULTS.items():
        os.environ.setdefault(name, value)


def prepare_environment(choice: str, deterministic: bool = False) -> None:
    """Set environment variables that must be in place before Keras is imported."""
    framework_defaults()
    if deterministic:
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_gpu_deterministic_ops=true").strip()
    if choice == "cpu":
        os.environ["CUDA_VISIBLE_DEVICES"] = "-1"
        os.environ["JAX_PLATFORMS"] = "cpu"


def cpu_flags(cpuinfo: Path = CPUINFO) -> list[str]:
    """The processor's feature flags from /proc/cpuinfo (empty where the file is missing)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return []
    for line in text.splitlines():
        if line.startswith("flags"):
            return sorted(set(line.split(":", 1)[1].split()))
    return []


def native_bfloat16(flags: list[str] | None = None) -> bool:
    """Whether the processor computes in bfloat16 natively (AVX512-BF16 or AMX), not by emulation."""
    return any(flag in (flags if flags is not None else cpu_flags()) for flag in BFLOAT16_FLAGS)


def gpu_names() -> list[str]:
    """Names of the GPUs the active Keras backend can use."""
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        return [tf.config.experimental.get_device_details(gpu).get("device_name", gpu.name) for gpu in gpus]
    if backend == "jax":
        import jax

        return [device.device_kind for device in jax.devices() if device.platform == "gpu"]
    if backend == "torch":
        import torch

        return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return []


def backend_version() -> str:
    """The active Keras backend and its version, as in `jax 0.10.2`."""
    import importlib

    import keras

    backend = keras.backend.backend()
    return f"{backend} {importlib.import_module(backend).__version__}"


def describe_device(choice: str) -> str:
    """Check `choice` against the hardware and return a line saying where training runs."""
    import keras

    gpus = [] if choice == "cpu" else gpu_names()
    if choice == "gpu" and not gpus:
        raise DeviceError(
            f"--device gpu was requested but the Keras backend ({keras.backend.backend()}) sees no GPU; "
            "install the CUDA build with `make setup GPU=1` or use --device cpu"
        )
    software = f"Keras {keras.__version__}, {backend_version()} backend"
    if gpus:
        return f"Training on GPU: {gpus[0]} ({software})"
    return f"Training on CPU: {os.cpu_count()} cores ({software})"


def enable_determinism() -> None:
    """Ask the backend for deterministic kernels (slower on some ops)."""
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    elif backend == "torch":
        import torch

        torch.use_deterministic_algorithms(True)
