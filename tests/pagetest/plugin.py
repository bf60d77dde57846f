"""Executable pages: a docs page is a pytest File whose items, pytest-markdown-docs' `MarkdownInlinePythonItem`s,
are its Python blocks. They share one namespace and run once, in page order, from a reproducible start, with
their `--8<--` snippets expanded by pymdownx.snippets as the site configures it. A block's shown output is the
next ```text fence, after only blank lines and at most one `<!-- output: RULES -->` line (compare.py); a block
that must not run has `<!-- notest: REASON -->` before it. `--update-outputs` rewrites the outputs that changed.
While a block runs, `model.fit` on a compiled, untrained model is served by convnets.cached_fit (`cached_fit`): a
page trains each model once per cache, and the page itself only ever says `model.fit`.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import inspect
import io
import linecache
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pymdownx.snippets import SnippetMissingError
from pytest_markdown_docs.definitions import FenceTestDefinition
from pytest_markdown_docs.plugin import MarkdownInlinePythonItem

from convnets.atomic import atomic_write_text
from pagetest.compare import DirectiveError, Rule, clean, compare, diff, parse_rules

PYTHON_LANGS = {"python", "py", "python3"}
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<marker>`{3,}|~{3,})(?P<info>.*)$")
DIRECTIVE = re.compile(r"^\s*<!--\s*(?P<name>[a-z][a-z-]*)\s*:(?P<body>.*?)-->\s*$")
EXECUTED = pytest.StashKey[set]()  # (page, line) of every block run in this session
REWRITTEN = pytest.StashKey[list]()  # "docs/x.md: rewrote N output(s)" lines for the summary


@dataclass(frozen=True)
class Fence:
    start: int  # 0-based index of the opening line
    end: int  # 0-based index of the closing line; the page's line count when the fence is not closed
    indent: str  # what precedes the fence marker on its line
    info: tuple[str, ...]  # the language, then the options
    content: str  # without the indentation
    lang = property(lambda self: self.info[0].lower() if self.info else "")


@dataclass(frozen=True)
class Block:  # a Python (or pycon) fence of a page, with its shown output and what is written beside it
    page: Path
    index: int  # among the page's Python blocks
    fence: Fence
    source: str  # with snippets expanded: what runs
    skip_reason: str | None = None
    problems: tuple[str, ...] = ()  # what keeps it from running as written
    output: Fence | None = None
    rules: list[Rule] = field(default_factory=list)  # the tolerances its output directive sets
    line = property(lambda self: self.fence.start + 1)
    runs = property(lambda self: self.fence.lang in PYTHON_LANGS and self.skip_reason is None)
    where = property(lambda self: f"{os.path.relpath(self.page)}:{self.line}")
    filename = property(lambda self: f"{os.path.relpath(self.page)}[block {self.index + 1}]")  # in tracebacks
    numbered = property(lambda self: "\n" * self.line + self.source)  # its code, numbered as the page's lines


def fences(lines: list[str]) -> list[Fence]:
    """A page's fences, as superfences finds them: at any indentation, each closed by its marker equally indented."""
    found, i = [], 0
    while i < len(lines):
        if match := FENCE.match(lines[i]):
            indent, marker = match["indent"], match["marker"]
            closing = re.compile(rf"{re.escape(indent)}{marker[0]}{{{len(marker)},}}[ \t]*$")
            end = next((j for j in range(i + 1, len(lines)) if closing.match(lines[j])), len(lines))
            content = "".join(line.removeprefix(indent) + "\n" for line in lines[i + 1:end])
            found.append(Fence(i, end, indent, tuple(match["info"].split()), content))
            i = end
        i += 1
    return found


