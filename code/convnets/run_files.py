"""The files a training run keeps in its output folder, each written atomically."""

from __future__ import annotations

import json
import platform
import shlex
from datetime import datetime
from pathlib import Path

from convnets.atomic import atomic_path, atomic_write_text
from convnets.devices import backend_version

MODEL_FILE = "model.keras"
HISTORY_FILE = "history.json"
SETTINGS_FILE = "settings.json"
CURVES_FILE = "curves.png"
LOG_FILE = "epochs.jsonl"
BACKUP_DIR = "backup"
RUN_LOG_FILE = "train.log"  # the framework's own log lines, and the trace of an unexpected error


def write_json(path: Path, data: dict) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def write_experiment(path: Path, script: str, argv: list[str], settings: dict, machine: str, started: datetime,
                     seconds: float, results: list[dict]) -> dict:
    """Write an experiment's record (its command, settings, machine, software, timing and results) as JSON."""
    import keras

    record = {
        "command": shlex.join(["python", f"code/{script}", *argv]),
        "settings": settings,
        "machine": machine,
        "platform": f"{platform.system()} {platform.machine()}, Python {platform.python_version()}",
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "backend_version": backend_version(),
        "started": started.isoformat(timespec="seconds"),
        "duration_seconds": round(seconds, 1),
        "results": results,
    }
    write_json(path, record)
    return record


def save_model_atomically(model, path: Path) -> None:
    """Save a Keras model beside `path`, then rename it into place."""
    with atomic_path(path) as tmp:
        model.save(tmp)


def read_epoch_log(path: Path) -> dict[str, list[float]]:
    """Per-epoch metrics from an EpochLog file; an epoch logged twice keeps its latest row."""
    if not path.exists():
        return {}
    rows = {}
    for line in path.read_text().splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:  # a line cut short by a crash
            continue
        rows[row.pop("epoch")] = row
    history: dict[str, list[float]] = {}
    for epoch in sorted(rows):
        for key, value in rows[epoch].items():
            history.setdefault(key, []).append(value)
    return history
