"""Export a saved Keras model for the playground page: its manifest and weights file, which the page's
"Load your own model" reads.

    convnets-export MODEL.keras OUTDIR
"""

from __future__ import annotations

import sys
from pathlib import Path

from convnets.cli import OneLineParser, fail
from convnets.devices import prepare_environment
from convnets.export import WEIGHTS_SUFFIX, ExportError, export_model
from convnets.framework_logs import framework_logs
from convnets.paths import LOGS_DIR


def export_file(model_file: Path, folder: Path) -> Path:
    """Load the model saved in `model_file` and write folder/NAME.json and NAME.weights.bin; return the manifest.
    Raises ExportError for a file that is not a Keras model, or a model the page cannot run: then nothing is written."""
    import keras

    try:
        model = keras.saving.load_model(model_file, compile=False)
    except Exception as error:  # Keras raises many kinds for a file that is not one of its models
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise ExportError(f"{model_file}: not a Keras model that loads ({reason})") from None
    manifest = folder / f"{model_file.stem}.json"
    export_model(model, manifest)
    return manifest


def main(argv: list[str] | None = None) -> int:
    """The `convnets-export` command: exit 0 with the two files written, else one error line and exit 2."""
    parser = OneLineParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path, help="a model saved by Keras (model.save('NAME.keras'))")
    parser.add_argument("outdir", type=Path, help="the folder for NAME.json and NAME.weights.bin (made if missing)")
    parser.add_verbose_option()
    args = parser.parse_args(argv)
    if not args.model.is_file():
        fail(f"no model file at {args.model}")
    if args.outdir.exists() and not args.outdir.is_dir():
        fail(f"{args.outdir} is a file, not a folder")
    prepare_environment("cpu")
    with framework_logs(LOGS_DIR / "convnets-export.log", args.verbose):
        try:
            manifest = export_file(args.model, args.outdir)
        except ExportError as error:
            fail(str(error))
    print(f"wrote {manifest} and {manifest.with_name(manifest.stem + WEIGHTS_SUFFIX)}: load both in the playground")
    return 0


if __name__ == "__main__":
    sys.exit(main())
