"""Compare what a block printed with the output its page shows: exactly, but for timings (`9s`, `10ms/step`,
`1:05`, `ETA: 3s`) and progress bars (`938/938 ━━━`, `[===>...]`), masked on both sides (table borders stay
exact), and with runs of spaces counting as one. `<!-- output: RULE; ... -->` between a block and its output
sets tolerances: RULE is [SCOPE] SETTING..., SCOPE a WORD, "PHRASE" or /REGEX/, SETTING abs=N or rel=N% (from
the shown number; both: the larger), min=N or max=N (alone, any number within) or any. An unscoped rule covers
the decimal numbers (integers stay exact); a scope, the numbers it labels (`loss: 0.31`; whole words, any case)
or heads in an earlier line (the same `|` cell, else overlapping characters); a /REGEX/, the numbers of the
lines it finds. The first scoped rule covering a number wins; one that covers no number is an error. A rule
that starts `on BACKEND:` (`on jax: accuracy abs=0.01`) holds only under that Keras backend, and comes first there.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass

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
    text: str  # as written
    scope: str | None  # a label, or a /REGEX/ for whole lines
    regex: re.Pattern | None  # the scope's, when it is a /REGEX/
    limits: dict  # abs, rel (a fraction: rel=25% is 0.25), min and max as numbers; any as True

    def check(self, shown: float, printed: float) -> str | None:
        """Why `printed` fails this rule against `shown`, or None when it passes."""
        most, share, low, high = (self.limits.get(name) for name in ("abs", "rel", "min", "max"))
        if low is not None and printed < low:
            return f"below min={low:g}"
        if high is not None and printed > high:
            return f"above max={high:g}"
        allowed = max(most or 0.0, (share or 0.0) * abs(shown)) + 1e-12 * max(1.0, abs(shown))
        if "any" in self.limits or (most is None and share is None) or abs(printed - shown) <= allowed:
            return None
        allowed_by = " or ".join(word for word in self.text.split() if word.startswith(("abs=", "rel=")))
        return f"differs by {abs(printed - shown):.4g} (allowed: {allowed_by})"

    def covers(self, line: str, number: re.Match, earlier: list[str]) -> bool:
        """Whether this scoped rule covers `number` of `line`: by the line, the number's label or its column."""
        def cell(text: str, position: int) -> int:
            return sum(text[:position].count(s) for s in SEPARATORS)

        if self.regex:
            return self.regex.search(line) is not None
        if re.search(rf"(?<!\w){re.escape(self.scope)}$", line[:number.start()].rstrip(" \t:="), re.I):
            return True
        for header in reversed(earlier):
            for match in re.finditer(rf"(?<!\w){re.escape(self.scope)}(?!\w)", header, re.I):
                if any(s in header and s in line for s in SEPARATORS):  # a table with cells: the same cell
                    if cell(header, match.start()) == cell(line, number.start()):
                        return True
                elif match.start() < number.end() and number.start() < match.end():  # aligned: overlapping
                    return True
        return False


