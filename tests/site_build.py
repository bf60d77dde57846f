"""The built site, shared by the site tests: one strict `mkdocs build` per session, and its pages parsed."""

from __future__ import annotations

import atexit
import functools
import os
import posixpath
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from helpers import ROOT

CONFIG = ROOT / "mkdocs.yml"
# Elements and attributes whose URL the browser fetches while it shows the page.
FETCHED = {
    ("img", "src"),
    ("script", "src"),
    ("source", "src"),
    ("iframe", "src"),
    ("video", "src"),
    ("video", "poster"),
    ("audio", "src"),
    ("embed", "src"),
    ("object", "data"),
    ("input", "src"),
}
# <link rel=...> values that make the browser fetch the href.
FETCHED_LINK_RELS = {"stylesheet", "icon", "shortcut", "preload", "modulepreload", "prefetch", "manifest", "apple-touch-icon"}
HEADING = re.compile(r"^h[1-6]$")
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""")


@dataclass
class Reference:
    """A URL found in a page: which tag and attribute hold it, and whether loading the page fetches it."""

    tag: str
    attr: str
    url: str
    fetched: bool


@dataclass
class ParsedPage:
    """What the tests need from one HTML file of the site."""

    path: Path
    ids: set[str] = field(default_factory=set)
    references: list[Reference] = field(default_factory=list)
    images: list[dict[str, str | None]] = field(default_factory=list)
    headings: list[tuple[int, str]] = field(default_factory=list)
    scripts: list[str] = field(default_factory=list)

    @property
    def url_path(self) -> str:
        """The page's path under the site root, as a browser sees it ("padding/index.html")."""
        return self.path.relative_to(built_site()).as_posix()


def parse(path: Path) -> ParsedPage:
    """The ids, URLs, images, headings of the main content and inline scripts of one HTML file."""
    from bs4 import BeautifulSoup

    soup, page = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser"), ParsedPage(path)
    for tag in soup.find_all(True):
        page.ids.update(tag[name] for name in (("id", "name") if tag.name == "a" else ("id",)) if tag.get(name))
        rels = {rel.lower() for rel in tag.get_attribute_list("rel") if rel}
        for attr in ("href", "src", "data", "poster"):
            if tag.get(attr) is not None:
                fetched = (tag.name, attr) in FETCHED or (tag.name == "link" and bool(rels & FETCHED_LINK_RELS))
                page.references.append(Reference(tag.name, attr, tag[attr].strip(), fetched))
        for candidate in (tag.get("srcset") or "").split(","):
            if candidate.strip():
                page.references.append(Reference(tag.name, "srcset", candidate.split()[0], True))
        _collect_css(page, tag.get("style") or "")
    page.images = [{name: tag.get(name) for name in ("src", "alt")} for tag in soup.find_all("img")]
    page.headings = [(int(heading.name[1]), " ".join(heading.get_text().split()))
                     for article in soup.find_all("article") for heading in article.find_all(HEADING)]
    page.scripts = [script.get_text() for script in soup.find_all("script") if not script.get("src")]
    for style in soup.find_all("style"):
        _collect_css(page, style.get_text())
    return page


def _collect_css(page: ParsedPage, css: str) -> None:
    for match in CSS_URL.finditer(css):
        page.references.append(Reference("style", "url", (match[1] or match[2]).strip(), True))


@functools.cache
def _build() -> tuple[int, str, Path]:
    """Run `mkdocs build --strict` once, into a temporary folder removed at exit; status, output's tail, folder."""
    site = Path(tempfile.mkdtemp(prefix="convnets-site-"))
    atexit.register(shutil.rmtree, site, ignore_errors=True)
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(CONFIG), "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
    )
    return result.returncode, (result.stdout + result.stderr)[-4000:], site


def built_site() -> Path:
    """The site built strictly from mkdocs.yml; fails with mkdocs's own output when the build fails."""
    status, output, site = _build()
    if status != 0:
        raise AssertionError(f"mkdocs build --strict failed with exit {status}:\n{output}")
    return site


@functools.cache
def site_pages() -> tuple[ParsedPage, ...]:
    """Every HTML page of the built site, parsed."""
    site = built_site()
    pages = []
    for path in sorted(site.rglob("*.html")):
        if path.relative_to(site).parts[0] == "assets":
            continue
        pages.append(parse(path))
    return tuple(pages)


def content_pages() -> tuple[ParsedPage, ...]:
    """The pages a reader navigates to: every page but the 404 page."""
    return tuple(page for page in site_pages() if page.url_path != "404.html")


@functools.cache
def site_url() -> str:
    """mkdocs.yml's site_url with a trailing slash ("https://owner.github.io/convnets/"), or "" without one."""
    from mkdocs.config import load_config

    url = load_config(str(CONFIG))["site_url"] or ""
    return url.rstrip("/") + "/" if url else ""


def site_url_path() -> str:
    """The path the site is published under ("/convnets/"), or "/"."""
    return urlsplit(site_url()).path or "/"


def is_external(url: str) -> bool:
    """Whether a URL leaves the site: another scheme or host (links to the site's own URL are internal)."""
    parts = urlsplit(url)
    if not parts.scheme and not parts.netloc:
        return False
    if site_url() and url.startswith(site_url()):
        return False
    return parts.scheme not in ("data", "blob", "javascript")


def resolve(page: ParsedPage, url: str) -> tuple[Path | None, str]:
    """The file of the built site an internal URL points to (None if outside the site), and its fragment."""
    prefix = site_url_path()
    if site_url() and url.startswith(site_url()):
        url = prefix + url[len(site_url()) :]
    parts = urlsplit(url)
    if parts.path.startswith("/"):
        absolute = parts.path
    elif parts.path:
        absolute = posixpath.join(prefix + posixpath.dirname(page.url_path), parts.path)
    else:
        absolute = prefix + page.url_path
    absolute = posixpath.normpath(unquote(absolute)) + ("/" if absolute.endswith("/") else "")
    if not (absolute + "/").startswith(prefix):
        return None, parts.fragment
    target = built_site() / absolute[len(prefix) :]
    if target.is_dir():
        target = target / "index.html"
    return target, unquote(parts.fragment)


@functools.cache
def pages_by_path() -> dict[Path, ParsedPage]:
    """The parsed pages, keyed by their file in the built site."""
    return {page.path: page for page in site_pages()}
