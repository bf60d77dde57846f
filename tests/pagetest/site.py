"""What the built site contains: its Python blocks as a reader sees them, and its notebook scripts."""

from __future__ import annotations

import contextlib
import copy
import functools
import html.parser
import logging
import os
from collections import Counter
from pathlib import Path

PYTHON_CLASSES = {"language-python", "language-py", "language-python3", "language-pycon"}
LINE_NUMBER_CLASSES = {"linenos", "linenodiv"}


@functools.lru_cache(maxsize=None)
def site_config(mkdocs_yml: Path):
    """The validated MkDocs configuration (the same object `mkdocs build` works from)."""
    from mkdocs.config import load_config

    logging.getLogger("mkdocs").setLevel(logging.ERROR)
    with contextlib.chdir(mkdocs_yml.parent):
        return load_config(str(mkdocs_yml))


def docs_pages(mkdocs_yml: Path) -> list[Path]:
    """Every Markdown page MkDocs builds from docs_dir."""
    return sorted(Path(site_config(mkdocs_yml).docs_dir).rglob("*.md"))


class _PythonBlocks(html.parser.HTMLParser):
    """Collects the text of the code elements inside each element marked as Python."""

    VOID = {"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self._stack: list[tuple[str, set[str]]] = []
        self._python_at: int | None = None  # stack depth of the element that opened the current block
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID:
            return
        classes = set((dict(attrs).get("class") or "").split())
        self._stack.append((tag, classes))
        if self._python_at is None and classes & PYTHON_CLASSES:
            self._python_at = len(self._stack)

    def handle_endtag(self, tag: str) -> None:
        if not any(open_tag == tag for open_tag, _ in self._stack):
            return
        while self._stack:
            open_tag, _ = self._stack.pop()
            if self._python_at is not None and len(self._stack) < self._python_at:
                self.blocks.append("".join(self._text))
                self._text, self._python_at = [], None
            if open_tag == tag:
                return

    def handle_data(self, data: str) -> None:
        if self._python_at is None:
            return
        tags = [open_tag for open_tag, _ in self._stack]
        hidden = any(classes & LINE_NUMBER_CLASSES for _, classes in self._stack)
        if "code" in tags and not hidden:
            self._text.append(data)


def render(page: Path, mkdocs_yml: Path) -> str:
    """A page's HTML from the site's Markdown extensions, with each fence's language kept as a class."""
    import markdown

    config = site_config(mkdocs_yml)
    extension_configs = copy.deepcopy(dict(config.mdx_configs))
    if "pymdownx.highlight" in config.markdown_extensions:
        extension_configs.setdefault("pymdownx.highlight", {})["pygments_lang_class"] = True
    extension_configs.setdefault("pymdownx.snippets", {})["url_download"] = False
    with contextlib.chdir(mkdocs_yml.parent):
        md = markdown.Markdown(extensions=config.markdown_extensions, extension_configs=extension_configs)
        return md.convert(page.read_text(encoding="utf-8"))


def rendered_python_blocks(page: Path, mkdocs_yml: Path) -> list[str]:
    """The Python blocks a reader sees on the built page, as plain text."""
    parser = _PythonBlocks()
    parser.feed(render(page, mkdocs_yml))
    return [normalize_code(block) for block in parser.blocks]


def normalize_code(code: str) -> str:
    """Code without trailing spaces or blank lines at either end, for comparing two renderings."""
    return "\n".join(line.rstrip() for line in code.strip("\n").splitlines()).strip("\n")


def notebook_scripts(mkdocs_yml: Path) -> list[Path]:
    """The Python scripts mkdocs-jupyter turns into notebook pages, found as a build finds them."""
    from mkdocs.structure.files import get_files
    from mkdocs_jupyter.plugin import NotebookFile

    config = site_config(mkdocs_yml)
    with contextlib.chdir(mkdocs_yml.parent):
        config = copy.copy(config)
        config.plugins.on_startup(command="build", dirty=False)
        config = config.plugins.on_config(config)
        config.plugins.on_pre_build(config=config)
        files = config.plugins.on_files(get_files(config), config=config)
    sources = [f.file.abs_src_path for f in files if isinstance(f, NotebookFile)]  # the wrapped file's source
    return sorted({Path(os.path.realpath(source)) for source in sources if source and source.endswith(".py")})


def blocks_not_run(page: Path, mkdocs_yml: Path, sources: list[str]) -> list[str]:
    """The Python blocks a reader sees on `page` that are none of `sources` (the code the suite runs)."""
    remaining = Counter(normalize_code(source) for source in sources)
    missing = []
    for code in rendered_python_blocks(page, mkdocs_yml):
        if remaining[code] > 0:
            remaining[code] -= 1
        else:
            missing.append(code)
    return missing
