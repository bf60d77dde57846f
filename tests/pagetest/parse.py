"""Read a page into its Python blocks, each with its shown output and the directives written beside it.

Conventions a page follows:

* A Python block is a fence whose language is python, py or python3 (pycon blocks are not run, so the
  site checks reject them unless skipped with a reason). It may embed code/ with `--8<-- "code/x.py:name"`.
* Its shown output is the next fence whose info string starts with `text`, separated from the block
  only by blank lines and at most one directive line `<!-- output: RULES -->` (grammar in compare.py).
* A block that must not run carries `<!-- notest: REASON -->` on the line before it (blank lines
  allowed between). The reason is required; pytest-markdown-docs' `notest` fence option alone is not
  enough, since it says nothing about why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from pytest_markdown_docs.plugin import parse_superfences_block_info

from pagetest import snippets
from pagetest.compare import Rules, parse_rules, DirectiveError

PYTHON_LANGS = {"python", "py", "python3"}
SITE_PYTHON_LANGS = PYTHON_LANGS | {"pycon"}
CONTAINER_MARKERS = ("???+", "???", "!!!", "===+", "===!", "===")  # longest first
DIRECTIVE = re.compile(r"^\s*<!--\s*(?P<name>[a-z][a-z-]*)\s*:(?P<body>.*?)-->\s*$", re.S)


@dataclass(frozen=True)
class Output:
    """A shown output: its fence's place in the file and its text."""

    line: int  # 1-based line of the opening fence
    indent: str  # what precedes the fence marker on its line
    content_start: int  # 0-based index of the first content line
    content_end: int  # 0-based index of the closing fence line
    text: str
    rules: Rules
    directive: str | None  # the directive line as written, if any


@dataclass(frozen=True)
class Block:
    """One Python fence of a page."""

    page: Path
    index: int  # 0-based position among the page's Python blocks
    line: int  # 1-based line of the opening fence
    lang: str
    options: tuple[str, ...]
    code: str  # as written in the Markdown
    source: str  # with snippets expanded: what runs
    snippets: tuple[str, ...]  # the snippet references it embeds
    skip_reason: str | None
    problems: tuple[str, ...] = field(default=())  # what keeps it from running as written
    output: Output | None = None

    @property
    def runs(self) -> bool:
        return self.lang in PYTHON_LANGS and self.skip_reason is None

    @property
    def where(self) -> str:
        return f"{display(self.page)}:{self.line}"


