"""The validation search that chose the fast recipe, without looking at the test set.

Each candidate is the fast recipe with a few settings changed. It trains on the first 50,000 training images
and is scored on the last 10,000, which it never trains on (`Spec(validation=True)`); the test set is not
read. The rule that picks the winner: among the candidates whose every seed reaches THRESHOLD on the
validation images, the one with the shortest estimated fit time. An epoch at a given batch size costs the same
whatever the learning rate and the smoothing, so the estimate is the candidate's epochs times the median
seconds per epoch of every run at its batch size: on a shared machine one candidate's own two runs vary too
much to rank it.
`RECIPES["fast"]` is that candidate; the test suite checks that it still is.
"""

from __future__ import annotations

import itertools
import statistics

VALIDATION_IMAGES = 10_000  # the last training images: the search's held-out set
THRESHOLD = 0.991  # every seed must reach this on the validation images: the target, 0.990, plus a margin
SEARCH_SEEDS = 2
# --8<-- [start:candidates]
# What the search varies, every combination: batch size, epochs, peak learning rate and label smoothing. The
# cosine decay always ends with the last epoch; the rest of the fast recipe (Adam, warm-up, floor, precision,
# input pipeline) is kept.
BATCH_SIZES = (64, 128, 256)
EPOCHS = (1, 2)
LEARNING_RATES = (5e-3, 1e-2, 2e-2)
LABEL_SMOOTHING = (0.0, 0.1)


def candidates() -> list[dict]:
    """The recipe changes of every candidate, in the order the search runs them."""
    return [{"batch_size": batch, "epochs": epochs, "learning_rate": rate, "decay_epochs": float(epochs),
             "label_smoothing": smoothing}
            for batch, epochs, rate, smoothing in itertools.product(BATCH_SIZES, EPOCHS, LEARNING_RATES, LABEL_SMOOTHING)]
# --8<-- [end:candidates]


def name(candidate: dict) -> str:
    return (f"batch {candidate['batch_size']}, {candidate['epochs']} epoch(s), peak rate {candidate['learning_rate']:g}, "
            f"smoothing {candidate['label_smoothing']:g}")


# --8<-- [start:rule]
def seconds_per_epoch(runs: list[dict]) -> dict[int, float]:
    """The median fit seconds per epoch of all runs at each batch size, whatever their learning rate."""
    batches = sorted({run["spec"]["overrides"]["batch_size"] for run in runs})
    return {batch: statistics.median(run["fit_seconds"] / run["spec"]["overrides"]["epochs"] for run in runs
                                     if run["spec"]["overrides"]["batch_size"] == batch) for batch in batches}


def summarize(runs: list[dict]) -> list[dict]:
    """One row per candidate: its runs' median fit time, its estimated fit time and its validation accuracies."""
    per_epoch = seconds_per_epoch(runs)
    rows = []
    for candidate in candidates():
        mine = [run for run in runs if run["spec"]["overrides"] == candidate]
        if not mine:
            continue
        accuracies = [run["final_accuracy"] for run in mine]
        rows.append({"candidate": candidate, "name": name(candidate), "seeds": len(mine),
                     "fit_seconds": statistics.median(run["fit_seconds"] for run in mine),
                     "estimated_seconds": candidate["epochs"] * per_epoch[candidate["batch_size"]],
                     "validation_accuracies": accuracies, "validation_mean": statistics.fmean(accuracies),
                     "qualifies": min(accuracies) >= THRESHOLD})
    return rows


def choose(rows: list[dict]) -> dict | None:
    """The shortest estimated fit time among the candidates whose every seed reaches THRESHOLD, the first in the
    search's order on a tie (None if no candidate qualifies)."""
    qualified = [row for row in rows if row["qualifies"]]
    return min(qualified, key=lambda row: row["estimated_seconds"]) if qualified else None
# --8<-- [end:rule]


def format_rows(rows: list[dict], chosen: dict | None) -> str:
    """The search as a plain-text table, the chosen candidate marked."""
    width = max(len(row["name"]) for row in rows)
    lines = [f"{'candidate'.ljust(width)}  fit s (median)  estimated s  validation accuracy per seed  qualifies"]
    for row in rows:
        mark = "  <- chosen" if row is chosen else ""
        seeds = ", ".join(f"{value:.4f}" for value in row["validation_accuracies"])
        lines.append(f"{row['name'].ljust(width)}  {row['fit_seconds']:14.2f}  {row['estimated_seconds']:11.2f}  "
                     f"{seeds:<28}  {'yes' if row['qualifies'] else 'no'}{mark}")
    return "\n".join(lines)
