"""Train three models on centered digits, then measure their test accuracy on test digits shifted by 0 to k pixels.

The digits are placed on a 40×40 blank canvas. The dense baseline, the book's convnet and a convnet that
ends in global average pooling are each trained with the book's recipe (rmsprop, batch 64) on the training
digits at the center of the canvas, for every seed. Each is then evaluated on the 10,000 test digits (or the
first --test-limit of them) moved by 0, 1, ..., k pixels down and right (along the diagonal). The accuracies,
the settings, the machine and the duration go to a JSON file.

examples:
    python code/translation_experiment.py                              # full training set, 2 epochs, 3 seeds
    python code/translation_experiment.py --limit 2000 --epochs 1 --seeds 1  # a quick check
    python code/translation_experiment.py --max-shift 4                # shifts of 0 to 4 pixels
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

import numpy as np

from convnets.cli import OneLineParser, fail, local_mnist_or_fail, positive_int
from convnets.devices import prepare_environment
from convnets.framework_logs import framework_logs
from convnets.model_names import SHIFT_MODELS
from convnets.paths import LOGS_DIR, SNAPS_DIR
from convnets.recipes import RECIPES
from convnets.shifts import CANVAS, place_on_canvas

DEFAULT_OUTPUT = SNAPS_DIR / "translation_experiment.json"
MARGIN = (CANVAS - 28) // 2  # the largest shift that keeps a whole digit on the canvas


def parse_args(argv: list[str] | None):
    """Read and check the command line."""
    parser = OneLineParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 2)[2],
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=positive_int, default=2, help="epochs per model (default: 2)")
    parser.add_limit_option()
    parser.add_test_limit_option()
    parser.add_argument("--seeds", type=positive_int, default=3, help="runs per model, seeds 1..N (default: 3)")
    parser.add_argument("--max-shift", type=positive_int, default=MARGIN,
                        help=f"shift the test digits by 0 to this many pixels (default and most: {MARGIN})")
    parser.add_device_option()
    parser.add_json_output_option(DEFAULT_OUTPUT)
    parser.add_verbose_option()
    args = parser.parse_args(argv)
    if args.max_shift > MARGIN:
        parser.error(f"--max-shift is at most {MARGIN} (a {CANVAS}×{CANVAS} canvas has a margin of {MARGIN} "
                     f"pixels around a digit), got {args.max_shift}")
    return args


def canvas_images(images: np.ndarray, shift: int) -> np.ndarray:
    """uint8 (N, 28, 28) digits to float32 (N, 40, 40, 1) in [0, 1], moved `shift` pixels down and right."""
    from convnets.training import prepare_images

    return place_on_canvas(prepare_images(images), shift, shift)


def train_and_shift(name: str, seed: int, settings: dict, mnist: tuple, test_sets: list, labels,
                    device_line: str) -> dict:
    """Train one model with one seed on centered digits, as any run is trained; return its parameters,
    accuracy per shift and seconds. `test_sets` are the shifted test digits, from 1 pixel on: run_training has
    measured the centered ones."""
    import keras

    from convnets.run_files import MODEL_FILE
    from convnets.runner import default_settings, run_training

    run = default_settings(name, settings["recipe"], seed=seed, limit=settings["training_images"],
                           canvas=settings["canvas"], overrides={"epochs": settings["epochs"]})
    with tempfile.TemporaryDirectory() as folder:
        record = run_training(run, Path(folder), device_line, verbose=0, mnist=mnist)
        model = keras.models.load_model(Path(folder) / MODEL_FILE)
    accuracies = [record["test_accuracy"],
                  *(float(model.evaluate(x_test, labels, batch_size=512, verbose=0)[1]) for x_test in test_sets)]
    return {"parameters": record["parameters"], "accuracy_by_shift": accuracies,
            "train_accuracy": record["history"]["accuracy"][-1],
            "seconds": round(record["fit_seconds_last_session"], 1)}


def progress_line(name: str, seed: int, run: dict) -> str:
    """What the experiment prints after training one model with one seed."""
    accuracies = " ".join(f"{value:.3f}" for value in run["accuracy_by_shift"])
    return f"  {name:14} seed {seed}: test accuracy by shift {accuracies} ({run['seconds']:.0f} s)"


def summarize(name: str, runs: list[dict]) -> dict:
    """One row of the results: the model, its parameters, and its accuracies per shift and per seed."""
    by_shift = [list(values) for values in zip(*(run["accuracy_by_shift"] for run in runs))]  # [shift][seed]
    return {
        "model": name,
        "parameters": runs[0]["parameters"],
        "accuracy_by_shift": by_shift,
        "mean_accuracy_by_shift": [statistics.fmean(values) for values in by_shift],
        "test_accuracy": by_shift[0],  # the centered test digits, as in training
        "mean_test_accuracy": statistics.fmean(by_shift[0]),
        "train_accuracy": [run["train_accuracy"] for run in runs],
        "seconds": [run["seconds"] for run in runs],
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    mnist = local_mnist_or_fail()
    prepare_environment(args.device)
    with framework_logs(LOGS_DIR / "translation_experiment.log", args.verbose):
        return experiment(args, argv, mnist)


def experiment(args: argparse.Namespace, argv: list[str] | None, mnist: tuple | None) -> int:
    """Train every model with every seed, evaluate it at every shift and write the results."""
    from convnets import data, devices
    from convnets.experiments import runs_over_seeds
    from convnets.run_files import write_experiment

    try:
        device_line = devices.describe_device(args.device)
        (x_train, y_train), (x_test, y_test) = mnist or data.load_mnist()
    except (devices.DeviceError, data.DataError) as error:
        fail(str(error))
    x_test, y_test = x_test[:args.test_limit], y_test[:args.test_limit]
    machine = device_line.replace("Training on ", "")
    limit = args.limit or len(x_train)
    shifts = list(range(args.max_shift + 1))
    settings = {"epochs": args.epochs, "training_images": limit, "test_images": len(x_test), "seeds": args.seeds,
                "recipe": "book", "batch_size": RECIPES["book"].batch_size, "canvas": CANVAS, "shifts": shifts,
                "direction": "diagonal"}
    print(f"Translation experiment on {machine}: {', '.join(SHIFT_MODELS)}; {limit:,} training images, "
          f"{args.epochs} epoch(s), {args.seeds} seed(s), shifts 0 to {args.max_shift}")
    started, start = datetime.now(timezone.utc), time.perf_counter()
    test_sets = [canvas_images(x_test, shift) for shift in shifts[1:]]
    mnist = (x_train, y_train), (x_test, y_test)
    results = []
    for name in SHIFT_MODELS:
        runs = runs_over_seeds(name, args.seeds,
                               partial(train_and_shift, name, settings=settings, mnist=mnist, test_sets=test_sets,
                                       labels=y_test, device_line=device_line),
                               partial(progress_line, name))
        results.append(summarize(name, runs))
    arguments = sys.argv[1:] if argv is None else argv
    record = write_experiment(args.output, "translation_experiment.py", arguments, settings, machine, started,
                              time.perf_counter() - start, results)
    print(f"Wrote {args.output} after {record['duration_seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