def parse_page(page: Path, mkdocs_yml: Path | None) -> list[Block]:
    """Every Python (and pycon) block of `page`, in order."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found, blocks = fences(lines), []
    for fence, following in zip(found, [*found[1:], None]):
        if fence.lang not in PYTHON_LANGS | {"pycon"}:
            continue
        notest = DIRECTIVE.match(next((line for line in reversed(lines[:fence.start]) if line.strip()), ""))
        skip = notest["body"].strip() if notest and notest["name"] == "notest" else None
        problems = ["`<!-- notest: -->` needs a reason after the colon"] if skip == "" else []
        if skip is None and "notest" in fence.info[1:]:
            problems.append("the fence says `notest` without a reason: write `<!-- notest: REASON -->` before it")
        if skip is None and fence.lang == "pycon":
            problems.append("pycon blocks are not run: write python with a text output, or skip it with a reason")
        try:
            snippets = site_markdown(mkdocs_yml).preprocessors["snippet"]
            source = "".join(line + "\n" for line in snippets.run(fence.content.splitlines()))
        except SnippetMissingError as error:
            source, problems = fence.content, [*problems, f"snippet: {error}"]
        try:
            output = shown_output(lines, fence, following)
        except DirectiveError as error:
            output, problems = {}, [*problems, str(error)]
        blocks.append(Block(page, len(blocks), fence, source, skip, tuple(problems), **output))
    return blocks


def shown_output(lines: list[str], fence: Fence, following: Fence | None) -> dict:
    """A block's shown output and its tolerances, as Block's fields: the next fence if it is ```text."""
    stop = following.start if following else len(lines)
    between = [(n, lines[n].strip()) for n in range(fence.end + 1, stop) if lines[n].strip()]
    is_text, rules = following is not None and following.lang == "text", []
    directive = DIRECTIVE.match(between[0][1]) if between else None
    if directive and directive["name"] == "output":
        if len(between) > 1 or not is_text:
            raise DirectiveError("the `<!-- output: -->` line after this block is not followed by a ```text fence")
        rules = parse_rules(directive["body"], where=f"line {between[0][0] + 1}")
    elif is_text and between and between[0][1].startswith("<!--") and between[-1][1].endswith("-->"):
        raise DirectiveError(f"line {between[0][0] + 1}: only one `<!-- output: -->` line may stand before an output")
    elif not is_text or between:
        return {}
    if following.end == len(lines):
        raise DirectiveError(f"the output fence at line {following.start + 1} is not closed")
    return {"output": following, "rules": rules}


@functools.lru_cache(maxsize=None)
def site_config(mkdocs_yml: Path):
    """The validated MkDocs configuration (the same object `mkdocs build` works from)."""
    from mkdocs.config import load_config

    return load_config(str(mkdocs_yml))  # its paths are relative to it


@functools.lru_cache(maxsize=None)
def site_markdown(mkdocs_yml: Path | None):
    """The site's Markdown converter, but a missing snippet is an error, none is downloaded, languages are classes."""
    import markdown

    config = site_config(mkdocs_yml) if mkdocs_yml else None
    options = {name: dict(settings) for name, settings in config.mdx_configs.items()} if config else {}
    # auto_append (the glossary) belongs to whole pages, not to the code of a block
    options.setdefault("pymdownx.snippets", {}).update(check_paths=True, url_download=False, auto_append=[])
    options.setdefault("pymdownx.highlight", {})["pygments_lang_class"] = True
    with contextlib.chdir(mkdocs_yml.parent if mkdocs_yml else "."):  # where relative snippet paths start
        return markdown.Markdown(extensions=config.markdown_extensions if config else ["pymdownx.snippets"],
                                 extension_configs=options)


def blocks_not_run(page: Path, mkdocs_yml: Path, sources: list[str]) -> list[str]:
    """The Python blocks a reader sees on the built `page` that are none of `sources` (the code the suite runs)."""
    from bs4 import BeautifulSoup

    def normalized(code: str) -> str:  # no trailing spaces, no blank lines at either end
        return "\n".join(line.rstrip() for line in code.strip("\n").splitlines()).strip("\n")

    html = BeautifulSoup(site_markdown(mkdocs_yml).reset().convert(page.read_text(encoding="utf-8")), "html.parser")
    for line_numbers in html.select(".linenos, .linenodiv"):
        line_numbers.decompose()
    python = ", ".join(f"code.language-{lang}, .language-{lang} code" for lang in [*PYTHON_LANGS, "pycon"])
    shown = Counter(normalized(code.get_text()) for code in html.select(python))
    return list((shown - Counter(normalized(source) for source in sources)).elements())


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pages", "executable docs pages")
    group.addoption("--update-outputs", nargs="?", const="changed", choices=["changed", "all"],
                    help="rewrite the shown outputs that do not match what the blocks print (=all: every one)")
    group.addoption("--full", action="store_true", help="also run the full-length experiments the suite shortens")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "page: a Python block of a docs page, run in page order")
    config.addinivalue_line("markers", "full: a full-length experiment, run only by `make test-full` (--full)")
    config.addinivalue_line("markers", "after_pages: checks what the page blocks did, so runs after them")
    config.stash[EXECUTED], config.stash[REWRITTEN] = set(), []


