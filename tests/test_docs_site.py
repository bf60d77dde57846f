"""Nothing escapes: every Python block of the built site runs in the suite, every skip says why, and
every notebook script of the site is code its page runs."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from helpers import ROOT
from pagetest.plugin import EXECUTED, BlockItem, blocks_not_run, parse_page, site_config

MKDOCS = ROOT / "mkdocs.yml"
CONFIG = site_config(MKDOCS) if MKDOCS.exists() else None
PAGES = sorted(Path(CONFIG.docs_dir if CONFIG else ROOT / "docs").rglob("*.md"))
# The scripts that become notebook pages, as the site's own hook (hooks/site_files.py) adds them to the build.
SCRIPTS = CONFIG.hooks["hooks/site_files.py"].notebook_scripts(CONFIG) if CONFIG else []
FIXTURE_SITE = Path(__file__).parent / "fixtures" / "minisite"


def blocks(page: Path, mkdocs_yml: Path = MKDOCS):
    return parse_page(page, mkdocs_yml)


def page_id(page: Path) -> str:
    return str(page.relative_to(ROOT))


def test_the_default_suite_collects_the_docs_pages(pytestconfig):
    assert "docs" in pytestconfig.getini("testpaths")


@pytest.mark.parametrize("doc", PAGES, ids=page_id)
def test_every_python_block_a_reader_sees_is_one_the_suite_runs(doc):
    missing = blocks_not_run(doc, MKDOCS, [block.source for block in blocks(doc)])
    assert not missing, f"{page_id(doc)}: the built page shows Python the suite never runs:\n\n" + \
        "\n---\n".join(missing)


@pytest.mark.parametrize("doc", PAGES, ids=page_id)
def test_every_skipped_block_says_why(doc):
    unexplained = [f"{block.where}: {problem}" for block in blocks(doc) for problem in block.problems
                   if "notest" in problem or "pycon" in problem]
    assert not unexplained, "\n".join(unexplained)


@pytest.mark.after_pages
def test_every_runnable_block_of_the_site_ran_in_this_session(request):
    session_pages = {item.path.resolve() for item in request.session.items if isinstance(item, BlockItem)}
    if not session_pages:
        pytest.skip("no docs page was selected in this session; `make test` runs them all")
    if request.config.args_source == pytest.Config.ArgsSource.TESTPATHS:  # the default run: every page
        assert session_pages >= {page.resolve() for page in PAGES if any(b.runs for b in blocks(page))}
    executed = request.config.stash[EXECUTED]
    not_run = [block.where for page in PAGES if page.resolve() in session_pages for block in blocks(page)
               if block.runs and (str(page.resolve()), block.line) not in executed]
    assert not not_run, "these blocks did not run in this session:\n" + "\n".join(not_run)


@pytest.mark.parametrize("script", SCRIPTS, ids=os.path.relpath)
def test_a_notebook_runs_only_code_its_page_runs(script):
    """Every line of code of a notebook script but its first cell (the package check) lies in a snippet section,
    and its page shows every section in order (test_site.py): the page's run is the notebook's run."""
    cells = [cell.strip("\n") for cell in re.split(r"^# %%.*$", script.read_text(encoding="utf-8"), flags=re.M)]
    outside, inside = [], False
    for cell in cells:
        if cell.startswith("try:\n    import convnets"):
            continue  # the package check, which test_package.py runs without the package
        for line in cell.splitlines():
            if marker := re.match(r"\s*# --8<-- \[(start|end):", line):
                inside = marker[1] == "start"
            elif line.strip() and not line.lstrip().startswith("#") and not inside:
                outside.append(line)
    assert not outside, f"{script.name}: code outside the snippet sections its page runs: {outside}"


def test_a_python_block_that_only_the_built_page_shows_is_caught(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(FIXTURE_SITE, site)
    (site / "docs" / "part.md").write_text("```python\nprint('pulled in by a snippet')\n```\n")
    page = site / "docs" / "index.md"
    page.write_text(page.read_text() + '\n--8<-- "docs/part.md"\n')
    assert blocks_not_run(page, site / "mkdocs.yml", [b.source for b in blocks(page, site / "mkdocs.yml")]) == \
        ["print('pulled in by a snippet')"]


def test_every_python_block_of_the_fixture_site_is_found_with_its_embedded_code():
    page = FIXTURE_SITE / "docs" / "index.md"
    found = blocks(page, FIXTURE_SITE / "mkdocs.yml")
    assert len(found) == 7
    assert blocks_not_run(page, FIXTURE_SITE / "mkdocs.yml", [b.source for b in found]) == []
