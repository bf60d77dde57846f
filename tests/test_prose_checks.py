"""The claim machinery of pagetest.prose on a sample page: a claim fails exactly where the page and the code
disagree, and the scans report each significant number and each comparative sentence that nothing covers."""

from __future__ import annotations

from pathlib import Path

import pytest

from pagetest.prose import Claim, check, says, unchecked_comparisons, unchecked_numbers

SAMPLE = """# Max pooling

Without pooling, the last feature map has 22·22·128 = **61,952** values per sample,
so the Dense layer alone has 619,530 parameters. The third layer sees a 7×7 window.
The convnet reaches 99.1% test accuracy; the book reports 97.8% for the dense model.
Max pooling beats average pooling here.

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
        Claim("docs/pooling.md", "has {}·{}·{} = **{}** values", lambda: (22, 22, 128, 22 * 22 * 128)),
        Claim("docs/pooling.md", "the Dense layer alone has {} parameters", lambda: (61952 + 1) * dense_units),
        Claim("docs/pooling.md", "sees a {}×{} window", lambda: (window, window)),
        Claim("docs/pooling.md", "reaches {} test accuracy", lambda: accuracy, fmt="{:.1%}", tolerance=0.005),
    ]


@pytest.mark.parametrize("claims, problems", [
    pytest.param(sample_claims(), [], id="claims that match the code pass"),
    pytest.param(sample_claims(dense_units=11)[1:2], [
        "docs/pooling.md: 'the Dense layer alone has 619,530 parameters' says 619,530, but the code computes 681,483"],
        id="a changed architecture fails the sentence that states its parameters"),
    pytest.param(sample_claims(window=5)[2:3], [
        "docs/pooling.md: 'sees a 7×7 window' says 7, 7, but the code computes 5, 5"],
        id="a changed window fails the sentence that states it"),
    pytest.param(sample_claims(accuracy=0.9870)[3:], [], id="a measured value passes within its tolerance"),
    pytest.param(sample_claims(accuracy=0.9412)[3:], [
        "docs/pooling.md: 'reaches 99.1% test accuracy' says 99.1%, but the code computes 94.1% (allowed: ±0.005)"],
        id="a measured value fails beyond its tolerance"),
    pytest.param([Claim("docs/pooling.md", "the Dense layer has {} weights", lambda: 619530)], [
        "docs/pooling.md: the sentence 'the Dense layer has {} weights' is no longer on the page; the closest is "
        "'Without pooling, the last feature map has 22·22·128 = **61,952** values per sample, so the Dense layer alone "
        "has 619,530 parameters.'. Update the claim with it."],
        id="a claim whose sentence was rewritten fails and shows the closest sentence"),
])
def test_a_claim_fails_exactly_where_the_page_and_the_code_disagree(sample, claims, problems):
    assert [problem for claim in claims for problem in check(claim, sample)] == problems


def test_a_number_no_claim_covers_is_reported_and_quoting_it_clears_it(sample):
    unchecked = unchecked_numbers("docs/pooling.md", sample, sample_claims(), [])
    assert [line.split(" in ")[0] for line in unchecked] == ["docs/pooling.md: '97.8%'"]
    assert unchecked_numbers("docs/pooling.md", sample, sample_claims(), ["the book reports 97.8%"]) == []
    assert len(unchecked_numbers("docs/pooling.md", sample, [], [])) == 6  # 22·22·128 and 5 more


def test_a_comparative_sentence_no_check_covers_is_reported(sample):
    assert unchecked_comparisons("docs/pooling.md", sample, []) == ["Max pooling beats average pooling here."]
    assert unchecked_comparisons("docs/pooling.md", sample, ["Max pooling beats\n average"]) == []
    assert says("docs/pooling.md", sample, "values per\n    sample, so")
    assert not says("docs/pooling.md", sample, "pooling beats max")
