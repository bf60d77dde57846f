"""The one way this project writes a file: to a temporary path beside it, then renamed into place."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


@contextmanager
def atomic_path(destination: Path) -> Iterator[Path]:
    """Yield a temporary path beside `destination` for the body to write; rename it into place when the body ends.

    Readers see the old file or the new one, never half of one. The temporary file keeps the destination's
    suffix (Keras and NumPy choose the format from it) and is removed if the body raises.
    """
    fd, name = tempfile.mkstemp(prefix=f".{destination.name}-", suffix=destination.suffix, dir=destination.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb+") as written:
            os.fsync(written.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, destination)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_text(destination: Path, text: str) -> None:
    """Write `text` to `destination` as UTF-8, through `atomic_path`."""
    with atomic_path(destination) as tmp:
        tmp.write_text(text, encoding="utf-8")
