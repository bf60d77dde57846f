"""Numbers in a page's prose: each significant one (61,952; 0.991; 99.1%; 320; sizes such as 26×26×32 with a
side over 5, as 2×2 to 5×5 are givens) falls inside a `Claim`, checked against the code, or a quoted fragment.
A claim is a fragment of a sentence as the Markdown writes it, `{}` standing for each number, and the function
computing them: the page must show them as formatted (or within a tolerance); a vanished fragment fails too.
Likewise each comparative sentence ("beats", "no clear difference"...) must hold a fragment that a check covers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from pagetest.plugin import fences

VALUE = r"([-+]?\d(?:\d|[,.](?=\d))*%?)"
HIDDEN = re.compile(r"`[^`\n]+`|<!--.*?-->|\]\([^)]*\)|\{[:#.][^}]*\}|!\[[^\]]*\]")  # code, comments, link targets
TIMES = r"\s?(?:×|·|\\times|\\cdot)\s?"
SIGNIFICANT = re.compile(
    rf"(?<![\w.,])(?:\d+(?:{TIMES}\d+)+"  # sizes and products: 26×26×32, 7 \times 7, 22·22
    r"|\d{1,3}(?:,\d{3})+(?:\.\d+)?%?"  # thousands: 61,952
    r"|\d+\.\d+%?|\d+%"  # decimals and percentages: 0.991, 99.1%, 99%
    r"|\d{3,})(?![\w,]\d)"  # three digits or more: 320
)
COMPARATIVE = re.compile(r"\b(better|beats?|worse|outperforms?|(?:higher|lower|faster|slower) than|"
                         r"no clear difference|comes? first)\b", re.I)


@dataclass(frozen=True)
class Claim:
    page: str  # docs/x.md, relative to the repository root
    sentence: str  # the fragment as the Markdown source writes it, {} where each number stands
    value: Callable[[], Any]  # the number, or a tuple of them, one per {}
    fmt: str = "{:,}"  # how the page writes each number
    tolerance: float = 0.0  # for measured values: how far the page's numbers may be from the computed ones

    def expected(self) -> list[str]:
        values = self.value()
        return [self.fmt.format(value) for value in (values if isinstance(values, tuple) else (values,))]

    def pattern(self) -> re.Pattern:
        return re.compile(VALUE.join(fragment(part) for part in self.sentence.split("{}")))


def fragment(text: str) -> str:
    """A regular expression for `text` as written, where any run of whitespace matches any other."""
    return r"\s+".join(re.escape(word) for word in re.split(r"\s+", text))


def prose(text: str, lines: bool = False) -> str:
    """The page's Markdown without its fenced blocks: on its lines, or on one line with single spaces."""
    kept = text.splitlines()
    for fence in fences(kept):
        kept[fence.start:fence.end + 1] = [""] * len(kept[fence.start:fence.end + 1])
    return "\n".join(kept) if lines else " ".join("\n".join(kept).split())


def closest_sentence(text: str, among: str) -> str | None:
    """The sentence of `among` sharing the most words with `text` (None when none shares half)."""
    words = set(re.findall(r"\w+", text.lower()))
    shared = {" ".join(sentence.split()): len(words & set(re.findall(r"\w+", sentence.lower())))
              for sentence in re.split(r"(?<=[.!?])\s+|\n\s*\n", among)}
    best = max(shared, key=shared.get, default=None)
    return best if best and words and shared[best] >= len(words) / 2 else None


def check(claim: Claim, root: Path) -> list[str]:
    """Why `claim` fails on its page (an empty list when it holds)."""
    def as_number(text: str) -> float:
        return float(text.replace(",", "").rstrip("%")) / (100 if text.endswith("%") else 1)

    source = (root / claim.page).read_text(encoding="utf-8")
    matches = list(claim.pattern().finditer(prose(source)))
    if not matches:
        close = closest_sentence(claim.sentence.replace("{}", ""), prose(source, lines=True))
        return [f"{claim.page}: the sentence {claim.sentence!r} is no longer on the page"
                + (f"; the closest is {close!r}" if close else "") + ". Update the claim with it."]
    expected, problems = claim.expected(), []
    for match in matches:
        shown = list(match.groups())
        if len(shown) != len(expected):
            return [f"{claim.page}: the claim {claim.sentence!r} has {len(shown)} numbers, the code {len(expected)}"]
        if shown != expected and not (claim.tolerance and all(
                abs(as_number(a) - as_number(b)) <= claim.tolerance + 1e-12 for a, b in zip(shown, expected))):
            allowed = f" (allowed: ±{claim.tolerance:g})" if claim.tolerance else ""
            problems.append(f"{claim.page}: {match.group()!r} says {', '.join(shown)}, "
                            f"but the code computes {', '.join(expected)}{allowed}")
    return problems


def unchecked_numbers(page: str, root: Path, claims: list[Claim], quoted: list[str]) -> list[str]:
    """The significant numbers of `page`'s prose that no claim and no quoted fragment covers."""
    plain = prose((root / page).read_text(encoding="utf-8"))
    patterns = [claim.pattern() for claim in claims if claim.page == page] + [re.compile(fragment(q)) for q in quoted]
    covered = [match.span() for pattern in patterns for match in pattern.finditer(plain)]
    found = []
    for match in SIGNIFICANT.finditer(HIDDEN.sub(lambda hidden: " " * len(hidden[0]), plain)):
        (start, end), sides = match.span(), re.split(TIMES, match[0])
        if (len(sides) == 1 or max(map(int, sides)) > 5) and not any(a <= start and end <= b for a, b in covered):
            found.append(f"{page}: {match[0]!r} in “…{plain[max(0, start - 50):end + 30].strip()}…”")
    return found


def says(page: str, root: Path, sentence: str) -> bool:
    """Whether `page`'s prose holds `sentence`, however its lines break."""
    return " ".join(sentence.split()) in prose((root / page).read_text(encoding="utf-8"))


def unchecked_comparisons(page: str, root: Path, checked: list[str]) -> list[str]:
    """The sentences of `page`'s prose with a comparative word that hold none of the `checked` fragments."""
    sentences = re.split(r"(?<=[.!?:])\s+", prose((root / page).read_text(encoding="utf-8")))
    return [sentence for sentence in sentences if COMPARATIVE.search(sentence)
            and not any(" ".join(known.split()) in sentence for known in checked)]


def collapsed(text: str) -> str:
    """The page without its collapsed `???` blocks and HTML comments: what a reader sees without a click."""
    kept, block_indent = [], None
    for line in re.sub(r"<!--.*?-->", " ", text, flags=re.S).splitlines():
        indent = len(line) - len(line.lstrip())
        if block_indent is not None and (not line.strip() or indent > block_indent):
            continue
        block_indent = None
        if opener := re.match(r"^(\s*)\?\?\?\+?\s", line):
            block_indent = len(opener[1])
            continue
        kept.append(line)
    return "\n".join(kept)


def reading_words(text: str) -> int:
    """The words of a page outside its collapsed blocks and comments, its code and outputs included."""
    return len(collapsed(text).split())
