"""A store on disk of named entries, each a folder written whole or not at all, checked before it is read, and
filled by one process at a time. It lives in $CONVNETS_CACHE, else runs/cache."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Callable, Iterator

from convnets.paths import RUNS_DIR
from convnets.run_files import write_json

CACHE_ENV = "CONVNETS_CACHE"
MANIFEST_FILE = "manifest.json"  # the checksum of every other file of an entry, written last


def cache_dir() -> Path:
    """$CONVNETS_CACHE when set (the test suite points it at a per-session folder), else runs/cache."""
    return Path(os.environ.get(CACHE_ENV) or RUNS_DIR / "cache")


def _checksums(folder: Path) -> dict[str, str]:
    """The SHA-256 of every file in `folder` but the manifest, by its path in the folder."""
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file() and path.name != MANIFEST_FILE}


def _intact(folder: Path) -> bool:
    """Whether `folder` is a whole entry: a manifest, and every file it lists with its checksum, no more."""
    try:
        manifest = json.loads((folder / MANIFEST_FILE).read_text())
    except (OSError, ValueError):  # absent, or cut short
        return False
    return manifest == _checksums(folder)


@contextlib.contextmanager
def entry(name: str, fill: Callable[[Path], object]) -> Iterator[tuple[Path, bool]]:
    """Yield the folder of cache entry `name` and whether it was filled just now, holding its lock.

    A missing or damaged entry (a file truncated, changed, added or gone since it was written) is filled
    again first: `fill(folder)` writes into an empty folder beside the entry, a manifest of the checksums
    of what it wrote is added last, and the folder is then renamed into place, so an entry is whole or
    absent. A second process asking for the same entry waits on the lock, then reads the first's.
    """
    folder = cache_dir() / name
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        filled = not _intact(folder)
        if filled:
            partial = folder.with_name(f".partial-{name}")
            shutil.rmtree(partial, ignore_errors=True)  # an interrupted earlier attempt
            partial.mkdir()
            try:
                fill(partial)
                write_json(partial / MANIFEST_FILE, _checksums(partial))
                shutil.rmtree(folder, ignore_errors=True)
                os.replace(partial, folder)
            finally:
                shutil.rmtree(partial, ignore_errors=True)
        yield folder, filled
