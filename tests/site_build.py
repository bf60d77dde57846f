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
from html.parser import HTMLParser
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


class _PageParser(HTMLParser):
    """Collect ids, URLs, images, headings of the main content and inline scripts from one page."""

    def __init__(self, page: ParsedPage) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.content_depth = 0  # >0 while inside the page's <article>
        self.heading: list[str] | None = None
        self.heading_level = 0
        self.script: list[str] | None = None
        self.style: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("id", "name") if tag == "a" else ("id",):
            if values.get(name):
                self.page.ids.add(values[name])
        self._collect_urls(tag, values)
        if tag == "img":
            self.page.images.append(values)
        if tag == "article":
            self.content_depth += 1
        if self.content_depth and re.fullmatch(r"h[1-6]", tag):
            self.heading, self.heading_level = [], int(tag[1])
        if tag == "script" and not values.get("src"):
            self.script = []
        if tag == "style":
            self.style = []

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag == "article":
            self.content_depth -= 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "article" and self.content_depth:
            self.content_depth -= 1
        if self.heading is not None and tag == f"h{self.heading_level}":
            self.page.headings.append((self.heading_level, " ".join("".join(self.heading).split())))
            self.heading = None
        if tag == "script" and self.script is not None:
            self.page.scripts.append("".join(self.script))
            self.script = None
        if tag == "style" and self.style is not None:
            self._collect_css("".join(self.style))
            self.style = None

    def handle_data(self, data: str) -> None:
        for buffer in (self.heading, self.script, self.style):
            if buffer is not None:
                buffer.append(data)

    def _collect_urls(self, tag: str, values: dict[str, str | None]) -> None:
        for attr in ("href", "src", "data", "poster"):
            url = values.get(attr)
            if url is None:
                continue
            rels = set((values.get("rel") or "").lower().split())
            fetched = (tag, attr) in FETCHED or (tag == "link" and bool(rels & FETCHED_LINK_RELS))
            self.page.references.append(Reference(tag, attr, url.strip(), fetched))
        for attr in ("srcset",):
            for candidate in (values.get(attr) or "").split(","):
                if candidate.strip():
                    self.page.references.append(Reference(tag, attr, candidate.split()[0], True))
        if values.get("style"):
            self._collect_css(values["style"] or "")

    def _collect_css(self, css: str) -> None:
        for match in CSS_URL.finditer(css):
            self.page.references.append(Reference("style", "url", (match[1] or match[2]).strip(), True))


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
        page = ParsedPage(path)
        _PageParser(page).feed(path.read_text(encoding="utf-8"))
        pages.append(page)
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