def reproducible_start() -> None:
    """Clear Keras's session (layer names start over), set every seed and turn the backend's op determinism on."""
    import keras
    from convnets.devices import enable_determinism

    keras.backend.clear_session()
    keras.utils.set_random_seed(0)  # Python's, NumPy's and TensorFlow's
    enable_determinism()


@pytest.fixture(scope="session", autouse=True)
def reproducible_session() -> None:
    reproducible_start()  # from the start, so that models trained by any test (and cached for pages) repeat too


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    docs = parent.config.rootpath / "docs"
    with contextlib.suppress(Exception):  # no mkdocs.yml, or an invalid one (the build test fails): docs/
        docs = Path(site_config(parent.config.rootpath / "mkdocs.yml").docs_dir).resolve()
    if file_path.suffix == ".md" and file_path.resolve().is_relative_to(docs):
        return PageFile.from_parent(parent, path=file_path)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("full"):
        for item in items:
            if item.get_closest_marker("full"):
                item.add_marker(pytest.mark.skip(reason="full-length experiment: `make test-full` runs it"))
    items.sort(key=lambda item: item.get_closest_marker("after_pages") is not None)


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    if config.getoption("update_outputs"):
        terminalreporter.write_sep("=", "make outputs")
        for line in config.stash[REWRITTEN] or ["no shown output needed rewriting"]:
            terminalreporter.write_line(line)


def serve_fit_from_cache(patch: pytest.MonkeyPatch) -> None:
    """Replace `keras.Model.fit` by `cached_fit` while a block runs."""
    import keras

    patch.setattr(keras.Model, "fit", cached_fit(keras.Model.fit))


def cached_fit(fit):
    """`fit`, but a compiled, untrained model fitted on arrays (no callbacks) learns what convnets.cached_fit kept
    from the same fit: the same architecture, compile settings, data and arguments. Nothing is printed either
    way, so a page's output never depends on whether the model was trained just now."""
    signature = inspect.signature(fit)

    def fit_or_cached(model, *args, **kwargs):
        import keras
        import numpy as np

        from convnets.cached_fit import fit_or_load

        arguments = signature.bind(model, *args, **kwargs).arguments
        arguments.pop("self", None)
        x, y = arguments.pop("x", None), arguments.pop("y", None)
        untrained = model.compiled and int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 0
        if not (untrained and isinstance(x, np.ndarray) and isinstance(y, np.ndarray)) or arguments.get("callbacks"):
            return fit(model, *args, **kwargs)
        with pytest.MonkeyPatch.context() as inner:
            inner.setattr(keras.Model, "fit", fit)  # fit_or_load's own call, on a miss, trains for real
            record = fit_or_load(model, x, y, **(arguments | {"verbose": 0}))
        history = keras.callbacks.History()
        history.set_model(model)
        history.history, history.params, history.epoch = record.history, record.params, record.epoch
        model.history = history  # as Keras leaves it
        return history

    return fit_or_cached


