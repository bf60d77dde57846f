"""Print the results of the two long experiments from the JSON files they wrote to snaps/: the tables of the
page "The experiments in detail". The intervals are computed again from the stored runs.

    python code/experiment_results.py
"""

# --8<-- [start:setup]
import json

import numpy as np

from convnets.paths import SNAPS_DIR
from convnets.stats import mean_interval, paired_difference, unpaired_difference

NAMES = {"max": "max pooling", "average": "average pooling",
         "strided": "strided conv", "none": "no pooling"}
# --8<-- [end:setup]


# --8<-- [start:show_pooling]
def verdict(difference) -> str:
    """What a paired difference's 95% interval allows one to say."""
    if not difference.excludes_zero():
        return "no clear difference"
    return "higher than max" if difference.low > 0 else "lower than max"


def show_pooling(path) -> dict:
    """Print a run of the pooling experiment: its settings, then a row per model with 95% intervals."""
    run = json.loads(path.read_text())
    settings = run["settings"]
    print(f"{settings['training_images']:,} training images, "
          f"{settings['epochs']} epochs, {settings['seeds']} seeds per model")
    machine = run["machine"].split(" (")[0]
    print(f"on {machine}, Keras {run['keras']} ({run['backend']} backend), "
          f"in {run['duration_seconds']:.0f} s")
    print(f"made with: KERAS_BACKEND={run['backend']} {run['command']}")
    print("test accuracy: mean over the seeds, in %, [95% interval]")
    print("minus max pooling: mean difference, paired by seed, in points [95% interval]")
    print("downsampling     | parameters | test accuracy        | minus max pooling    | verdict")
    rows = {row["pooling"]: row for row in run["results"]}
    for name, row in rows.items():
        accuracy = mean_interval([100 * a for a in row["test_accuracy"]])
        line = (f"{NAMES[name]:<16} | {row['parameters']:>10,} | "
                f"{accuracy.mean:.2f} [{accuracy.low:.2f}, {accuracy.high:.2f}] |")
        if name != "max":
            difference = paired_difference([100 * a for a in row["test_accuracy"]],
                                           [100 * a for a in rows["max"]["test_accuracy"]])
            line += (f" {difference.mean:+.2f} [{difference.low:+.2f}, {difference.high:+.2f}] |"
                     f" {verdict(difference)}")
        print(line)
    return run
# --8<-- [end:show_pooling]


# --8<-- [start:cpu_run]
cpu_run = show_pooling(SNAPS_DIR / "pooling_experiment_cpu.json")
# --8<-- [end:cpu_run]

# --8<-- [start:train_gap]
print("downsampling     | training | test   | gap, points | median seconds")
for row in cpu_run["results"]:
    train = 100 * np.mean(row["train_accuracy"])
    test = 100 * np.mean(row["test_accuracy"])
    print(f"{NAMES[row['pooling']]:<16} | {train:7.2f}% | {test:.2f}% | {train - test:+11.2f} | "
          f"{np.median(row['seconds']):14.0f}")
# --8<-- [end:train_gap]

# --8<-- [start:pairing]
runs = {row["pooling"]: [100 * a for a in row["test_accuracy"]] for row in cpu_run["results"]}
print("minus max pooling, in points: mean ± half-width of the 95% interval")
for name in ("average", "strided", "none"):
    paired = paired_difference(runs[name], runs["max"])
    unpaired = unpaired_difference(runs[name], runs["max"])
    print(f"{NAMES[name]:<16} paired {paired.mean:+.2f} ± {paired.half_width:.2f}, "
          f"unpaired {unpaired.mean:+.2f} ± {unpaired.half_width:.2f}")
# --8<-- [end:pairing]

# --8<-- [start:gpu_run]
gpu_run = show_pooling(SNAPS_DIR / "pooling_experiment.json")
# --8<-- [end:gpu_run]


# --8<-- [start:show_translation]
def show_translation(path) -> None:
    """Print a run of the translation experiment: its settings, then test accuracy per shift and model."""
    run = json.loads(path.read_text())
    settings = run["settings"]
    print(f"{settings['training_images']:,} training images, {settings['epochs']} epochs, "
          f"{settings['seeds']} seeds per model, on {run['machine'].split(' (')[0]} "
          f"in {run['duration_seconds'] / 60:.0f} min")
    print(f"made with: KERAS_BACKEND={run['backend']} {run['command']}")
    print("test accuracy, mean ± half-width of its 95% interval over the seeds")
    print("shift |" + "|".join(f" {row['model']:<14}" for row in run["results"]))
    for index, shift in enumerate(settings["shifts"]):
        cells = []
        for row in run["results"]:
            interval = mean_interval(row["accuracy_by_shift"][index])
            cells.append(f" {interval.mean:.3f} ± {interval.half_width:.3f} ")
        print(f"{shift:>2} px |" + "|".join(cells))


show_translation(SNAPS_DIR / "translation_experiment.json")
# --8<-- [end:show_translation]
