"""The command-line scripts' arguments: the options they share, checked, and errors in one line, never tracebacks."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Callable, NoReturn

from convnets.devices import DEVICES

TRAINING_IMAGES = 60000  # the most --limit can take
TEST_IMAGES = 10000  # the most --test-limit can take
VERBOSE_ENV = "CONVNETS_VERBOSE"
VERBOSE_HELP = (f"show TensorFlow's and absl's own log lines and full tracebacks on the terminal "
                f"(also {VERBOSE_ENV}=1); by default they go to the run's log file")


def fail(message: str, code: int = 2) -> NoReturn:
    """Print `error: message` on one line to stderr and exit with `code`."""
    print(f"{sys.argv[0].rsplit('/', 1)[-1]}: error: {message}", file=sys.stderr)
    raise SystemExit(code)


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are a single line and exit status 2, with the options the scripts share."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.checks: list[Callable[[argparse.Namespace], str | None]] = []  # each returns an error, or None

    def add_verbose_option(self) -> None:
        """--verbose, for the scripts that load a framework (see convnets.framework_logs)."""
        self.add_argument("--verbose", action="store_true", default=os.environ.get(VERBOSE_ENV, "") not in ("", "0"),
                          help=VERBOSE_HELP)

    def add_device_option(self) -> None:
        """--device auto|cpu|gpu (see convnets.devices)."""
        self.add_argument("--device", choices=DEVICES, default="auto",
                          help="auto uses a GPU when one is visible (default: auto)")

    def add_data_option(self) -> None:
        """--data FILE, an mnist.npz that must exist."""
        self.add_argument("--data", type=Path, help="an mnist.npz to train on (default: data/mnist.npz, then Keras)")
        self.checks.append(lambda args: None if args.data is None or args.data.is_file()
                           else f"--data file not found: {args.data}")

    def add_limit_option(self) -> None:
        """--limit N, at most the size of the training set."""
        self.add_argument("--limit", type=positive_int, help="train on the first N training images only")
        self.checks.append(lambda args: None if args.limit is None or args.limit <= TRAINING_IMAGES
                           else f"--limit is at most {TRAINING_IMAGES} (the training set), got {args.limit}")

    def add_test_limit_option(self) -> None:
        """--test-limit N, at most the size of the test set."""
        self.add_argument("--test-limit", type=positive_int,
                          help=f"evaluate on the first N test images only (default: all {TEST_IMAGES:,})")
        self.checks.append(lambda args: None if args.test_limit is None or args.test_limit <= TEST_IMAGES
                           else f"--test-limit is at most {TEST_IMAGES} (the test set), got {args.test_limit}")

    def add_json_output_option(self, default: Path) -> None:
        """--output FILE.json for an experiment's results, in a folder that exists."""
        self.add_argument("--output", type=Path, default=default,
                          help=f"JSON file for the results (default: {default.parent.name}/{default.name})")
        self.checks.append(lambda args: None if args.output.suffix == ".json"
                           else f"--output must be a .json file, got {args.output}")
        self.checks.append(lambda args: None if args.output.parent.is_dir()
                           else f"--output folder does not exist: {args.output.parent}")

    def parse_args(self, args=None, namespace=None) -> argparse.Namespace:
        """Parse, then apply the shared options' checks in the order the options were added."""
        parsed = super().parse_args(args, namespace)
        for check in self.checks:
            problem = check(parsed)
            if problem:
                self.error(problem)
        return parsed

    def error(self, message: str) -> NoReturn:
        fail(f"{message} (see --help)", code=2)


def local_mnist_or_fail(path: Path | None = None) -> tuple | None:
    """The local MNIST (see `data.load_local_mnist`), checked before any framework loads; a bad copy is one line."""
    from convnets.data import DataError, load_local_mnist

    try:
        return load_local_mnist(path)
    except DataError as error:
        fail(str(error))


def positive_int(text: str) -> int:
    """An argparse type for integers of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def positive_float(text: str) -> float:
    """An argparse type for floats above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number above 0, got {text}")
    return value
