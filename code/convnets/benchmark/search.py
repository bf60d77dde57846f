"""The validation search that chose the fast recipe, without looking at the test set.

Each candidate is the fast recipe with a few settings changed. It trains on the first 50,000 training images
and is scored on the last 10,000, which it never trains on (`Spec(validation=True)`); the test set is not
read. The rule that picks the winner was fixed before the search ran: the candidate with the shortest median
fit time among those whose every seed reaches THRESHOLD on the validation images. `RECIPES["fast"]` is that
candidate; the test suite checks that it still is.
"""

from __future__ import annotations

import itertools
import statistics

VALIDATION_IMAGES = 10_000  # the last training images: the search's held-out set
THRESHOLD = 0.991  # every seed must reach this on the validation images: the target, 0.990, plus a margin
SEARCH_SEEDS = 2
# --8<-- [start:candidates]
# What the search varies, every combination: batch size, epochs and peak learning rate. The cosine decay
# always ends with the last epoch; the rest of the fast recipe (Adam, warm-up, floor, precision) is kept.
BATCH_SIZES = (128, 256, 512)
EPOCHS = (1, 2)
LEARNING_RATES = (5e-3, 1e-2)


def candidates() -> list[dict]:
    """The recipe changes of every candidate, in the order the search runs them."""
    return [{"batch_size": batch, "epochs": epochs, "learning_rate": rate, "decay_epochs": float(epochs)}
            for batch, epochs, rate in itertools.product(BATCH_SIZES, EPOCHS, LEARNING_RATES)]
# --8<-- [end:candidates]


def name(candidate: dict) -> str:
    return f"batch {candidate['batch_size']}, {candidate['epochs']} epoch(s), peak rate {candidate['learning_rate']:g}"


def summarize(runs: list[dict]) -> list[dict]:
    """One row per candidate: its runs' median fit time and their validation accuracies."""
    rows = []
    for candidate in candidates():
        mine = [run for run in runs if run["spec"]["overrides"] == candidate]
        if not mine:
            continue
        accuracies = [run["final_accuracy"] for run in mine]
        rows.append({"candidate": candidate, "name": name(candidate), "seeds": len(mine),
                     "fit_seconds": statistics.median(run["fit_seconds"] for run in mine),
                     "validation_accuracies": accuracies, "validation_mean": statistics.fmean(accuracies),
                     "qualifies": min(accuracies) >= THRESHOLD})
    return rows


def choose(rows: list[dict]) -> dict | None:
    """The rule fixed in advance: the fastest candidate whose every seed reaches THRESHOLD (None if none does)."""
    qualified = [row for row in rows if row["qualifies"]]
    return min(qualified, key=lambda row: row["fit_seconds"]) if qualified else None


def format_rows(rows: list[dict], chosen: dict | None) -> str:
    """The search as a plain-text table, the chosen candidate marked."""
    width = max(len(row["name"]) for row in rows)
    lines = [f"{'candidate'.ljust(width)}  fit s (median)  validation accuracy per seed  qualifies"]
    for row in rows:
        mark = "  <- chosen" if row is chosen else ""
        seeds = ", ".join(f"{value:.4f}" for value in row["validation_accuracies"])
        lines.append(f"{row['name'].ljust(width)}  {row['fit_seconds']:14.2f}  {seeds:<28}  "
                     f"{'yes' if row['qualifies'] else 'no'}{mark}")
    return "\n".join(lines)
