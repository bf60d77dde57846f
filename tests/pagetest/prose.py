"""Numbers in a page's prose: each must be a claim checked against the code, or quoted with a reason.

A `Claim` names a sentence fragment as the Markdown source writes it, with `{}` where each number stands
(a size is written `{}×{}`), and the function that computes the numbers. The check finds the fragment on
the page, reads the numbers there and compares them with the computed ones: exactly as formatted, or
within a tolerance for measured values such as accuracies. A fragment that is no longer on the page fails too, so a rewritten sentence
cannot silently drop its check.

`significant_numbers` finds the numbers a reader would take as results: thousands (61,952), decimals
(0.991), percentages (99.1%), integers of three digits or more, and sizes and products such as
26×26×32 or 22·22·128 with a side of 6 or more (the small windows and toy inputs, 2×2, 3×3, 5×5, are the
chapters' givens, not results). Every one of them must fall inside a claim's fragment or a quoted fragment (a number the
code does not produce, such as the book's own figures), so a new number cannot go unchecked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

VALUE = r"([-+]?\d(?:\d|[,.](?=\d))*%?)"
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
    sentence: str  # the fragment as the Markdown source writes it, {} where each number stands
    value: Callable[[], Any]  # the number, or a tuple of them, one per {}
    fmt: Callable[[Any], str] | str = "{:,}"  # how the page writes each number
    tolerance: float = 0.0  # for measured values: how far the page's numbers may be from the computed ones

    def expected(self) -> list[str]:
        values = self.value()
        values = values if isinstance(values, tuple) else (values,)
        return [self.fmt(v) if callable(self.fmt) else self.fmt.format(v) for v in values]

    def pattern(self) -> re.Pattern:
        parts = [_flexible_space(re.escape(part)) for part in self.sentence.split("{}")]
        return re.compile(VALUE.join(parts))


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
    expected = claim.expected()
    problems = []
    for match in matches:
        shown = list(match.groups())
        if len(shown) != len(expected):
            return [f"{claim.page}: the claim {claim.sentence!r} has {len(shown)} numbers, the code gives {len(expected)}"]
        if claim.tolerance:
            ok = all(abs(as_number(a) - as_number(b)) <= claim.tolerance + 1e-12 for a, b in zip(shown, expected))
        else:
            ok = shown == expected
        if not ok:
            allowed = f" (allowed: ±{claim.tolerance:g})" if claim.tolerance else ""
            problems.append(f"{claim.page}: {match.group()!r} says {', '.join(shown)}, "
                            f"but the code computes {', '.join(expected)}{allowed}")
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
        sides = re.split(r"\s?(?:×|·|\\times|\\cdot)\s?", match.group())
        if len(sides) > 1 and max(int(side) for side in sides) <= 5:
            continue
        if not any(a <= start and end <= b for a, b in covered):
            found.append(f"{page}: {match.group()!r} in “…{plain[max(0, start - 50):end + 30].strip()}…”")
    return found