def display(path: Path) -> str:
    """A path relative to the working directory when it is inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _container(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """MkDocs containers (admonitions, collapsible details, content tabs): a marker line, then a body
    indented by four spaces, as Python-Markdown reads them."""
    if state.sCount[start_line] - state.blkIndent >= 4:
        return False
    start = state.bMarks[start_line] + state.tShift[start_line]
    line_text = state.src[start:state.eMarks[start_line]]
    marker = next((m for m in CONTAINER_MARKERS if line_text.startswith(m + " ")), None)
    if marker is None:
        return False
    if silent:
        return True
    body_indent = state.sCount[start_line] + 4
    next_line = start_line + 1
    while next_line < end_line:
        blank = state.bMarks[next_line] + state.tShift[next_line] >= state.eMarks[next_line]
        if not blank and state.sCount[next_line] < body_indent:
            break
        next_line += 1
    old_indent, old_max, old_parent = state.blkIndent, state.lineMax, state.parentType
    token = state.push("container_open", "div", 1)
    token.markup, token.info, token.map = marker, line_text[len(marker):].strip(), [start_line, next_line]
    state.blkIndent, state.lineMax, state.parentType = body_indent, next_line, "container"
    state.md.block.tokenize(state, start_line + 1, next_line)
    state.push("container_close", "div", -1).markup = marker
    state.blkIndent, state.lineMax, state.parentType = old_indent, old_max, old_parent
    state.line = next_line
    return True


def markdown_parser() -> MarkdownIt:
    """CommonMark, as pytest-markdown-docs reads pages, plus the containers MkDocs Material pages use."""
    parser = MarkdownIt("commonmark")
    parser.block.ruler.before("fence", "mkdocs_container", _container,
                              {"alt": ["paragraph", "reference", "blockquote", "list"]})
    return parser


def _directive(token) -> tuple[str, str] | None:
    """(name, body) of a one-line `<!-- name: body -->` HTML block."""
    if token is None or token.type != "html_block":
        return None
    match = DIRECTIVE.match(token.content)
    return (match["name"], match["body"].strip()) if match else None


def _one_line(token) -> bool:
    return token.map is not None and token.map[1] - token.map[0] == 1


def parse_page(page: Path, parser: MarkdownIt, mkdocs_yml: Path | None) -> list[Block]:
    """Every Python (and pycon) block of `page`, in order."""
    text = page.read_text(encoding="utf-8")
    lines = text.splitlines()
    tokens = parser.parse(text)
    blocks: list[Block] = []
    for i, token in enumerate(tokens):
        if token.type != "fence" or not token.map:
            continue
        info = parse_superfences_block_info(token.info)
        lang = info[0].lower() if info else ""
        if lang not in SITE_PYTHON_LANGS:
            continue
        options = tuple(info[1:])
        problems: list[str] = []
        skip_reason = None
        before = _directive(tokens[i - 1]) if i else None
        if before and before[0] == "notest":
            skip_reason = before[1]
            if not skip_reason:
                problems.append("`<!-- notest: -->` needs a reason after the colon")
        elif "notest" in options:
            problems.append("the fence says `notest` without a reason: write `<!-- notest: REASON -->` "
                            "on the line before it")
        if lang == "pycon" and skip_reason is None:
            problems.append("pycon blocks are not run: write the block as python with a text output, "
                            "or skip it with `<!-- notest: REASON -->`")
        refs = tuple(m.group(1) for m in re.finditer(r"^\s*-+8<-+\s+[\"']([^\"']+)[\"']\s*$",
                                                     token.content, re.M))
        try:
            source = snippets.expand(token.content, mkdocs_yml)
        except snippets.SnippetMissingError as error:
            source = token.content
            problems.append(f"snippet: {error}")
        output = None
        try:
            output = _output_after(tokens, i, lines)
        except DirectiveError as error:
            problems.append(str(error))
        blocks.append(Block(page=page, index=len(blocks), line=token.map[0] + 1, lang=lang, options=options,
                            code=token.content, source=source, snippets=refs, skip_reason=skip_reason,
                            problems=tuple(problems), output=output))
    return blocks


def _output_after(tokens: list, i: int, lines: list[str]) -> Output | None:
    """The shown output following the fence at tokens[i], if there is one."""
    j = i + 1
    directive_line = None
    rules = parse_rules("")
    if j < len(tokens) and tokens[j].type == "html_block" and tokens[j].content.lstrip().startswith("<!--"):
        parsed = _directive(tokens[j])
        nxt = tokens[j + 1] if j + 1 < len(tokens) else None
        if parsed is None or parsed[0] != "output" or not _one_line(tokens[j]):
            if nxt is not None and nxt.type == "fence" and nxt.info.strip().startswith("text"):
                raise DirectiveError(f"line {tokens[j].map[0] + 1}: between a Python block and its output only "
                                     "one `<!-- output: RULES -->` line may stand")
            return None
        directive_line = tokens[j].content.strip()
        rules = parse_rules(parsed[1], where=f"line {tokens[j].map[0] + 1}")
        j += 1
    if j >= len(tokens) or tokens[j].type != "fence" or not tokens[j].info.strip().startswith("text"):
        if directive_line is not None:
            raise DirectiveError("the `<!-- output: -->` line after this block is not followed by a ```text fence")
        return None
    fence = tokens[j]
    first, last = fence.map[0], fence.map[1] - 1
    closing = lines[last].strip() if last < len(lines) else ""
    if last == first or not closing.startswith(fence.markup) or closing.strip(fence.markup[0]):
        raise DirectiveError(f"the output fence at line {first + 1} is not closed")
    opening = lines[first]
    indent = opening[:len(opening) - len(opening.lstrip())]
    return Output(line=first + 1, indent=indent, content_start=first + 1, content_end=last, text=fence.content,
                  rules=rules, directive=directive_line)
