"""Fill in what the theme's and nbconvert's markup leave out for keyboard and screen-reader users."""

from __future__ import annotations

import re

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.pages import Page

# Material marks its search panel role="dialog" without a name; screen readers announce it as "dialog".
UNNAMED_SEARCH_DIALOG = re.compile(r'(<div class="md-search"(?:(?!aria-label)[^>])*role="dialog")(?=[^>]*>)')
# A notebook code cell scrolls sideways when its lines are long; without a tab stop, keyboards cannot scroll it.
UNFOCUSABLE_NOTEBOOK_CODE = re.compile(r'<div class="highlight-ipynb\b')


def on_post_page(output: str, page: Page, config: MkDocsConfig) -> str:
    """Name the search dialog "Search", and let the keyboard reach notebook code cells."""
    output = UNNAMED_SEARCH_DIALOG.sub(r'\1 aria-label="Search"', output, count=1)
    return UNFOCUSABLE_NOTEBOOK_CODE.sub('<div tabindex="0" class="highlight-ipynb', output)


def on_post_template(output: str, template_name: str, config: MkDocsConfig) -> str:
    """Name the search dialog on pages built from templates alone (the 404 page)."""
    return UNNAMED_SEARCH_DIALOG.sub(r'\1 aria-label="Search"', output, count=1)
