"""Figures in collapsed blocks: md_in_html does not reach raw HTML inside an indented block, so Markdown wraps a
`<figure markdown="span">` there in a paragraph and leaves its attribute. Unwrap it, as md_in_html would."""

from __future__ import annotations

import re

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.pages import Page

WRAPPED_FIGURE = re.compile(r'<p>\s*<figure markdown="span">(.*?)</figure>\s*</p>', re.S)


def on_page_content(html: str, page: Page, config: MkDocsConfig, files) -> str:
    """Every figure as the top-level element md_in_html makes of it."""
    return WRAPPED_FIGURE.sub(r"<figure>\1</figure>", html)
