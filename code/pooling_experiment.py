"""Compare four ways to downsample the MNIST convnet: max pooling, average pooling, strided convolutions, none.

Each variant is trained with the book's recipe (rmsprop, batch 64) for every seed, then evaluated on the
10,000 test images (or the first --test-limit of them). The results, the settings, the machine and the
duration go to a JSON file.

examples:
    python code/pooling_experiment.py                          # full training set, 5 epochs, 1 seed
    python code/pooling_experiment.py --limit 10000 --epochs 3 # a quick subset run
    python code/pooling_experiment.py --seeds 3                # three seeds per variant, to see the noise
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

from convnets.cli import OneLineParser, fail, local_mnist_or_fail, positive_int
from convnets.devices import prepare_environment
from convnets.framework_logs import framework_logs
from convnets.model_names import POOLINGS, pooling_model
from convnets.paths import LOGS_DIR, SNAPS_DIR
from convnets.recipes import RECIPES

DEFAULT_OUTPUT = SNAPS_DIR / "pooling_experiment.json"


def parse_args(argv: list[str] | None):
    """Read and check the command line."""
    parser = OneLineParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 2)[2],
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=positive_int, default=5, help="epochs per model (default: 5, the book's)")
    parser.add_limit_option()
    parser.add_test_limit_option()
    parser.add_argument("--seeds", type=positive_int, default=1, help="runs per variant, seeds 1..N (default: 1)")
    parser.add_argument("--pooling", choices=POOLINGS, action="append",
                        help="a variant to train (repeatable; default: all four)")
    parser.add_device_option()
    parser.add_json_output_option(DEFAULT_OUTPUT)
    parser.add_verbose_option()
    args = parser.parse_args(argv)
    return args


def train_variant(pooling: str, seed: int, settings: dict, mnist: tuple, device_line: str) -> dict:
    """Train one variant with one seed, as any run is trained; return its parameters, accuracies and seconds.

    The training accuracy is the one Keras reports for the last epoch, over the training images.
    """
    from convnets.runner import default_settings, run_training

    run = default_settings(pooling_model(pooling), "book", seed=seed, limit=settings["training_images"],
                           overrides={"epochs": settings["epochs"]})
    with tempfile.TemporaryDirectory() as folder:
        record = run_training(run, Path(folder), device_line, verbose=0, mnist=mnist)
    return {"parameters": record["parameters"], "test_accuracy": record["test_accuracy"],
            "train_accuracy": record["history"]["accuracy"][-1],
            "seconds": round(record["fit_seconds_last_session"], 1)}


def progress_line(pooling: str, seed: int, run: dict) -> str:
    """What the experiment prints after training one variant with one seed."""
    return f"  {pooling:8} seed {seed}: test accuracy {run['test_accuracy']:.4f} in {run['seconds']:.0f} s"


def summarize(pooling: str, runs: list[dict]) -> dict:
    """One row of the results: the variant, its parameters, and accuracy and time over the seeds."""
    accuracies = [run["test_accuracy"] for run in runs]
    return {
        "pooling": pooling,
        "parameters": runs[0]["parameters"],
        "test_accuracy": accuracies,
        "train_accuracy": [run["train_accuracy"] for run in runs],
        "mean_test_accuracy": statistics.fmean(accuracies),
        "std_test_accuracy": statistics.stdev(accuracies) if len(accuracies) > 1 else 0.0,
        "seconds": [run["seconds"] for run in runs],
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    mnist = local_mnist_or_fail()
    prepare_environment(args.device)
    with framework_logs(LOGS_DIR / "pooling_experiment.log", args.verbose):
        return experiment(args, argv, mnist)


def experiment(args: argparse.Namespace, argv: list[str] | None, mnist: tuple | None) -> int:
    """Train every variant with every seed and write the results."""
    from convnets import data, devices
    from convnets.experiments import runs_over_seeds
    from convnets.run_files import write_experiment

    try:
        device_line = devices.describe_device(args.device)
        train, (x_test, y_test) = mnist or data.load_mnist()
    except (devices.DeviceError, data.DataError) as error:
        fail(str(error))
    mnist = train, (x_test[:args.test_limit], y_test[:args.test_limit])
    machine = device_line.replace("Training on ", "")
    limit = args.limit or len(train[0])
    poolings = [p for p in POOLINGS if p in (args.pooling or POOLINGS)]
    settings = {"epochs": args.epochs, "training_images": limit, "test_images": len(mnist[1][0]),
                "seeds": args.seeds, "recipe": "book", "batch_size": RECIPES["book"].batch_size}
    print(f"Pooling experiment on {machine}: {', '.join(poolings)}; {limit:,} training images, "
          f"{args.epochs} epoch(s), {args.seeds} seed(s)")
    started, start = datetime.now(timezone.utc), time.perf_counter()
    results = []
    for pooling in poolings:
        runs = runs_over_seeds(f"{pooling} pooling", args.seeds,
                               partial(train_variant, pooling, settings=settings, mnist=mnist, device_line=device_line),
                               partial(progress_line, pooling))
        results.append(summarize(pooling, runs))
    arguments = sys.argv[1:] if argv is None else argv
    record = write_experiment(args.output, "pooling_experiment.py", arguments, settings, machine, started,
                              time.perf_counter() - start, results)
    print(f"Wrote {args.output} after {record['duration_seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
