"""Means with confidence intervals over seeds, and paired differences: what a comparative sentence needs."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class Interval:
    """A mean over n runs and its two-sided confidence interval."""

    mean: float
    low: float
    high: float
    n: int

    def excludes_zero(self) -> bool:
        """True when the interval lies wholly above or wholly below 0: the difference is resolved."""
        return self.low > 0 or self.high < 0

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2


def t_quantile(p: float, df: float) -> float:
    """The p-quantile (0.5 < p < 1) of Student's t distribution with df degrees of freedom."""
    if not 0.5 < p < 1 or df < 1:
        raise ValueError(f"need 0.5 < p < 1 and df >= 1, got p={p}, df={df}")
    low, high = 0.0, 1.0
    while t_cdf(high, df) < p:
        high *= 2
    for _ in range(200):  # bisection: the CDF is increasing
        middle = (low + high) / 2
        low, high = (middle, high) if t_cdf(middle, df) < p else (low, middle)
    return (low + high) / 2


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for t >= 0, through the regularized incomplete beta function."""
    x = df / (df + t * t)
    return 1 - 0.5 * _incomplete_beta(df / 2, 0.5, x)


def _incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b), by its continued fraction (Lentz's method)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    if x > (a + 1) / (a + b + 2):  # the fraction converges fast on this side only
        return 1 - _incomplete_beta(b, a, 1 - x)
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)) / a
    tiny, f, c, d = 1e-300, 1.0, 1.0, 0.0
    for i in range(400):
        m = i // 2
        if i == 0:
            numerator = 1.0
        elif i % 2 == 0:
            numerator = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
        else:
            numerator = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
        d = 1 + numerator * d
        d = 1 / (d if abs(d) > tiny else tiny)
        c = 1 + numerator / c
        c = c if abs(c) > tiny else tiny
        f *= c * d
        if abs(1 - c * d) < 1e-15:
            break
    return front * (f - 1)


def mean_interval(values: Sequence[float], level: float = 0.95) -> Interval:
    """The mean of `values` and its t-based confidence interval (needs two values or more)."""
    n = len(values)
    if n < 2:
        raise ValueError(f"a confidence interval needs at least 2 values, got {n}")
    mean = statistics.fmean(values)
    half = t_quantile((1 + level) / 2, n - 1) * statistics.stdev(values) / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, n)


def accuracy_difference(first: float, second: float, images: int, level: float = 0.95) -> Interval:
    """first − second for two accuracies measured on the same `images` test images, with the normal interval
    of a difference of two proportions: the test set's sampling noise, not the seeds'."""
    z = statistics.NormalDist().inv_cdf((1 + level) / 2)
    half = z * math.sqrt((first * (1 - first) + second * (1 - second)) / images)
    return Interval(first - second, first - second - half, first - second + half, images)


def paired_difference(first: Sequence[float], second: Sequence[float], level: float = 0.95) -> Interval:
    """Mean of first[i] − second[i] over runs paired by seed, with its confidence interval."""
    if len(first) != len(second):
        raise ValueError(f"paired runs need as many values on each side, got {len(first)} and {len(second)}")
    return mean_interval([a - b for a, b in zip(first, second)], level)


def unpaired_difference(first: Sequence[float], second: Sequence[float], level: float = 0.95) -> Interval:
    """mean(first) − mean(second) with Welch's interval, which ignores any pairing of the runs."""
    if len(first) < 2 or len(second) < 2:
        raise ValueError("an interval needs at least 2 values on each side")
    v1, v2 = statistics.variance(first) / len(first), statistics.variance(second) / len(second)
    df = (v1 + v2) ** 2 / (v1 ** 2 / (len(first) - 1) + v2 ** 2 / (len(second) - 1))  # Welch–Satterthwaite
    difference = statistics.fmean(first) - statistics.fmean(second)
    half = t_quantile((1 + level) / 2, df) * math.sqrt(v1 + v2)
    return Interval(difference, difference - half, difference + half, len(first) + len(second))
