"""The files a training run keeps in its output folder, each written atomically."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

MODEL_FILE = "model.keras"
HISTORY_FILE = "history.json"
SETTINGS_FILE = "settings.json"
CURVES_FILE = "curves.png"
LOG_FILE = "epochs.jsonl"
BACKUP_DIR = "backup"
RUN_LOG_FILE = "train.log"  # the framework's own log lines, and the trace of an unexpected error


def atomic_write_text(path: Path, text: str) -> None:
    """Write `text` to `path` so that readers see the old file or the new one, never half of one."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def write_json(path: Path, data: dict) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def save_model_atomically(model, path: Path) -> None:
    """Save a Keras model beside `path`, then rename it into place."""
    tmp = path.with_name(f".partial-{path.name}")
    try:
        model.save(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


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
