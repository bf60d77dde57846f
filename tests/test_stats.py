"""The intervals behind the site's comparative sentences: Student's t quantiles, means and paired differences."""

from __future__ import annotations

import pytest

from convnets.stats import (Interval, accuracy_difference, mean_interval, paired_difference, t_quantile,
                            unpaired_difference)


@pytest.mark.parametrize("df, expected", [(1, 12.706), (2, 4.303), (4, 2.776), (9, 2.262), (19, 2.093),
                                          (29, 2.045), (120, 1.980)])
def test_t_quantile_matches_the_printed_tables(df, expected):
    assert t_quantile(0.975, df) == pytest.approx(expected, abs=5e-4)


def test_t_quantile_rejects_a_one_sided_or_impossible_request():
    with pytest.raises(ValueError):
        t_quantile(0.4, 5)
    with pytest.raises(ValueError):
        t_quantile(0.975, 0)


def test_mean_interval_is_the_mean_plus_or_minus_t_times_the_standard_error():
    interval = mean_interval([1, 2, 3, 4, 5])  # standard deviation √2.5, standard error √0.5
    assert interval.mean == 3 and interval.n == 5
    assert interval.half_width == pytest.approx(2.776 * 0.5 ** 0.5, abs=1e-3)


def test_mean_interval_needs_two_values():
    with pytest.raises(ValueError, match="at least 2"):
        mean_interval([0.99])


def test_paired_difference_removes_what_the_seeds_share():
    first = [0.970, 0.980, 0.960, 0.975]
    second = [0.968, 0.978, 0.958, 0.973]  # 0.002 lower on every seed, whatever the seed's level
    paired = paired_difference(first, second)
    assert paired.mean == pytest.approx(0.002) and paired.excludes_zero()
    assert not (mean_interval(first).low > mean_interval(second).high)  # unpaired, the intervals overlap


def test_paired_difference_needs_runs_on_both_sides():
    with pytest.raises(ValueError, match="as many values"):
        paired_difference([0.9, 0.8], [0.9])


@pytest.mark.parametrize("low, high, resolved", [(0.001, 0.003, True), (-0.003, -0.001, True), (-0.001, 0.002, False)])
def test_an_interval_resolves_a_difference_only_when_it_excludes_zero(low, high, resolved):
    assert Interval((low + high) / 2, low, high, 10).excludes_zero() is resolved


def test_accuracy_difference_on_ten_thousand_images_resolves_a_point_but_not_a_tenth():
    assert accuracy_difference(0.992, 0.980, 10_000).excludes_zero()  # about 7 standard errors apart
    close = accuracy_difference(0.9912, 0.9905, 10_000)
    assert not close.excludes_zero() and close.half_width == pytest.approx(1.96 * 0.001347, abs=2e-5)


def test_unpaired_difference_is_welchs_interval():
    # two groups with equal variances and sizes: Welch's df is 2(n − 1) = 8, t = 2.306
    interval = unpaired_difference([1, 2, 3, 4, 5], [0, 1, 2, 3, 4])
    assert interval.mean == 1 and interval.half_width == pytest.approx(2.306 * 1.0, abs=2e-3)


def test_unpaired_difference_is_wider_than_the_paired_one_when_the_seeds_share_their_luck():
    first, second = [0.970, 0.980, 0.960, 0.975], [0.968, 0.978, 0.958, 0.973]
    assert not unpaired_difference(first, second).excludes_zero()
    assert paired_difference(first, second).excludes_zero()
