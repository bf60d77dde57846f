"""Compare what a block printed with the output its page shows.

Without a directive the comparison is exact, except for what changes from run to run by nature:
timings (`9s`, `10ms/step`, `1:05`, `ETA: 3s`, `41.2 seconds`) and progress bars (`938/938 ━━━`,
`[===>...]`), which are masked on both sides; table borders such as `model.summary()`'s stay exact. Runs of spaces count as one space, so a column that widens by a digit
does not fail a comparison that its numbers pass.

The tolerance directive, on the one line between a Python block and its shown output:

    <!-- output: RULE; RULE; ... -->
    RULE    := [SCOPE] SETTING...
    SCOPE   := WORD | "PHRASE" | /REGEX/
    SETTING := abs=NUMBER      the printed number may differ from the shown one by at most NUMBER
             | rel=NUMBER%     ... by at most NUMBER percent of the shown one
             | min=NUMBER      the printed number must be at least NUMBER
             | max=NUMBER      the printed number must be at most NUMBER
                               (min and max without abs or rel accept any number between the bounds)
             | any             any number passes (a timing printed without a unit, say)

A rule without a scope applies to every decimal number of the output (integers such as shapes,
parameter counts and epoch numbers stay exact). A scoped rule applies to every number, integer or not,
that the scope labels: either the scope ends the text before the number on its line (`loss: 0.31`,
`Test accuracy 0.991`, `val_loss=0.4`; whole words, any case), or the number sits in the column headed
by the scope in an earlier line (same cell between `|` or `│` separators, else overlapping characters).
A /REGEX/ scope applies to every number on the lines the regular expression finds (Python syntax; quote
it if it has spaces: "/test digits/"). The first scoped rule that covers a number wins over the unscoped
rule. abs and rel together allow the larger of the two. A scoped rule that covers no number of the
shown output is an error, so a misspelt scope cannot pass silently. Examples:

    <!-- output: abs=0.005; loss rel=25%; accuracy abs=0.005 min=0.99 -->
    <!-- output: /misclassified/ abs=40; digit any -->
"""

from __future__ import annotations

import difflib
import re
import shlex
from dataclasses import dataclass, field

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
MASKS = (
    (re.compile(r"\bETA:?\s*[\d:.]+\s?(?:ms|us|µs|s|min|h)?"), "<time>"),
    (re.compile(r"(?<![\w.:])\d+(?::\d{2}){1,2}(?![\w:])"), "<time>"),
    (re.compile(r"(?<![\w.])\d+(?:\.\d+)?\s?(?:ms|us|µs|ns|s|sec|secs|seconds|min|h)(?:/(?:step|sample|epoch))?"
                r"(?![\w])"), "<time>"),
    (re.compile(r"(?<=\d/)(\d+\s+)━+"), r"\1<bar>"),  # Keras: 938/938 ━━━━━━━━━━━━━━━━━━━━
    (re.compile(r"\[[=>.]{3,}\]|[█▏▎▍▌▋▊▉]{2,}"), "<bar>"),  # older Keras, tqdm
)
NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w])")
SEPARATORS = "|│┃"


class DirectiveError(ValueError):
    """A directive line that does not follow the grammar."""


