"""Make every page work offline: serve MathJax from the site and drop the CDN loaders of notebook pages."""

from __future__ import annotations

import re
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

from convnets.paths import ROOT

MATHJAX = ROOT / "node_modules" / "mathjax"
SITE_DIR = "assets/mathjax"
# The combined TeX-to-HTML bundle, and what it loads at run time: its fonts, the TeX extensions that
# \require or autoload pulls in, and the menu's accessibility tools (explorer, speech rules).
BUNDLE = "tex-chtml.js"
RUNTIME_PARTS = ("output/chtml/fonts/woff-v2", "input/tex/extensions", "ui", "a11y", "sre")

# nbconvert's templates load MathJax 2 and Mermaid from a CDN. MathJax 3 from the site typesets the
# page instead, and the notebooks have no Mermaid diagrams.
CDN_BLOCKS = (
    re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.S),
    re.compile(r"<script type=\"module\">(?:(?!</script>).)*?\.jp-Mermaid.*?<!-- End of mermaid configuration -->", re.S),
)


def mathjax_sources() -> list[tuple[Path, str]]:
    """Each MathJax file the site serves, with its path under the site."""
    es5 = MATHJAX / "es5"
    bundle = es5 / BUNDLE
    if not bundle.is_file():
        raise PluginError(f"{bundle.relative_to(ROOT)} is missing: run `make setup` (it runs `npm ci`)")
    sources = [(bundle, BUNDLE), (MATHJAX / "LICENSE", "LICENSE")]
    for part in RUNTIME_PARTS:
        for path in sorted((es5 / part).rglob("*")):
            if path.is_file():
                sources.append((path, path.relative_to(es5).as_posix()))
    return sources


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Fail early, with the fix, when `npm ci` has not run."""
    mathjax_sources()
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add MathJax to the site's files, so `mkdocs build` and `mkdocs serve` both serve it."""
    for source, relative in mathjax_sources():
        files.append(File.generated(config, f"{SITE_DIR}/{relative}", abs_src_path=str(source)))
    return files


def on_post_page(output: str, page: Page, config: MkDocsConfig) -> str:
    """Remove the CDN script blocks that notebook pages carry."""
    for block in CDN_BLOCKS:
        output = block.sub("", output)
    return output
