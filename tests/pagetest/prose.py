"""Numbers in a page's prose: each must be a claim checked against the code, or quoted with a reason.

A `Claim` names a sentence fragment as the Markdown source writes it, with `{}` where the number stands,
and the function that computes the number. The check finds the fragment on the page, reads the number
there and compares it with the computed one: exactly as formatted, or within a tolerance for measured
values such as accuracies. A fragment that is no longer on the page fails too, so a rewritten sentence
cannot silently drop its check.

`significant_numbers` finds the numbers a reader would take as results: thousands (61,952), decimals
(0.991), percentages (99.1%), integers of three digits or more, and sizes such as 26×26×32 or 3×3.
Every one of them must fall inside a claim's fragment or a quoted fragment (a number the
code does not produce, such as the book's own figures), so a new number cannot go unchecked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

VALUE = r"(?P<value>[-+]?\d(?:[\d,×·]|\.(?=\d)|\s?\\(?:times|cdot)\s?(?=\d))*%?)"
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<marker>`{3,}|~{3,}).*?^(?P=indent)(?P=marker)[ \t]*$", re.M | re.S)
HIDDEN = re.compile(r"`[^`\n]+`|<!--.*?-->|\]\([^)]*\)|\{[:#.][^}]*\}|!\[[^\]]*\]|^---\n.*?\n---\n", re.S | re.M)
SIGNIFICANT = re.compile(
    r"(?<![\w.,])(?:\d+(?:\s?(?:×|·|\\times|\\cdot)\s?\d+)+"  # sizes and products: 26×26×32, 7 \times 7, 22·22
    r"|\d{1,3}(?:,\d{3})+(?:\.\d+)?%?"  # thousands: 61,952
    r"|\d+\.\d+%?"  # decimals and percentages: 0.991, 99.1%
    r"|\d+%"  # whole percentages
    r"|\d{3,})(?![\w,]\d)"  # three digits or more: 320
)


@dataclass(frozen=True)
class Claim:
    page: str  # docs/x.md, relative to the repository root
    sentence: str  # the fragment as the Markdown source writes it, {} where the number stands
    value: Callable[[], float | int | str]
    fmt: Callable[[float | int | str], str] | str = "{:,}"
    tolerance: float = 0.0  # for measured values: how far the page's number may be from the computed one

    def expected(self, value) -> str:
        return self.fmt(value) if callable(self.fmt) else self.fmt.format(value)

    def pattern(self) -> re.Pattern:
        head, _, tail = (re.escape(part) for part in self.sentence.partition("{}"))
        return re.compile(_flexible_space(head) + VALUE + _flexible_space(tail))


def _flexible_space(escaped: str) -> str:
    return re.sub(r"(?:\\ |\\\n)+", r"\\s+", escaped)


def prose(text: str) -> str:
    """The page's Markdown without its fenced blocks, with runs of whitespace made single spaces."""
    text = FENCE.sub(lambda m: " " * len(m.group()), text)
    return re.sub(r"\s+", " ", text)


def visible_prose(text: str) -> str:
    """Prose without what a reader does not take as prose numbers: inline code, comments, link targets."""
    return HIDDEN.sub(lambda m: " " * len(m.group()), prose(text))


def as_number(text: str) -> float:
    clean = text.replace(",", "").rstrip("%")
    return float(clean) / (100 if text.endswith("%") else 1)


def closest_sentence(fragment: str, text: str) -> str | None:
    """The sentence of `text` sharing the most words with `fragment` (None when none shares half)."""
    words = set(re.findall(r"\w+", fragment.lower()))
    sentences = [re.sub(r"\s+", " ", s) for s in re.split(r"(?<=[.!?])\s+|\n\s*\n", text)]
    best = max(sentences, key=lambda sentence: len(words & set(re.findall(r"\w+", sentence.lower()))), default=None)
    shared = len(words & set(re.findall(r"\w+", (best or "").lower())))
    return best.strip() if best and words and shared >= len(words) / 2 else None


def check(claim: Claim, root: Path) -> list[str]:
    """Why `claim` fails on its page (an empty list when it holds)."""
    source = (root / claim.page).read_text(encoding="utf-8")
    text = prose(source)
    matches = list(claim.pattern().finditer(text))
    if not matches:
        close = closest_sentence(claim.sentence.replace("{}", ""), FENCE.sub("\n\n", source))
        return [f"{claim.page}: the sentence {claim.sentence!r} is no longer on the page"
                + (f"; the closest is {close!r}" if close else "") + ". Update the claim with it."]
    value = claim.value()
    expected = claim.expected(value)
    problems = []
    for match in matches:
        shown = match["value"]
        if claim.tolerance:
            ok = abs(as_number(shown) - as_number(expected)) <= claim.tolerance + 1e-12
        else:
            ok = shown == expected
        if not ok:
            allowed = f" (allowed: ±{claim.tolerance:g})" if claim.tolerance else ""
            problems.append(f"{claim.page}: {match.group()!r} says {shown}, but the code computes {expected}{allowed}")
    return problems


def spans(pattern: re.Pattern, text: str) -> list[tuple[int, int]]:
    return [match.span() for match in pattern.finditer(text)]


def unchecked_numbers(page: str, root: Path, claims: list[Claim], quoted: list[str]) -> list[str]:
    """The significant numbers of `page`'s prose that no claim and no quoted fragment covers."""
    text = (root / page).read_text(encoding="utf-8")
    plain, visible = prose(text), visible_prose(text)
    covered = [s for claim in claims if claim.page == page for s in spans(claim.pattern(), plain)]
    covered += [s for fragment in quoted for s in spans(re.compile(_flexible_space(re.escape(fragment))), plain)]
    found = []
    for match in SIGNIFICANT.finditer(visible):
        start, end = match.span()
        if not any(a <= start and end <= b for a, b in covered):
            found.append(f"{page}: {match.group()!r} in “…{plain[max(0, start - 50):end + 30].strip()}…”")
    return found
