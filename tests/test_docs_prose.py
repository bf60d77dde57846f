"""Numbers in the pages' prose come from the code: each is a claim checked here, or quoted with a reason.

Change an architecture and the sentence that states its parameter count fails here, naming the
sentence; add a number to the prose without a claim and the scan fails, naming the number.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import ROOT
from pagetest.prose import Claim, check, unchecked_numbers

CLAIMS: list[Claim] = []

# Numbers the code does not produce, per page: fragments as the Markdown writes them, each with its reason.
QUOTED: dict[str, list[str]] = {}

PAGES = sorted(str(path.relative_to(ROOT)) for path in (ROOT / "docs").rglob("*.md"))


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda claim: f"{claim.page}: {claim.sentence}")
def test_prose_number_matches_the_code(claim):
    problems = check(claim, ROOT)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("page", PAGES)
def test_every_significant_number_in_the_prose_is_checked_or_quoted(page):
    unchecked = unchecked_numbers(page, ROOT, CLAIMS, QUOTED.get(page, []))
    assert not unchecked, "numbers in the prose that no claim checks (add a Claim, or quote them with a reason):\n" \
        + "\n".join(unchecked)


SAMPLE = """# Max pooling

Without pooling, the last feature map has 22·22·128 = **61,952** values per sample,
so the Dense layer alone has 619,530 parameters. The third layer sees a 7×7 window.
The convnet reaches 99.1% test accuracy; the book reports 97.8% for the dense model.

```python
print(712202)
```
"""


@pytest.fixture
def sample(tmp_path) -> Path:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "pooling.md").write_text(SAMPLE)
    return tmp_path


def sample_claims(dense_units: int = 10, window: int = 7, accuracy: float = 0.9912) -> list[Claim]:
    return [
        Claim("docs/pooling.md", "has 22·22·128 = **{}** values", lambda: 22 * 22 * 128),
        Claim("docs/pooling.md", "the Dense layer alone has {} parameters", lambda: (61952 + 1) * dense_units),
        Claim("docs/pooling.md", "sees a {} window", lambda: window, fmt=lambda n: f"{n}×{n}"),
        Claim("docs/pooling.md", "reaches {} test accuracy", lambda: accuracy, fmt="{:.1%}", tolerance=0.005),
    ]


def test_claims_that_match_the_code_pass(sample):
    assert [problem for claim in sample_claims() for problem in check(claim, sample)] == []


def test_a_changed_architecture_fails_the_sentence_that_states_its_parameters(sample):
    problems = check(sample_claims(dense_units=11)[1], sample)
    assert problems == ["docs/pooling.md: 'the Dense layer alone has 619,530 parameters' says 619,530, "
                        "but the code computes 681,483"]
    assert check(sample_claims(window=5)[2], sample) == [
        "docs/pooling.md: 'sees a 7×7 window' says 7×7, but the code computes 5×5"]


def test_a_measured_value_passes_within_its_tolerance_and_fails_beyond(sample):
    assert check(sample_claims(accuracy=0.9870)[3], sample) == []
    assert "says 99.1%, but the code computes 94.1%" in check(sample_claims(accuracy=0.9412)[3], sample)[0]


def test_a_claim_whose_sentence_was_rewritten_fails_and_shows_the_closest_sentence(sample):
    claim = Claim("docs/pooling.md", "the Dense layer has {} weights", lambda: 619530)
    problem, = check(claim, sample)
    assert "is no longer on the page; the closest is 'Without pooling, the last feature map" in problem


def test_a_number_no_claim_covers_is_reported_and_quoting_it_clears_it(sample):
    unchecked = unchecked_numbers("docs/pooling.md", sample, sample_claims(), [])
    assert [line.split(" in ")[0] for line in unchecked] == ["docs/pooling.md: '97.8%'"]
    assert unchecked_numbers("docs/pooling.md", sample, sample_claims(), ["the book reports 97.8%"]) == []
    assert len(unchecked_numbers("docs/pooling.md", sample, [], [])) == 6  # 22·22·128 and 5 more
