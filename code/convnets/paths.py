"""Where the project keeps its data and its training runs."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = ROOT / "data"
RUNS_DIR = ROOT / "runs"
LOGS_DIR = RUNS_DIR / "logs"  # the scripts' log files (train.py keeps its own in --output)
SNAPS_DIR = ROOT / "snaps"
