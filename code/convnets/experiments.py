"""What the experiment scripts share: one model trained once per seed, a line printed per run."""

from __future__ import annotations

from typing import Callable

from convnets.cli import fail
from convnets.runner import TrainingFailed


def runs_over_seeds(name: str, seeds: int, train: Callable[[int], dict],
                    line: Callable[[int, dict], str]) -> list[dict]:
    """`train(seed)` for seeds 1 to `seeds`, printing `line(seed, run)` after each run; a run that diverges ends
    the script with one error line that names `name` and its seed."""
    runs = []
    for seed in range(1, seeds + 1):
        try:
            run = train(seed)
        except TrainingFailed as error:
            fail(f"{name}, seed {seed}: {error}", code=1)
        print(line(seed, run), flush=True)
        runs.append(run)
    return runs
