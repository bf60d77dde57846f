"""Where the project keeps its data, its training runs and its experiment results.

In a checkout (this package in code/convnets/, next to pyproject.toml) they are the checkout's data/,
runs/ and snaps/, wherever Python is started. Installed with pip, data/ and runs/ are those of the
current working directory, and snaps/ is the copy of the experiment results shipped in the package.
$CONVNETS_MNIST (data.py) and $CONVNETS_CACHE (store.py) still choose the MNIST file and the model cache.
"""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
_CHECKOUT = PACKAGE_DIR.parents[1]
IN_CHECKOUT = PACKAGE_DIR.parent.name == "code" and (_CHECKOUT / "pyproject.toml").is_file()

ROOT = _CHECKOUT if IN_CHECKOUT else Path.cwd()
DATA_DIR = ROOT / "data"
RUNS_DIR = ROOT / "runs"
LOGS_DIR = RUNS_DIR / "logs"  # the scripts' log files (train.py keeps its own in --output)
SNAPS_DIR = ROOT / "snaps" if IN_CHECKOUT else PACKAGE_DIR / "snaps"
