"""Expand `--8<--` lines with pymdownx.snippets itself, configured as the site configures it."""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import markdown
from pymdownx.snippets import SnippetMissingError

from pagetest.site import site_config

__all__ = ["SnippetMissingError", "expand", "snippet_config"]


def snippet_config(mkdocs_yml: Path | None) -> dict:
    """The site's pymdownx.snippets options, with base paths made absolute and downloads off."""
    options: dict = {}
    root = Path.cwd() if mkdocs_yml is None else mkdocs_yml.parent
    if mkdocs_yml is not None and mkdocs_yml.exists():
        options = dict(site_config(mkdocs_yml).mdx_configs.get("pymdownx.snippets", {}))
    base = options.get("base_path", ["."])
    options["base_path"] = [str((root / b).resolve()) for b in ([base] if isinstance(base, str) else base)]
    options["check_paths"] = True  # a missing file or section is an error, whatever the site says
    options["url_download"] = False  # the suite never touches the network
    return options


@functools.lru_cache(maxsize=None)
def _preprocessor(mkdocs_yml: Path | None):
    logging.getLogger("MARKDOWN").setLevel(logging.WARNING)
    md = markdown.Markdown(extensions=["pymdownx.snippets"],
                           extension_configs={"pymdownx.snippets": snippet_config(mkdocs_yml)})
    return md.preprocessors["snippet"]


def expand(code: str, mkdocs_yml: Path | None) -> str:
    """`code` with every snippet line replaced by the lines it includes (SnippetMissingError if one is missing)."""
    lines = _preprocessor(mkdocs_yml).run(code.splitlines())
    return "\n".join(lines) + ("\n" if lines else "")
