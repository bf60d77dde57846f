"""Compare four ways to downsample the MNIST convnet: max pooling, average pooling, strided convolutions, none.

Each variant is trained with the book's recipe (rmsprop, batch 64) for every seed, then evaluated on the
10,000 test images. The results, the settings, the machine and the duration go to a JSON file.

examples:
    python code/pooling_experiment.py                          # full training set, 5 epochs, 1 seed
    python code/pooling_experiment.py --limit 10000 --epochs 3 # a quick subset run
    python code/pooling_experiment.py --seeds 3                # three seeds per variant, to see the noise
"""

from __future__ import annotations

import argparse
import platform
import shlex
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from convnets.cli import OneLineParser, fail, framework_logs, local_mnist_or_fail, positive_int
from convnets.devices import DEVICES, prepare_environment
from convnets.paths import LOGS_DIR, SNAPS_DIR

DEFAULT_OUTPUT = SNAPS_DIR / "pooling_experiment.json"
POOLINGS = ("max", "average", "strided", "none")  # the order of convnets.models.POOLINGS


def parse_args(argv: list[str] | None):
    """Read and check the command line."""
    parser = OneLineParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 2)[2],
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=positive_int, default=5, help="epochs per model (default: 5, the book's)")
    parser.add_argument("--limit", type=positive_int, help="train on the first N training images only")
    parser.add_argument("--seeds", type=positive_int, default=1, help="runs per variant, seeds 1..N (default: 1)")
    parser.add_argument("--pooling", choices=POOLINGS, action="append",
                        help="a variant to train (repeatable; default: all four)")
    parser.add_argument("--device", choices=DEVICES, default="auto", help="auto uses a GPU when one is visible")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT,
                        help=f"JSON file for the results (default: {DEFAULT_OUTPUT.relative_to(SNAPS_DIR.parent)})")
    parser.add_verbose_option()
    args = parser.parse_args(argv)
    if args.limit is not None and args.limit > 60000:
        parser.error(f"--limit is at most 60000 (the training set), got {args.limit}")
    if args.output.suffix != ".json":
        parser.error(f"--output must be a .json file, got {args.output}")
    if not args.output.parent.is_dir():
        parser.error(f"--output folder does not exist: {args.output.parent}")
    return args


def train_variant(pooling: str, seed: int, epochs: int, data: tuple) -> dict:
    """Train one variant with one seed; return its parameters, test accuracy and seconds."""
    import keras

    from convnets import models, training

    (x_train, y_train), (x_test, y_test) = data
    recipe = training.recipe_with("book", epochs=epochs)
    keras.utils.set_random_seed(seed)
    model = models.build_pooling_variant(pooling)
    training.compile_model(model, recipe, training.steps_per_epoch(len(x_train), recipe.batch_size))
    start = time.perf_counter()
    model.fit(x_train, y_train, epochs=recipe.epochs, batch_size=recipe.batch_size, verbose=0)
    seconds = time.perf_counter() - start
    _, accuracy = model.evaluate(x_test, y_test, batch_size=512, verbose=0)
    return {"parameters": model.count_params(), "test_accuracy": float(accuracy), "seconds": round(seconds, 1)}


def summarize(pooling: str, runs: list[dict]) -> dict:
    """One row of the results: the variant, its parameters, and accuracy and time over the seeds."""
    accuracies = [run["test_accuracy"] for run in runs]
    return {
        "pooling": pooling,
        "parameters": runs[0]["parameters"],
        "test_accuracy": accuracies,
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
    import keras

    from convnets import data, devices, training
    from convnets.run_files import write_json

    try:
        machine = devices.describe_device(args.device).replace("Training on ", "")
        (x_train, y_train), (x_test, y_test) = mnist or data.load_mnist()
    except (devices.DeviceError, data.DataError) as error:
        fail(str(error))
    limit = args.limit or len(x_train)
    prepared = ((training.prepare_images(x_train[:limit]), y_train[:limit]), (training.prepare_images(x_test), y_test))
    poolings = [p for p in POOLINGS if p in (args.pooling or POOLINGS)]
    print(f"Pooling experiment on {machine}: {', '.join(poolings)}; {limit:,} training images, "
          f"{args.epochs} epoch(s), {args.seeds} seed(s)")
    started, start = datetime.now(timezone.utc), time.perf_counter()
    results = []
    for pooling in poolings:
        runs = []
        for seed in range(1, args.seeds + 1):
            run = train_variant(pooling, seed, args.epochs, prepared)
            print(f"  {pooling:8} seed {seed}: test accuracy {run['test_accuracy']:.4f} in {run['seconds']:.0f} s",
                  flush=True)
            runs.append(run)
        results.append(summarize(pooling, runs))
    record = {
        "command": shlex.join(["python", "code/pooling_experiment.py", *(sys.argv[1:] if argv is None else argv)]),
        "settings": {"epochs": args.epochs, "training_images": limit, "test_images": len(x_test),
                     "seeds": args.seeds, "recipe": "book", "batch_size": training.RECIPES["book"].batch_size},
        "machine": machine,
        "platform": f"{platform.system()} {platform.machine()}, Python {platform.python_version()}",
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "started": started.isoformat(timespec="seconds"),
        "duration_seconds": round(time.perf_counter() - start, 1),
        "results": results,
    }
    write_json(args.output, record)
    print(f"Wrote {args.output} after {record['duration_seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