def parse_rules(body: str, where: str = "directive", backend: str | None = None) -> list[Rule]:
    """The rules of `<!-- output: BODY -->` under `backend` (KERAS_BACKEND's, by default): that backend's own first,
    then the scoped ones."""
    backend = backend or os.environ.get("KERAS_BACKEND", "tensorflow")
    rules, own = [], set()
    for chunk in filter(None, (chunk.strip() for chunk in body.split(";"))):
        keep = True  # a rule of another backend is parsed, so that its errors show on every backend, then dropped
        if on := re.match(r"on (\w+):\s*", chunk):
            if on[1] not in ("tensorflow", "jax", "torch"):
                raise DirectiveError(f"{where}: {on[1]!r} is not a Keras backend (tensorflow, jax or torch)")
            chunk, keep = chunk[on.end():], on[1] == backend
            if keep:
                own.add(len(rules))
        words = [phrase or word for phrase, word in re.findall(r'"([^"]*)"|(\S+)', chunk)]  # "a phrase" is one
        scope = words.pop(0) if words and "=" not in words[0] and words[0] != "any" else None
        regex, limits = None, {}
        if scope and len(scope) > 2 and scope[0] == scope[-1] == "/":
            try:
                regex = re.compile(scope[1:-1])
            except re.error as error:
                raise DirectiveError(f"{where}: {scope} is not a regular expression: {error}") from None
        for word in words:
            name, _, value = word.partition("=")
            if word == "any":
                limits["any"] = True
            elif name in ("abs", "min", "max") or (name == "rel" and value.endswith("%")):
                try:
                    limits[name] = float(value.removesuffix("%")) / (100 if name == "rel" else 1)
                except ValueError:
                    raise DirectiveError(f"{where}: {word!r} needs a number") from None
            else:
                raise DirectiveError(f"{where}: {word!r} is not one of abs=N, rel=N%, min=N, max=N, any "
                                     "(a scope word may only come first)")
        if not limits:
            raise DirectiveError(f"{where}: the rule {chunk!r} sets no tolerance")
        rules.extend([Rule(chunk, scope, regex, limits)] if keep else [])
    order = sorted(range(len(rules)), key=lambda i: (i not in own, rules[i].scope is None))
    return [rules[i] for i in order]


def clean(text: str) -> str:
    """Printed text as a terminal shows it (colours dropped, carriage returns and backspaces applied), without
    trailing spaces or blank lines at the ends."""
    shown = []
    for raw in ANSI.sub("", text).replace("\r\n", "\n").split("\n"):
        cells, cursor = [], 0
        for char in raw:
            if char in "\r\b":
                cursor = 0 if char == "\r" else max(0, cursor - 1)
            else:
                cells[cursor:cursor + 1] = [char]  # overwrites, or appends at the end of the line
                cursor += 1
        shown.append("".join(cells).rstrip())
    return "\n".join(shown).strip("\n") + "\n" if text.strip() else ""


def _lines(text: str) -> list[str]:
    """The lines to compare: cleaned, with timings and progress bars replaced by placeholders."""
    lines = clean(text).splitlines()
    for pattern, placeholder in MASKS:
        lines = [pattern.sub(placeholder, line).rstrip() for line in lines]
    return lines


def compare(shown: str, printed: str, rules: list[Rule]) -> list[str]:
    """Why `printed` does not match `shown` under `rules` (nothing when it does)."""
    a, b = _lines(shown), _lines(printed)
    problems = [f"the page shows {len(a)} line(s), the block printed {len(b)}"] if len(a) != len(b) else []
    for n, (line_a, line_b) in enumerate(zip(a, b) if not problems else []):
        texts = [[" ".join(text.split()) for text in NUMBER.split(line)] for line in (line_a, line_b)]
        if texts[0] != texts[1]:
            problems.append(f"output line {n + 1} differs beyond its numbers")  # or has more or fewer numbers
            continue
        for x, y in zip(NUMBER.finditer(line_a), NUMBER.finditer(line_b)):
            scoped = (rule for rule in rules if rule.scope and rule.covers(line_a, x, a[:n]))
            rule = next(scoped, None) or next((r for r in rules if not r.scope and set(x[0]) & set(".eE")), None)
            where = f"output line {n + 1}: {y[0]} printed where the page shows {x[0]}"
            if rule is None and x[0] != y[0]:
                problems.append(f"{where} (exact)")
            elif rule and (why := rule.check(float(x[0].replace(",", "")), float(y[0].replace(",", "")))):
                problems.append(f"{where}: {why} [rule: {rule.text}]")
    unused = [rule for rule in rules if rule.scope and a and not any(
        rule.covers(line, number, a[:n]) for n, line in enumerate(a) for number in NUMBER.finditer(line))]
    return problems + [f"the rule `{rule.text}` covers no number of the shown output" for rule in unused]


def diff(shown: str, printed: str, shown_name: str, printed_name: str) -> str:
    return "\n".join(difflib.unified_diff(_lines(shown), _lines(printed), shown_name, printed_name, lineterm="", n=2))
