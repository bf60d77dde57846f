"""Give the theme's search dialog the accessible name that its markup leaves out."""

from __future__ import annotations

import re

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.pages import Page

# Material marks its search panel role="dialog" without a name; screen readers announce it as "dialog".
UNNAMED_SEARCH_DIALOG = re.compile(r'(<div class="md-search"(?:(?!aria-label)[^>])*role="dialog")(?=[^>]*>)')


def on_post_page(output: str, page: Page, config: MkDocsConfig) -> str:
    """Name the search dialog "Search"."""
    return UNNAMED_SEARCH_DIALOG.sub(r'\1 aria-label="Search"', output, count=1)


def on_post_template(output: str, template_name: str, config: MkDocsConfig) -> str:
    """Name the search dialog on pages built from templates alone (the 404 page)."""
    return UNNAMED_SEARCH_DIALOG.sub(r'\1 aria-label="Search"', output, count=1)