@dataclass(frozen=True)
class Rule:
    scope: str | None = None  # a label, or a /regular expression/ for whole lines
    abs: float | None = None
    rel: float | None = None  # a fraction: rel=25% is 0.25
    min: float | None = None
    max: float | None = None
    any: bool = False

    def describe(self) -> str:
        parts = [f'"{self.scope}"' if self.scope and " " in self.scope else self.scope or ""]
        parts += [f"abs={self.abs:g}"] if self.abs is not None else []
        parts += [f"rel={self.rel * 100:g}%"] if self.rel is not None else []
        parts += [f"min={self.min:g}"] if self.min is not None else []
        parts += [f"max={self.max:g}"] if self.max is not None else []
        parts += ["any"] if self.any else []
        return " ".join(p for p in parts if p)

    def check(self, shown: float, printed: float) -> str | None:
        """Why `printed` fails this rule against `shown`, or None when it passes."""
        if self.min is not None and printed < self.min:
            return f"below min={self.min:g}"
        if self.max is not None and printed > self.max:
            return f"above max={self.max:g}"
        if self.any or (self.abs is None and self.rel is None):  # bounds alone accept any number within them
            return None
        allowed = max(self.abs or 0.0, (self.rel or 0.0) * abs(shown))
        if abs(printed - shown) > allowed + 1e-12 * max(1.0, abs(shown)):
            what = " or ".join(d for d in ([f"abs={self.abs:g}"] if self.abs is not None else [])
                               + ([f"rel={self.rel * 100:g}%"] if self.rel is not None else [])) or "exact"
            return f"differs by {abs(printed - shown):.4g} (allowed: {what})"
        return None


@dataclass(frozen=True)
class Rules:
    rules: tuple[Rule, ...] = field(default=())

    def describe(self) -> str:
        return "; ".join(rule.describe() for rule in self.rules) or "exact"

    def for_number(self, text: str, start: int, end: int, earlier: list[str]) -> Rule | None:
        """The rule for the number at text[start:end], whose earlier lines are `earlier`."""
        for rule in self.rules:
            if rule.scope and _covers(rule.scope, text, start, end, earlier):
                return rule
        decimal = any(c in text[start:end] for c in ".eE")
        return next((rule for rule in self.rules if rule.scope is None), None) if decimal else None


def parse_rules(body: str, where: str = "directive") -> Rules:
    """Rules from the body of `<!-- output: BODY -->`."""
    rules = []
    for chunk in (c.strip() for c in body.split(";")):
        if not chunk:
            continue
        try:
            words = shlex.split(chunk)
        except ValueError as error:
            raise DirectiveError(f"{where}: cannot read {chunk!r}: {error}") from None
        settings: dict = {}
        scope = None
        for k, word in enumerate(words):
            name, _, value = word.partition("=")
            if word == "any":
                settings["any"] = True
            elif name in {"abs", "min", "max"} and value:
                settings[name] = _number(value, word, where)
            elif name == "rel" and value.endswith("%"):
                settings["rel"] = _number(value[:-1], word, where) / 100
            elif k == 0 and "=" not in word:
                scope = word
                if _is_regex(word):
                    try:
                        re.compile(word[1:-1])
                    except re.error as error:
                        raise DirectiveError(f"{where}: {word} is not a regular expression: {error}") from None
            else:
                raise DirectiveError(f"{where}: {word!r} is not one of abs=N, rel=N%, min=N, max=N, any "
                                     "(a scope word may only come first)")
        if not settings:
            raise DirectiveError(f"{where}: the rule {chunk!r} sets no tolerance")
        rules.append(Rule(scope=scope, **settings))
    scoped = [r for r in rules if r.scope]
    return Rules(tuple(scoped + [r for r in rules if not r.scope]))


