"""Publish snaps/ and the chapters' companion scripts with the site, straight from where they live.

- every file in snaps/ (figures, experiment results) is served at snaps/NAME, so pages link `snaps/NAME`;
- every script in code/notebooks/ that mkdocs-jupyter's `include` patterns name becomes a notebook page
  at code/notebooks/NAME/, so pages link `code/notebooks/NAME.py`, with a download link for a Jupyter
  notebook (.ipynb) made from it;
- the `# --8<-- [start:NAME]` section markers that embed those scripts in the chapters are left out of
  the notebooks, where they mean nothing.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePath

import jupytext
import nbformat
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

from convnets.paths import ROOT, SNAPS_DIR as SNAPS

NOTEBOOKS = ROOT / "code" / "notebooks"
SNAP_TYPES = ("*.png", "*.json", "*.bin")
MARKER_LINE = re.compile(r"^[ \t]*# -+8<-+ \[(?:start|end):[\w-]+\][ \t]*\n", re.M)
# The same marker in a notebook page: highlighted (a comment span on its own line), then as the plain
# text that the page's copy button copies.
MARKER_HTML = (re.compile(r'<span class="c1"># -+8&lt;-+ \[(?:start|end):[\w-]+\]</span>\n'),
               re.compile(r'# -+8&lt;-+ \[(?:start|end):[\w-]+\]\n?'))


def notebook_scripts(config: MkDocsConfig) -> list[Path]:
    """The scripts in code/notebooks/ that mkdocs-jupyter's `include` patterns select."""
    jupyter = config.plugins.get("mkdocs-jupyter")
    patterns = jupyter.config["include"] if jupyter else []
    return [path for path in sorted(NOTEBOOKS.glob("*.py")) if any(PurePath(path).match(p) for p in patterns)]


def repository_file(config: MkDocsConfig, path: Path) -> File:
    """A file of the repository, published at its path relative to the repository root."""
    return File(path.relative_to(ROOT).as_posix(), src_dir=str(ROOT), dest_dir=config.site_dir,
                use_directory_urls=config.use_directory_urls)


def is_notebook(page: Page) -> bool:
    return page.file.src_uri.startswith("code/notebooks/") and page.file.src_uri.endswith(".py")


@event_priority(50)  # before mkdocs-jupyter, which turns the scripts added here into notebook pages
def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add snaps/ and the notebook scripts to the site's files."""
    for pattern in SNAP_TYPES:
        for path in sorted(SNAPS.glob(pattern)):
            files.append(repository_file(config, path))
    for script in notebook_scripts(config):
        files.append(repository_file(config, script))
    return files


def on_page_content(content: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Drop the section markers from a notebook page and put its download links on top."""
    if not is_notebook(page):
        return content
    stem = Path(page.file.src_uri).stem
    links = (f'<p class="notebook-downloads">'
             f'<a class="md-button md-button--primary" href="{stem}.ipynb" download>Download the notebook (.ipynb)</a> '
             f'<a class="md-button" href="{stem}.py" download>Download the script (.py)</a></p>\n')
    for marker in MARKER_HTML:
        content = marker.sub("", content)
    return links + content


def notebook_from_script(script: Path) -> nbformat.NotebookNode:
    """The script as a Jupyter notebook, one cell per `# %%` section, without the section markers."""
    notebook = jupytext.reads(MARKER_LINE.sub("", script.read_text(encoding="utf-8")), fmt="py:percent")
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.validate(notebook)
    return notebook


def on_post_build(config: MkDocsConfig) -> None:
    """Write each notebook page's .ipynb beside it (mkdocs-jupyter's include_source copies the .py)."""
    for script in notebook_scripts(config):
        target = Path(config.site_dir) / script.relative_to(ROOT).with_suffix("") / f"{script.stem}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook_from_script(script), target)
