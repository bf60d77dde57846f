"""pytest plugin: collect docs pages as ordered blocks, run them, compare and rewrite their outputs."""

from __future__ import annotations

import gc
import io
from pathlib import Path

import pytest
from pytest_markdown_docs._runners import DefaultRunner
from pytest_markdown_docs.definitions import FenceTestDefinition
from pytest_markdown_docs.plugin import MarkdownInlinePythonItem

from pagetest import execute
from pagetest.compare import clean, compare
from pagetest.parse import PYTHON_LANGS, Block, display, markdown_parser, parse_page
from pagetest.rewrite import Replacement, rewrite

EXECUTED = pytest.StashKey[dict]()  # (page, line) -> "passed" | "failed" | "rewritten"
REWRITTEN = pytest.StashKey[list]()  # "docs/x.md: N output(s)" lines for the summary


class PageFailure(Exception):
    """A failure explained in words: a mismatch, a broken earlier block, a page convention not kept."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pages", "executable docs pages")
    group.addoption("--update-outputs", nargs="?", const="changed", choices=["changed", "all"], default=None,
                    help="rewrite the shown outputs that do not match what the blocks print "
                         "(=all: rewrite every shown output)")
    group.addoption("--full", action="store_true", default=False,
                    help="also run the full-length experiments that the default suite shortens")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "page: a Python block of a docs page, run in page order")
    config.addinivalue_line("markers", "full: a full-length experiment, run only by `make test-full` (--full)")
    config.addinivalue_line("markers", "after_pages: checks what the page blocks did, so runs after them")
    config.stash[EXECUTED] = {}
    config.stash[REWRITTEN] = []


@pytest.fixture(scope="session", autouse=True)
def reproducible_session() -> None:
    """Seeds and op determinism from the start, so models trained by any test (and cached for the pages)
    come out the same run after run."""
    execute.reproducible_start()


@pytest.hookimpl
def pytest_markdown_docs_markdown_it():
    """The parser pytest-markdown-docs and our collector read pages with."""
    return markdown_parser()


def mkdocs_file(config: pytest.Config) -> Path | None:
    path = config.rootpath / "mkdocs.yml"
    return path if path.exists() else None


def docs_dir(config: pytest.Config) -> Path:
    """The site's docs_dir (docs/ when there is no mkdocs.yml)."""
    yml = mkdocs_file(config)
    if yml is None:
        return config.rootpath / "docs"
    from pagetest.site import site_config

    try:
        return Path(site_config(yml).docs_dir).resolve()
    except Exception:  # an invalid mkdocs.yml fails the site's build test; pages still run from docs/
        return config.rootpath / "docs"


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    if file_path.suffix == ".md" and file_path.resolve().is_relative_to(docs_dir(parent.config)):
        return PageFile.from_parent(parent, path=file_path)
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("full"):
        skip = pytest.mark.skip(reason="full-length experiment: `make test-full` runs it")
        for item in items:
            if item.get_closest_marker("full"):
                item.add_marker(skip)
    items.sort(key=lambda item: item.get_closest_marker("after_pages") is not None)


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    if config.getoption("update_outputs"):
        lines = config.stash[REWRITTEN] or ["no shown output needed rewriting"]
        terminalreporter.write_sep("=", "make outputs")
        for line in lines:
            terminalreporter.write_line(line)


