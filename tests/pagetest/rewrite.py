"""Replace shown outputs in a page with what the blocks printed, and nothing else."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pagetest.parse import Output


class StalePage(Exception):
    """The page changed since it was read, so its outputs are not where they were."""


@dataclass(frozen=True)
class Replacement:
    output: Output
    text: str  # the new output, as printed (terminal-rendered, stripped)


def _fence_lines(output: Output, text: str) -> list[str]:
    return [output.indent + line if line else "" for line in text.splitlines()]


def rewrite(page: Path, old_text: str, replacements: list[Replacement]) -> int:
    """Write the replacements into `page`, which must still read `old_text`; returns how many outputs changed."""
    current = page.read_text(encoding="utf-8")
    if current != old_text:
        raise StalePage(f"{page} changed while its blocks ran; run `make outputs` again")
    lines = current.splitlines(keepends=True)
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    changed = 0
    for replacement in sorted(replacements, key=lambda r: r.output.content_start, reverse=True):
        out = replacement.output
        closing = lines[out.content_end].strip()
        if any(line.lstrip().startswith(closing) for line in replacement.text.splitlines()):
            raise ValueError(f"{page}:{out.line}: the new output contains its own fence {closing!r}")
        new_lines = [line + newline for line in _fence_lines(out, replacement.text)]
        changed += [line.rstrip("\r\n") for line in lines[out.content_start:out.content_end]] != \
            [line.rstrip("\r\n") for line in new_lines]
        lines[out.content_start:out.content_end] = new_lines
    new_text = "".join(lines)
    if new_text == current:
        return 0
    fd, tmp = tempfile.mkstemp(dir=page.parent, prefix=f".{page.name}.")
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        handle.write(new_text)
    os.chmod(tmp, page.stat().st_mode & 0o7777)
    os.replace(tmp, page)
    return changed
