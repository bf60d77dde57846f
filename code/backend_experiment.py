"""Train the first chapter's convnet as its page does, once on each Keras backend, and record its test accuracy and
its training time on each: the figures of the first chapter's note on backends.

Each backend trains in a process of its own (KERAS_BACKEND picks it before Keras loads), one after the other on the
same machine, with the same seed and the page's settings: rmsprop, batch 64, five epochs of the 60,000 training
images, then the 10,000 test images. The record (snaps/backends.json by default) holds, per backend, its version,
the device line, the test accuracy, the fit's seconds and each epoch's (the first includes compiling).

examples:
    python code/backend_experiment.py                            # TensorFlow, then JAX, then PyTorch
    python code/backend_experiment.py --backends jax             # JAX only, into a record of its own
    python code/backend_experiment.py --limit 600 --epochs 1 --test-limit 500 --output /tmp/b.json   # a quick check
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from convnets.cli import TEST_IMAGES, TRAINING_IMAGES, OneLineParser, fail, local_mnist_or_fail, positive_int
from convnets.devices import prepare_environment
from convnets.framework_logs import framework_logs
from convnets.paths import LOGS_DIR, SNAPS_DIR

BACKENDS = ("tensorflow", "jax", "torch")  # the backends the site verifies, in the order they train
DEFAULT_OUTPUT = SNAPS_DIR / "backends.json"
EPOCHS, BATCH_SIZE, SEED = 5, 64, 1  # the first chapter's fit, and the seed every run of the project starts from


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Read and check the command line."""
    parser = OneLineParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 2)[2],
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS),
                        help="the Keras backends to train on, in order (default: tensorflow jax torch)")
    parser.add_argument("--epochs", type=positive_int, default=EPOCHS, help=f"epochs (default: {EPOCHS})")
    parser.add_limit_option()
    parser.add_test_limit_option()
    parser.add_json_output_option(DEFAULT_OUTPUT)
    parser.add_verbose_option()
    parser.add_argument("--one", choices=BACKENDS, help=argparse.SUPPRESS)  # the child process: train on this one
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    local_mnist_or_fail()
    if args.one:
        os.environ["KERAS_BACKEND"] = args.one
        prepare_environment("cpu")
        with framework_logs(LOGS_DIR / f"backend_experiment-{args.one}.log", args.verbose):
            print(json.dumps(train_once(args)))
        return 0
    arguments = sys.argv[1:] if argv is None else argv
    started, start = datetime.now(timezone.utc), time.perf_counter()
    results = [train_in_a_child(backend, arguments) for backend in args.backends]
    for result in results:
        print(f"{result['backend_version']}: test accuracy {result['test_accuracy']:.4f}, "
              f"fit {result['fit_seconds']:.1f} s ({', '.join(f'{s:.1f}' for s in result['epoch_seconds'])} s per epoch)")
    write_record(args, arguments, started, time.perf_counter() - start, results)
    print(f"Wrote {args.output}")
    return 0


def train_in_a_child(backend: str, argv: list[str]) -> dict:
    """Train in a new process under `backend`; its result, or this script's one-line error with the child's."""
    print(f"Training on {backend}...", flush=True)
    child = subprocess.run([sys.executable, __file__, *argv, "--one", backend], capture_output=True, text=True,
                           env=dict(os.environ, KERAS_BACKEND=backend))
    if child.returncode != 0:
        reason = (child.stderr.strip().splitlines() or [f"exit status {child.returncode}"])[-1]
        fail(f"the {backend} run failed: {reason.removeprefix(Path(__file__).name + ': error: ')}", code=1)
    return json.loads(child.stdout.strip().splitlines()[-1])


def train_once(args: argparse.Namespace) -> dict:
    """The first chapter's fit and evaluation of the book's convnet under the backend Keras loaded, timed."""
    try:
        import keras
    except ImportError as error:
        fail(f"Keras cannot load the {args.one} backend ({error}); install it, for example with make setup")
    from convnets import devices
    from convnets.benchmark.clock import TimeTraining
    from convnets.data import load_mnist
    from convnets.models import MODELS
    from convnets.training import prepare_images, steps_per_epoch

    (train_images, train_labels), (test_images, test_labels) = load_mnist()
    train_images, train_labels = prepare_images(train_images)[:args.limit], train_labels[:args.limit]
    test_images, test_labels = prepare_images(test_images)[:args.test_limit], test_labels[:args.test_limit]
    keras.utils.set_random_seed(SEED)
    model = MODELS["convnet"]()
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    clock = TimeTraining(test_images, test_labels, every=0,
                         steps_per_epoch=steps_per_epoch(len(train_images), BATCH_SIZE))
    model.fit(train_images, train_labels, epochs=args.epochs, batch_size=BATCH_SIZE, verbose=0, callbacks=[clock])
    _, test_accuracy = model.evaluate(test_images, test_labels, verbose=0)
    return {"backend": keras.backend.backend(), "backend_version": devices.backend_version(),
            "keras": keras.__version__, "device": devices.describe_device("cpu").removeprefix("Training on "),
            "test_accuracy": float(test_accuracy), "fit_seconds": round(clock.fit_seconds, 2),
            "epoch_seconds": [round(seconds, 2) for seconds in clock.epoch_seconds]}


def write_record(args: argparse.Namespace, arguments: list[str], started: datetime, seconds: float,
                 results: list[dict]) -> None:
    """The experiment's record: its command, settings, machine, timing and one result per backend."""
    from convnets.benchmark.machine import summary_line
    from convnets.run_files import write_json

    write_json(args.output, {
        "command": shlex.join(["python", "code/backend_experiment.py", *arguments]),
        "settings": {"model": "convnet", "optimizer": "rmsprop", "batch_size": BATCH_SIZE, "epochs": args.epochs,
                     "training_images": args.limit or TRAINING_IMAGES,
                     "test_images": args.test_limit or TEST_IMAGES,
                     "seed": SEED},
        "machine": summary_line(),
        "platform": f"{platform.system()} {platform.machine()}, Python {platform.python_version()}",
        "started": started.isoformat(timespec="seconds"), "duration_seconds": round(seconds, 1),
        "results": results})


if __name__ == "__main__":
    sys.exit(main())
