"""Train the models that many tests and pages share into $CONVNETS_CACHE: tests/conftest.py runs this in a second
process from the start of the default run and of the backend's, so that no single test waits the whole training."""

from __future__ import annotations

from convnets.named_runs import trained

SHARED = ("convnet", "dense")  # the first chapter's: its page, the prose claims, the figures, the playground, the CLI

if __name__ == "__main__":
    for name in SHARED:
        trained(name)