def _number(value: str, word: str, where: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise DirectiveError(f"{where}: {word!r} needs a number") from None


def _is_regex(scope: str) -> bool:
    return len(scope) > 2 and scope.startswith("/") and scope.endswith("/")


def _covers(scope: str, text: str, start: int, end: int, earlier: list[str]) -> bool:
    """Whether `scope` covers the number at text[start:end]: by its line, its label or its column."""
    if _is_regex(scope):
        return re.search(scope[1:-1], text) is not None
    before = text[:start].rstrip(" \t:=")
    if re.search(rf"(?<!\w){re.escape(scope)}$", before, re.I):
        return True
    pattern = re.compile(rf"(?<!\w){re.escape(scope)}(?!\w)", re.I)
    for header in reversed(earlier):
        for match in pattern.finditer(header):
            if any(s in header and s in text for s in SEPARATORS):
                if _cell(header, match.start()) == _cell(text, start):
                    return True
            elif match.start() < end and start < match.end():
                return True
    return False


def _cell(line: str, position: int) -> int:
    return sum(line[:position].count(s) for s in SEPARATORS)


def render_terminal(text: str) -> str:
    """What a terminal shows for `text`: colours dropped, carriage returns and backspaces applied."""
    text = ANSI.sub("", text).replace("\r\n", "\n")
    shown = []
    for raw in text.split("\n"):
        cells: list[str] = []
        cursor = 0
        for char in raw:
            if char == "\r":
                cursor = 0
            elif char == "\b":
                cursor = max(0, cursor - 1)
            else:
                if cursor < len(cells):
                    cells[cursor] = char
                else:
                    cells.extend(" " * (cursor - len(cells)) + char)
                cursor += 1
        shown.append("".join(cells).rstrip())
    return "\n".join(shown)


def clean(text: str) -> str:
    """Printed text as a page shows it: terminal-rendered, no trailing spaces, no blank lines at the ends."""
    return render_terminal(text).strip("\n").rstrip() + "\n" if text.strip() else ""


def mask(line: str) -> str:
    """A line with its timings and progress bars replaced by placeholders."""
    for pattern, placeholder in MASKS:
        line = pattern.sub(placeholder, line)
    return line.rstrip()


def _lines(text: str) -> list[str]:
    return [mask(line) for line in clean(text).splitlines()]


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@dataclass(frozen=True)
class Verdict:
    ok: bool
    details: tuple[str, ...] = ()
    shown: tuple[str, ...] = ()
    printed: tuple[str, ...] = ()

    def diff(self, shown_name: str, printed_name: str) -> str:
        lines = difflib.unified_diff(list(self.shown), list(self.printed), shown_name, printed_name, lineterm="", n=2)
        return "\n".join(lines)


def compare(shown: str, printed: str, rules: Rules) -> Verdict:
    """Whether `printed` matches `shown` under `rules`, with the reasons when it does not."""
    a, b = _lines(shown), _lines(printed)
    details: list[str] = []
    if len(a) != len(b):
        details.append(f"the page shows {len(a)} line(s), the block printed {len(b)}")
    else:
        for n, (line_a, line_b) in enumerate(zip(a, b)):
            details += _compare_line(n, line_a, line_b, a[:n], rules)
    details += [f"the rule `{rule.describe()}` covers no number of the shown output" for rule in rules.rules
                if rule.scope and a and not _covers_any(rule, a)]
    return Verdict(ok=not details, details=tuple(details), shown=tuple(a), printed=tuple(b))


def _covers_any(rule: Rule, lines: list[str]) -> bool:
    return any(_covers(rule.scope, line, m.start(), m.end(), lines[:n])
               for n, line in enumerate(lines) for m in NUMBER.finditer(line))


def _compare_line(n: int, shown: str, printed: str, earlier: list[str], rules: Rules) -> list[str]:
    numbers_a, numbers_b = list(NUMBER.finditer(shown)), list(NUMBER.finditer(printed))
    texts_a, texts_b = NUMBER.split(shown), NUMBER.split(printed)
    if len(numbers_a) != len(numbers_b) or [_squeeze(t) for t in texts_a] != [_squeeze(t) for t in texts_b]:
        return [f"output line {n + 1} differs beyond its numbers"]
    problems = []
    for match_a, match_b in zip(numbers_a, numbers_b):
        rule = rules.for_number(shown, match_a.start(), match_a.end(), earlier)
        value_a, value_b = float(match_a.group().replace(",", "")), float(match_b.group().replace(",", ""))
        if rule is None:
            if match_a.group() != match_b.group():
                problems.append(f"output line {n + 1}: {match_b.group()} printed where the page shows "
                                f"{match_a.group()} (exact)")
            continue
        why = rule.check(value_a, value_b)
        if why:
            problems.append(f"output line {n + 1}: {match_b.group()} printed where the page shows "
                            f"{match_a.group()}: {why} [rule: {rule.describe()}]")
    return problems
