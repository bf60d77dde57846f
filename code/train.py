"""Train the book's MNIST convnet, its variant without max pooling, or the dense baseline.

    python code/train.py                      # the book's recipe: convnet, rmsprop, batch 64, 5 epochs
    python code/train.py --model dense        # the chapter-2 dense baseline
    python code/train.py --recipe fast        # the same convnet, tuned for wall-clock speed
    python code/train.py --output runs/a --resume   # continue an interrupted run

The output folder receives the model (model.keras), its history with the test
accuracy and the settings (history.json), a plot of the training curves (curves.png), and
train.log: TensorFlow's own log lines and the full trace of any unexpected error (--verbose
shows them on the terminal instead).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from convnets.cli import OneLineParser, fail, local_mnist_or_fail, positive_float, positive_int
from convnets.data import DataError
from convnets.devices import prepare_environment
from convnets.framework_logs import framework_logs
from convnets.model_names import BOOK_MODELS
from convnets.paths import RUNS_DIR
from convnets.recipes import RECIPES
from convnets.run_files import (BACKUP_DIR, CURVES_FILE, LOG_FILE, MODEL_FILE, RUN_LOG_FILE, SETTINGS_FILE,
                                read_epoch_log, write_json)


def parse_args(argv: list[str] | None) -> tuple[dict, Path, bool, bool, str, bool]:
    """Read the command line; return the run's settings, output folder, resume, overwrite, device and verbose."""
    parser = OneLineParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 2)[2])
    parser.add_argument("--model", choices=BOOK_MODELS, default="convnet", help="which network to train (default: convnet)")
    parser.add_argument("--recipe", choices=tuple(RECIPES), default="book", help="training recipe (default: book)")
    parser.add_argument("--epochs", type=positive_int, help="number of epochs (default: the recipe's)")
    parser.add_argument("--batch-size", type=positive_int, help="images per batch (default: the recipe's)")
    parser.add_argument("--learning-rate", type=positive_float, help="peak learning rate (default: the recipe's)")
    parser.add_argument("--seed", type=int, default=1, help="random seed for weights and shuffling (default: 1)")
    parser.add_data_option()
    parser.add_device_option()
    parser.add_limit_option()
    parser.add_argument("--output", type=Path, help="folder for the model, history and plot (default: runs/MODEL-RECIPE)")
    parser.add_argument("--deterministic", action="store_true", help="use deterministic kernels, so a seed gives identical weights")
    parser.add_argument("--mixed-precision", action="store_true", help="float16 on a GPU, bfloat16 on a CPU")
    parser.add_argument("--max-loss", type=positive_float,
                        help="stop, saving no model, when the training loss passes this value: it has diverged "
                             "(default: 100, some 40 times the loss of a random guess; NaN and infinity always stop)")
    parser.add_argument("--resume", action="store_true", help="continue the interrupted run in --output from its last finished epoch")
    parser.add_argument("--overwrite", action="store_true", help="replace a finished run already in --output")
    parser.add_verbose_option()
    args = parser.parse_args(argv)
    settings = {
        "model": args.model,
        "recipe": args.recipe,
        "overrides": {
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "learning_rate": args.learning_rate,
            "mixed_precision": args.mixed_precision or None,
        },
        "seed": args.seed,
        "limit": args.limit,
        "max_loss": args.max_loss,
        "deterministic": args.deterministic,
        "data": str(args.data) if args.data else None,
    }
    output = args.output or RUNS_DIR / f"{args.model}-{args.recipe}"
    return settings, output, args.resume, args.overwrite, args.device, args.verbose


def check_output(settings: dict, output: Path, resume: bool, overwrite: bool) -> dict:
    """Check the output folder so that no finished or interrupted run is lost; return the settings to use."""
    backup, settings_file = output / BACKUP_DIR, output / SETTINGS_FILE
    if resume:
        if not (backup.is_dir() and settings_file.is_file()):
            fail(f"nothing to resume in {output}: no interrupted run is saved there")
        saved = json.loads(settings_file.read_text())
        if settings["data"]:
            saved["data"] = settings["data"]
        return saved
    if output.exists() and not output.is_dir():
        fail(f"--output is a file, not a folder: {output}")
    if backup.exists():
        fail(f"{output} holds an interrupted run; continue it with --resume, or choose another --output")
    if (output / MODEL_FILE).exists() and not overwrite:
        fail(f"{output} already holds a trained model; pass --overwrite to replace it, or choose another --output")
    return settings


def start_output(settings: dict, output: Path) -> None:
    """Record a new run's settings in its output folder, forgetting any earlier run's epoch log."""
    output.mkdir(parents=True, exist_ok=True)
    (output / LOG_FILE).unlink(missing_ok=True)
    write_json(output / SETTINGS_FILE, settings)


def main(argv: list[str] | None = None) -> int:
    settings, output, resume, overwrite, device, verbose = parse_args(argv)
    settings = check_output(settings, output, resume, overwrite)
    mnist = local_mnist_or_fail(settings["data"])
    if not resume:
        start_output(settings, output)
    prepare_environment(device, settings["deterministic"])
    with framework_logs(output / RUN_LOG_FILE, verbose):
        return train(settings, output, device, mnist)


def train(settings: dict, output: Path, device: str, mnist: tuple | None) -> int:
    """Import Keras, check the device, train, draw the curves, and report; every expected failure is one line."""
    from convnets import devices
    from convnets.figures import plot_training_curves
    from convnets.runner import TrainingFailed, run_training

    try:
        device_line = devices.describe_device(device)
    except devices.DeviceError as error:
        fail(str(error))
    print(device_line, flush=True)
    try:
        record = run_training(settings, output, device_line, mnist=mnist)
    except DataError as error:
        fail(str(error))
    except KeyboardInterrupt:
        done = len(read_epoch_log(output / LOG_FILE).get("loss", []))
        fail(f"interrupted; {done} finished epoch(s) are saved in {output}. "
             f"Continue with: python code/train.py --output {output} --resume", code=130)
    except TrainingFailed as error:
        fail(str(error), code=1)
    plot_training_curves({settings["model"]: record["history"]}, output / CURVES_FILE,
                         title=f"{settings['model']}, {settings['recipe']} recipe")
    print(f"Saved the model, history and curves in {output}")
    print(f"Test accuracy: {record['test_accuracy']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