class PageFile(pytest.File):
    """A docs page: its Python blocks run in order in one namespace, each as one test."""

    def collect(self):
        self.text = self.path.read_text(encoding="utf-8")
        parser = self.config.hook.pytest_markdown_docs_markdown_it()
        self.blocks = parse_page(self.path, parser, mkdocs_file(self.config))
        for block in self.blocks:
            yield BlockItem.from_parent(self, name=f"block{block.index + 1}-line{block.line}", block=block)

    def setup(self) -> None:
        self.namespace = execute.new_namespace(self.path)
        self.next_index = 0
        self.broken: Block | None = None
        self.replacements: list[Replacement] = []
        execute.reproducible_start()

    def teardown(self) -> None:
        if self.replacements:
            changed = rewrite(self.path, self.text, self.replacements)
            if changed:
                self.config.stash[REWRITTEN].append(f"{display(self.path)}: rewrote {changed} output(s)")
        self.namespace.clear()
        gc.collect()

    def run_block(self, block: Block) -> str:
        """Run one block (after any earlier ones not yet run) and return what it printed."""
        for earlier in self.blocks[self.next_index:block.index]:
            if earlier.runs:
                self._execute(earlier)
        self.next_index = block.index + 1
        return self._execute(block)

    def _execute(self, block: Block) -> str:
        if self.broken is not None:
            raise PageFailure(f"{block.where}: not run, because the block at {self.broken.where} failed "
                              "and this page's later blocks build on it")
        if block.problems:
            self.broken = block
            raise PageFailure(f"{block.where}: " + "\n".join(block.problems))
        code = execute.compile_block(block.source, block_filename(block), block.line + 1)
        stdout = io.StringIO()
        try:
            execute.run(code, self.namespace, stdout)
        except BaseException as error:
            self.broken = block
            error.printed = stdout.getvalue()  # type: ignore[attr-defined]
            raise
        return stdout.getvalue()


def block_filename(block: Block) -> str:
    """The name tracebacks give a block's code."""
    return f"{display(block.page)}[block {block.index + 1}]"


class BlockItem(MarkdownInlinePythonItem):
    """One Python block: runs it in its page's namespace and checks its shown output."""

    def __init__(self, name: str, parent: PageFile, block: Block) -> None:
        definition = FenceTestDefinition(
            source="\n" * block.line + block.source, fixture_names=(), start_line=block.line,
            source_path=Path(block_filename(block)), runner_name=None)
        super().__init__(name, parent, test_definition=definition)
        self.block = block
        self.add_marker("page")
        if block.skip_reason and not block.problems:
            self.add_marker(pytest.mark.skip(reason=f"{block.where}: {block.skip_reason}"))

    def runtest(self) -> None:
        page: PageFile = self.parent  # type: ignore[assignment]
        block = self.block
        executed = self.config.stash[EXECUTED]
        executed[(str(block.page.resolve()), block.line)] = "failed"
        if block.lang not in PYTHON_LANGS and not block.problems:
            raise PageFailure(f"{block.where}: {block.lang} blocks are not run")
        printed = page.run_block(block)
        executed[(str(block.page.resolve()), block.line)] = "passed"
        if printed.strip():
            self.add_report_section("call", "printed", printed)
        if block.output is None:
            return
        verdict = compare(block.output.text, printed, block.output.rules)
        update = self.config.getoption("update_outputs")
        if update == "all" or (update and not verdict.ok):
            page.replacements.append(Replacement(block.output, clean(printed)))
            executed[(str(block.page.resolve()), block.line)] = "rewritten"
            return
        if not verdict.ok:
            out = block.output
            raise PageFailure(
                f"{display(block.page)}:{out.line}: the output shown does not match what the block at line "
                f"{block.line} printed\n"
                f"tolerance: {out.rules.describe()}" + (f"  ({out.directive})" if out.directive else "") + "\n"
                + "\n".join(f"  - {d}" for d in verdict.details) + "\n\n"
                + verdict.diff(f"{display(block.page)}:{out.line} (shown)", f"printed by the block at line {block.line}")
                + "\n\nIf the change is deliberate, run `make outputs` to rewrite the shown output.")

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, PageFailure):
            return str(excinfo.value)
        printed = getattr(excinfo.value, "printed", "")
        head = f"{self.block.where}: the block raised {type(excinfo.value).__name__}"
        if self.block.snippets:
            head += f" (its code embeds {', '.join(self.block.snippets)})"
        body = DefaultRunner().repr_failure(self.test_definition, excinfo, style)
        return head + "\n" + body + (f"\nIt printed before failing:\n{printed}" if printed.strip() else "")

    def reportinfo(self):
        return self.path, self.block.line - 1, f"{display(self.block.page)}:{self.block.line}"
