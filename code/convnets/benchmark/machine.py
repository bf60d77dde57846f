"""Describe the machine a benchmark ran on: processor, threads, accelerators and library versions."""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata
from pathlib import Path

from convnets.devices import CPUINFO, backend_version, cpu_flags, gpu_names, native_bfloat16

NOTABLE_FLAG_PREFIXES = ("avx512", "amx", "avx2", "fma", "avx_vnni")
THREAD_VARIABLES = ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "TF_ENABLE_ONEDNN_OPTS",
                    "XLA_FLAGS", "KERAS_BACKEND", "CUDA_VISIBLE_DEVICES", "JAX_PLATFORMS")
PACKAGES = ("keras", "numpy", "tensorflow", "tensorflow-cpu", "jax", "jaxlib", "torch", "matplotlib")


def notable_cpu_flags(flags: list[str]) -> list[str]:
    """The flags that matter for neural-network arithmetic: AVX2, FMA, AVX-512 and AMX."""
    return [flag for flag in flags if flag.startswith(NOTABLE_FLAG_PREFIXES)]


def cpu_model(cpuinfo: Path = CPUINFO) -> str:
    """The processor's model name."""
    try:
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def summary_line(cpuinfo: Path = CPUINFO) -> str:
    """One line on the processor: model, cores, and which of the instruction sets that matter here it has."""
    flags = cpu_flags(cpuinfo)
    has = {name: name in flags for name in ("avx2", "avx512f", "avx512_vnni", "avx512_bf16")}
    has["amx"] = any(flag.startswith("amx") for flag in flags)
    listed = ", ".join(f"{name} {'yes' if present else 'no'}" for name, present in has.items())
    return f"{cpu_model(cpuinfo)}, {os.cpu_count()} cores; {listed}"


def package_versions() -> dict[str, str]:
    """Versions of the installed packages that shape the timings."""
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def onednn_enabled() -> bool | None:
    """Whether TensorFlow runs its oneDNN kernels (None when TensorFlow is not the backend)."""
    if "tensorflow" not in sys.modules:
        return None
    from tensorflow.python.util import _pywrap_util_port

    return bool(_pywrap_util_port.IsMklEnabled())


def backend_threads() -> dict[str, int | None]:
    """The backend's own thread pools (0 means: one per core, the library's default)."""
    import keras

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return {"intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
                "inter_op": tf.config.threading.get_inter_op_parallelism_threads()}
    if keras.backend.backend() == "torch":
        import torch

        return {"intra_op": torch.get_num_threads(), "inter_op": torch.get_num_interop_threads()}
    return {}


def describe() -> dict:
    """Everything the benchmark records about where it ran."""
    import keras

    flags = cpu_flags()
    return {
        "platform": platform.platform(),
        "cpu_model": cpu_model(),
        "cpu_cores": os.cpu_count(),
        "cpu_flags": notable_cpu_flags(flags),
        "native_bfloat16": native_bfloat16(flags),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "gpus": gpu_names(),
        "backend": keras.backend.backend(),
        "backend_version": backend_version(),
        "threads": backend_threads(),
        "environment": {name: os.environ[name] for name in THREAD_VARIABLES if name in os.environ},
        "versions": package_versions(),
    }
