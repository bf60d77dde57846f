"""Every link, anchor and image reference of the built site resolves inside it, and nothing loads from elsewhere."""

from __future__ import annotations

import re
from pathlib import Path

from site_build import CSS_URL, built_site, is_external, pages_by_path, resolve, site_pages

EXTERNAL_LINKS = Path(__file__).with_name("external_links.txt")
# Hosts that serve scripts, styles and fonts to other sites: no inline script may name one.
CDN_HOSTS = re.compile(r"https?://[\w.-]*(cdn|googleapis|gstatic|unpkg|jsdelivr|cloudflare|bootstrapcdn)[\w.-]*/", re.I)


def listed_external_links() -> set[str]:
    """The external links the site may contain: tests/external_links.txt, one URL a line, # for comments."""
    lines = EXTERNAL_LINKS.read_text(encoding="utf-8").splitlines()
    return {line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")}


def test_every_internal_link_anchor_and_image_resolves():
    broken = []
    for page in site_pages():
        for ref in page.references:
            if is_external(ref.url) or ref.url.startswith(("data:", "blob:", "javascript:")):
                continue
            target, fragment = resolve(page, ref.url)
            where = f"{page.url_path}: <{ref.tag} {ref.attr}={ref.url!r}>"
            if target is None or not target.is_file():
                broken.append(f"{where} points to a file the site does not have")
            elif fragment and target.suffix == ".html" and fragment not in pages_by_path()[target].ids:
                broken.append(f"{where}: {target.relative_to(built_site()).as_posix()} has no id {fragment!r}")
    assert not broken, "broken references in the built site:\n" + "\n".join(broken)


def test_external_links_are_exactly_the_listed_ones():
    found = {ref.url for page in site_pages() for ref in page.references if not ref.fetched and is_external(ref.url)}
    listed = listed_external_links()
    unlisted, stale = sorted(found - listed), sorted(listed - found)
    assert not unlisted, f"external links missing from {EXTERNAL_LINKS.name} (add them after checking them):\n" + "\n".join(unlisted)
    assert not stale, f"links in {EXTERNAL_LINKS.name} that no page has any more (remove them):\n" + "\n".join(stale)


def test_no_page_loads_anything_from_another_host():
    remote = [
        f"{page.url_path}: <{ref.tag} {ref.attr}={ref.url!r}>"
        for page in site_pages()
        for ref in page.references
        if ref.fetched and is_external(ref.url)
    ]
    for stylesheet in built_site().rglob("*.css"):
        for match in CSS_URL.finditer(stylesheet.read_text(encoding="utf-8", errors="replace")):
            if is_external(match[1] or match[2]):
                remote.append(f"{stylesheet.relative_to(built_site()).as_posix()}: {match[0]}")
    for page in site_pages():
        remote += [f"{page.url_path}: an inline script loads {match[0]}" for script in page.scripts for match in CDN_HOSTS.finditer(script)]
    assert not remote, "the site must work offline, but these load from another host:\n" + "\n".join(remote)


def test_math_renderer_and_its_fonts_are_served_by_the_site():
    mathjax = built_site() / "assets" / "mathjax"
    assert (mathjax / "tex-chtml.js").is_file()
    assert list((mathjax / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff")), "MathJax's fonts are missing"
    without = [page.url_path for page in site_pages() if not any(ref.url.endswith("assets/mathjax/tex-chtml.js") for ref in page.references)]
    assert not without, f"pages that do not load MathJax from the site: {without}"
