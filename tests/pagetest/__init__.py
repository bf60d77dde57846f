"""Executable pages: every Python block of docs/*.md runs in the suite and its shown output is checked.

How it works
------------
* Collection (`plugin.py`): pytest collects each docs/*.md page as one `PageFile`, with one `BlockItem`
  per Python fence, in page order. The Markdown is read with the markdown-it parser that
  pytest-markdown-docs uses (we implement its `pytest_markdown_docs_markdown_it` hook, adding the
  MkDocs containers `!!!`, `???`, `===`), fence info strings are read with its superfences reader, and
  `BlockItem` builds on its `MarkdownInlinePythonItem` (fixtures, failure rendering). We do not use its
  own collector: it runs each fence in a fresh namespace, its `continuation` option re-executes every
  earlier fence (retraining models each time) and it cannot compare outputs.
* Snippets (`snippets.py`): `--8<--` lines are expanded by pymdownx.snippets' own preprocessor, configured
  from mkdocs.yml, so sections, dedenting and `check_paths` errors behave exactly as in the build.
* Execution (`execute.py`): the blocks of a page share one namespace and run top to bottom, once. Before a
  page starts, Keras's session is cleared, every seed is set and TensorFlow's op determinism is on, so
  layer names and numbers repeat run after run. stdout is captured as a terminal would show it (carriage
  returns and backspaces applied, colours removed, 80 columns). If a block raises, the later blocks of its
  page fail with a pointer to it instead of running on a broken state.
* Comparison (`compare.py`): a block's shown output is the next ```` ```text ```` fence, separated from it
  only by blank lines and at most one `<!-- output: ... -->` line. Text is compared exactly; timings and
  progress bars are ignored; numbers follow the directive's tolerances (grammar in `compare.py`).
* Rewriting (`rewrite.py`): `make outputs` (pytest --update-outputs) replaces the shown outputs that do
  not match with what the blocks printed, touching nothing else in the page.
* Site checks (`site.py`): the pages are rendered with the site's own Markdown configuration, to check
  that every Python block a reader sees is one the suite runs, and to list the notebook scripts.

Running it
----------
* `make test` runs every page (pyproject's testpaths include docs/); `make test-full` adds the full-length
  experiments marked `full`.
* `make outputs` reruns the pages and rewrites the shown outputs that no longer match (`ALL=1`: all of
  them; `PAGES="docs/padding.md"`: one page). By hand: `pytest tests docs/padding.md -m page
  --update-outputs` (tests/ must be among the arguments: its conftest loads this plugin).
* A failing block names its page and line; `-k block3` runs a page's blocks up to the third one.
"""