class PageFile(pytest.File):
    def collect(self):
        self.text, mkdocs_yml = self.path.read_text(encoding="utf-8"), self.config.rootpath / "mkdocs.yml"
        self.blocks = parse_page(self.path, mkdocs_yml if mkdocs_yml.exists() else None)
        for block in self.blocks:
            yield BlockItem.from_parent(self, name=f"block{block.index + 1}-line{block.line}", block=block)

    def setup(self) -> None:
        self.namespace = {"__name__": "__main__", "__file__": str(self.path), "__builtins__": __builtins__}
        self.next_index, self.broken, self.replacements = 0, None, []
        reproducible_start()

    def teardown(self) -> None:
        self.namespace.clear()
        gc.collect()
        if self.replacements:
            self.rewrite()

    def run_block(self, block: Block) -> str:
        """Run a block after the earlier ones not run yet; return what it printed, to a terminal 80 columns wide."""
        for earlier in self.blocks[self.next_index:block.index]:
            if earlier.runs:
                self.run_block(earlier)
        self.next_index = block.index + 1
        if self.broken is not None:
            pytest.fail(f"{block.where}: not run, because the block at {self.broken.where} failed and this "
                        "page's later blocks build on it", pytrace=False)
        if block.problems:
            self.broken = block
            pytest.fail(f"{block.where}: " + "\n".join(block.problems), pytrace=False)
        self.config.stash[EXECUTED].add((str(block.page.resolve()), block.line))
        linecache.cache[block.filename] = (len(block.numbered), None, block.numbered.splitlines(True), block.filename)
        stdout = io.StringIO()
        try:
            with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(stdout):
                patch.setenv("COLUMNS", "80")  # what Rich and Keras print to when the output is not a terminal
                serve_fit_from_cache(patch)
                exec(compile(block.numbered, block.filename, "exec", dont_inherit=True), self.namespace)
        except BaseException as error:
            self.broken = block
            error.printed = stdout.getvalue()  # type: ignore[attr-defined]
            raise
        return stdout.getvalue()

    def rewrite(self) -> None:
        """Write what the blocks printed in place of the shown outputs to replace, touching nothing else."""
        lines, page = self.path.read_text(encoding="utf-8").splitlines(keepends=True), os.path.relpath(self.path)
        if "".join(lines) != self.text:
            pytest.fail(f"{page} changed while its blocks ran; run `make outputs` again", pytrace=False)
        changed = 0
        for fence, text in sorted(self.replacements, key=lambda replacement: -replacement[0].start):
            new = [(fence.indent + line if line else "") + "\n" for line in text.splitlines()]
            changed += lines[fence.start + 1:fence.end] != new
            lines[fence.start + 1:fence.end] = new
        if changed:
            atomic_write_text(self.path, "".join(lines))
            self.config.stash[REWRITTEN].append(f"{page}: rewrote {changed} output(s)")


class BlockItem(MarkdownInlinePythonItem):
    """One Python block: runs it in its page's namespace and checks its shown output."""

    def __init__(self, name: str, parent: PageFile, block: Block) -> None:
        super().__init__(name, parent, test_definition=FenceTestDefinition(
            block.numbered, (), start_line=block.line, source_path=Path(block.filename), runner_name=None))
        self.block = block
        self.add_marker("page")
        if block.skip_reason and not block.problems:
            self.add_marker(pytest.mark.skip(reason=f"{block.where}: {block.skip_reason}"))

    def runtest(self) -> None:
        page, block = self.parent, self.block
        printed = page.run_block(block)
        problems = compare(block.output.content, printed, block.rules) if block.output else []
        update = self.config.getoption("update_outputs")
        if block.output and (update == "all" or (update and problems)):
            page.replacements.append((block.output, clean(printed)))
        elif problems:
            shown = f"{os.path.relpath(block.page)}:{block.output.start + 1}"
            pytest.fail(
                f"{shown}: the output shown does not match what the block at line {block.line} printed\n"
                + "".join(f"  - {problem}\n" for problem in problems) + "\n"
                + diff(block.output.content, printed, f"{shown} (shown)", f"printed by the block at line {block.line}")
                + "\n\nIf the change is deliberate, run `make outputs` to rewrite the shown output.", pytrace=False)

    def repr_failure(self, excinfo, style=None):
        if not hasattr(excinfo.value, "printed"):  # not raised by a block's code: pytest.fail's words, say
            return pytest.Item.repr_failure(self, excinfo, style)
        head = f"{self.block.where}: the block raised {type(excinfo.value).__name__}"
        if snippets := re.findall(r"-8<-+\s+[\"']([^\"']+)", self.block.fence.content):
            head += f" (its code embeds {', '.join(snippets)})"
        printed = excinfo.value.printed
        return f"{head}\n{super().repr_failure(excinfo, style)}" + \
            (f"\nIt printed before failing:\n{printed}" if printed.strip() else "")

    def reportinfo(self):
        return self.path, self.block.line - 1, self.block.where
