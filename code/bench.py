"""How fast can the convnet train? Fixed recipes run to the end, timed and scored on the test set.

    python code/bench.py                     # the headline: 5 seeds of each entry, all of MNIST
    python code/bench.py --all               # and every part below: the whole record the page shows
    python code/bench.py --probes            # and the throughput probes of the fast recipe's tricks
    python code/bench.py --batch-curve       # and the fast recipe's batch-size curve (CPU)
    python code/bench.py --pipelines         # and every epoch's time through three input pipelines (CPU)
    python code/bench.py --seeds 10          # more seeds, tighter medians and intervals
    python code/bench.py --search            # instead: the validation search that chose the fast recipe
    python code/bench.py --smoke             # a few batches: checks the machinery, measures nothing
    python code/bench.py --device gpu        # on a GPU (Keras's JAX backend adds the on-GPU loop)

It trains, one after another on the same data: (a) the book's code as printed, (b) our train.py
path with the book's recipe, (c) the fast recipe. Each runs its fixed number of epochs; the report gives
the median fit time, the final test accuracy (mean, 95% interval, share of seeds at the target) and the
goals met. The parts asked for follow. It writes a JSON file, with an empty list for each part not run, and
its charts beside it (default snaps/benchmark-cpu.json or -gpu.json) and ends with the line
`fast/book fit ratio: R; fast accuracy mean: A; share >= 0.990: S`.
--search trains candidate recipes on the first 50,000 training images, scores them on the last 10,000
and writes snaps/fast-recipe-search.json; it never reads the test set.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from convnets.cli import OneLineParser, fail, local_mnist_or_fail, positive_int
from convnets.devices import prepare_environment
from convnets.framework_logs import framework_logs
from convnets.paths import LOGS_DIR, ROOT, SNAPS_DIR

CODE_DIR = Path(__file__).resolve().parent
SMOKE = {"limit": 512, "test_limit": 500, "epochs": 1, "evals_per_epoch": 2}
PARTS = ("probes", "batch_curve", "pipelines")  # the benchmark's opt-in parts, after the headline
CPU_PARTS = ("batch_curve", "pipelines")  # measured on a CPU only, the pipelines with TensorFlow only
PROBE_IMAGES = 2048
BENCH_SEEDS = 5
BATCH_CURVE = (32, 64, 128, 256, 512)  # the batch sizes of the throughput curve...
CURVE_IMAGES = 16_384  # ...each trained for 2 epochs on this many images, one step per call...
CURVE_ROUNDS = 2  # ...in this many interleaved rounds, so that a dip can be told from noise
PIPELINES = ("keras", "gather-autotuned", "gather")  # the input pipelines whose epoch times are compared...
PIPELINE_EPOCHS = 6  # ...each training the fast recipe for this many epochs of all the images, per round...
PIPELINE_ROUNDS = 3  # ...in this many interleaved rounds
LOG = LOGS_DIR / "bench.log"  # TensorFlow's own lines and each run's errors, unless --verbose
# This process only looks at the GPU; JAX must not take most of its memory away from the runs.
PREALLOCATE = "XLA_PYTHON_CLIENT_PREALLOCATE"
USER_PREALLOCATE = os.environ.get(PREALLOCATE)


def accuracy_target(text: str) -> float:
    """An argparse type for an accuracy strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = OneLineParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=positive_int,
                        help=f"seeds per entry; medians over them (default: {BENCH_SEEDS}, or 2 per candidate with --search)")
    parser.add_argument("--search", action="store_true",
                        help="run the validation search that chose the fast recipe instead of the benchmark")
    parser.add_argument("--smoke", action="store_true",
                        help=f"{SMOKE['limit']} training images, 1 epoch, 1 seed: checks that everything runs")
    parser.add_device_option()
    parser.add_argument("--target", type=accuracy_target, default=0.99, help="test accuracy to reach (default: 0.99)")
    parser.add_argument("--evals-per-epoch", type=positive_int, default=4,
                        help="test-accuracy measurements per epoch, off the clock (default: 4)")
    parser.add_argument("--probes", action="store_true", help="add the throughput probes of the fast recipe's tricks")
    parser.add_argument("--batch-curve", action="store_true", help="add the fast recipe's batch-size curve (CPU only)")
    parser.add_argument("--pipelines", action="store_true",
                        help="add every epoch's time through each input pipeline (CPU, TensorFlow only)")
    parser.add_argument("--all", action="store_true", help="add every part this device measures: the whole record")
    parser.add_data_option()
    parser.add_argument("--output", type=Path, help="the JSON file to write; the chart goes beside it as .png "
                                                    "(default: snaps/benchmark-cpu.json, or -gpu.json on a GPU)")
    parser.add_verbose_option()
    args = parser.parse_args(argv)
    if args.output is not None and args.output.suffix != ".json":
        parser.error(f"--output must name a .json file, got {args.output}")
    if args.search and (args.all or any(getattr(args, part) for part in PARTS)):
        parser.error("--search runs the validation search alone: drop --probes, --batch-curve, --pipelines and --all")
    if args.smoke:
        args.seeds = 1
    if args.seeds is None:
        from convnets.benchmark.search import SEARCH_SEEDS

        args.seeds = SEARCH_SEEDS if args.search else BENCH_SEEDS
    return args


# ## Where are we?
# Timings only mean something next to the machine that produced them, so the benchmark first
# records the processor's flags, the thread settings, the accelerator and the library versions.


def describe(device: str) -> tuple[str, dict]:
    """The device line train.py prints, and the machine's description; a missing GPU is a one-line error."""
    from convnets import devices
    from convnets.benchmark import machine

    try:
        device_line = devices.describe_device(device)
    except devices.DeviceError as error:
        fail(str(error))
    return device_line, machine.describe()


# ## What are we comparing?
# On a CPU: the book's code, the same recipe through train.py, and the fast recipe. On a GPU with
# Keras's JAX backend, the fast recipe runs as one compiled loop over data held on the GPU, and the
# same recipe through train.py's `fit` is shown beside it.


# --8<-- [start:entries]
def choose_entries(on_gpu: bool, backend: str) -> list[str]:
    """The entries to run; the first is the baseline of every ratio, the third is the fast recipe."""
    if on_gpu and backend == "jax":
        return ["book", "book-train-py", "fast-resident", "fast-train-py"]
    return ["book", "book-train-py", "fast"]
# --8<-- [end:entries]


def chosen_parts(args: argparse.Namespace, on_gpu: bool, backend: str) -> set[str]:
    """The parts to run after the headline; one this device cannot measure is a one-line error, or left out of --all."""
    measurable = set(PARTS) - (set(CPU_PARTS) if on_gpu else set()) - ({"pipelines"} if backend != "tensorflow" else set())
    asked = {part for part in PARTS if getattr(args, part)}
    if asked - measurable:
        fail(f"--{min(asked - measurable).replace('_', '-')} cannot be measured here: "
             f"{'the batch curve and the pipelines run on a CPU' if on_gpu else 'the pipelines need TensorFlow'}")
    return measurable if args.all else asked


# ## One run, one process
# Each run starts a fresh Python process, so that no thread pool, dtype policy or environment
# variable carries over from the run before. The process trains, measures test accuracy a few
# times per epoch with the clock paused, and writes its timings as JSON.


def run_in_process(spec, environment: dict[str, str]) -> dict:
    """Run `python -m convnets.benchmark.run` on one spec and return its result; a failure stops the benchmark."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(CODE_DIR), os.environ.get("PYTHONPATH")])))
    env.pop(PREALLOCATE, None)
    env.update({PREALLOCATE: USER_PREALLOCATE} if USER_PREALLOCATE is not None else {})
    env.update(environment)
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "result.json"
        # The run's stderr is this process's: the log file, or the terminal with --verbose.
        completed = subprocess.run([sys.executable, "-m", "convnets.benchmark.run", json.dumps(asdict(spec)), str(output)],
                                   env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
        if completed.returncode != 0 or not output.exists():
            fail(f"the {spec.entry} run with seed {spec.seed} failed (exit {completed.returncode}); "
                 f"its trace went to stderr: into {LOG}, or above with --verbose", code=1)
        return json.loads(output.read_text())


# --8<-- [start:runs]
def run_all(entries: list[str], args: "argparse.Namespace") -> list[dict]:
    """Every entry with every seed, interleaved so that a busy spell on the machine hits all of them."""
    from convnets.benchmark.report import time_to_target
    from convnets.benchmark.run import ENTRIES, Spec

    limits = SMOKE if args.smoke else {"evals_per_epoch": args.evals_per_epoch}
    runs = []
    for seed in range(1, args.seeds + 1):
        for name in entries:
            spec = Spec(entry=name, seed=seed, device=args.device, data=str(args.data) if args.data else None, **limits)
            run = run_in_process(spec, {})
            reached = time_to_target(run, args.target)
            print(f"seed {seed}  {ENTRIES[name].label:<34} fit {run['fit_seconds']:7.2f} s   "
                  f"{args.target:.3f} after {'never' if reached is None else f'{reached:.2f} s'}   "
                  f"final accuracy {run['final_accuracy']:.4f}", flush=True)
            runs.append(run)
    return runs
# --8<-- [end:runs]


# ## What does each trick buy?
# The probes train the fast recipe for a few calls with one trick changed at a time and report the
# images per second once compiled: throughput alone, with no accuracy attached.


# --8<-- [start:probes]
def probe_variants(on_gpu: bool, backend: str) -> list[tuple[str, str, dict, dict]]:
    """(label, entry, recipe changes, environment) for each throughput probe; the first is the reference."""
    if on_gpu and backend == "jax":
        return [("fast recipe, data on the GPU (float16)", "fast-resident", {}, {}),
                ("same, float32", "fast-resident", {"mixed_precision": False}, {}),
                ("same, batch 256", "fast-resident", {"batch_size": 256}, {}),
                ("fast recipe through fit (float16)", "fast-train-py", {}, {}),
                ("book recipe through fit", "book-train-py", {}, {})]
    return [("fast recipe", "fast", {}, {}),
            ("without oneDNN", "fast", {}, {"TF_ENABLE_ONEDNN_OPTS": "0"}),
            ("one step per call", "fast", {"steps_per_execution": 1}, {}),
            ("with XLA (jit_compile=True)", "fast", {"jit_compile": True}, {}),
            ("in float32", "fast", {"mixed_precision": False}, {}),
            ("in mixed bfloat16", "fast", {"mixed_precision": True}, {}),
            ("book recipe through fit", "book-train-py", {}, {})]
# --8<-- [end:probes]


def run_probes(variants: list[tuple[str, str, dict, dict]], args: argparse.Namespace) -> list[dict]:
    """Throughput of each variant over a few compiled calls, in a process of its own."""
    from convnets.benchmark.run import Spec

    limit = SMOKE["limit"] if args.smoke else PROBE_IMAGES
    probes = []
    for label, entry, changes, environment in variants[:2] if args.smoke else variants:
        spec = Spec(entry=entry, seed=1, limit=limit, test_limit=SMOKE["test_limit"], epochs=2, device=args.device,
                    data=str(args.data) if args.data else None, overrides=changes, probe=True)
        result = run_in_process(spec, environment)
        probes.append({"label": label, "entry": entry, "changes": changes, "environment": environment,
                       **{key: result[key] for key in ("steady_images_per_second", "policy", "onednn", "jit_compile",
                                                       "batch_size", "device")}})
        print(f"probe  {label:<40} {result['steady_images_per_second']:>10,.0f} images/s", flush=True)
    return probes


# ## How does throughput grow with the batch?
# The fast recipe at each batch size of BATCH_CURVE, one step per call so that every step is timed,
# in interleaved rounds: a dip that every round shows is the machine's, not the noise's.


def run_curve(args: argparse.Namespace) -> list[dict]:
    """Images per second of the fast recipe at each batch size, CURVE_ROUNDS times."""
    from convnets.benchmark.run import Spec

    sizes, rounds, limit = (BATCH_CURVE[:2], 1, SMOKE["limit"]) if args.smoke else (BATCH_CURVE, CURVE_ROUNDS, CURVE_IMAGES)
    curve = []
    for round_ in range(1, rounds + 1):
        for size in sizes:
            spec = Spec(entry="fast", seed=1, limit=limit, test_limit=SMOKE["test_limit"], epochs=2, device=args.device,
                        data=str(args.data) if args.data else None,
                        overrides={"batch_size": size, "steps_per_execution": 1}, probe=True)
            result = run_in_process(spec, {})
            curve.append({"round": round_, "batch_size": size, "images_per_second": result["steady_images_per_second"],
                          "policy": result["policy"]})
            print(f"batch  {size:>4}  round {round_}  {result['steady_images_per_second']:>10,.0f} images/s", flush=True)
    return curve


# ## Does every epoch take as long?
# The fast recipe for several whole epochs through each input pipeline: Keras's own, which tf.data autotunes
# while it runs, the recipe's own with autotuning on, and as the recipe has it, off. Each epoch's training
# seconds are kept.


def run_pipelines(args: argparse.Namespace) -> list[dict]:
    """The seconds of every epoch of the fast recipe through each of PIPELINES, PIPELINE_ROUNDS times."""
    from convnets.benchmark.run import Spec

    epochs, rounds, limit = (2, 1, SMOKE["limit"]) if args.smoke else (PIPELINE_EPOCHS, PIPELINE_ROUNDS, None)
    points = []
    for round_ in range(1, rounds + 1):
        for pipeline in PIPELINES:
            spec = Spec(entry="fast", seed=round_, limit=limit, test_limit=SMOKE["test_limit"], epochs=epochs,
                        device=args.device, data=str(args.data) if args.data else None,
                        overrides={"input_pipeline": pipeline}, probe=True)
            result = run_in_process(spec, {})
            points.append({"round": round_, "pipeline": pipeline, "epoch_seconds": result["epoch_seconds"],
                           "policy": result["policy"], "batch_size": result["batch_size"]})
            print(f"pipeline  {pipeline:<16} round {round_}  epochs "
                  + "  ".join(f"{seconds:5.2f} s" for seconds in result["epoch_seconds"]), flush=True)
    return points


# ## How was the fast recipe chosen?
# On validation images only: the candidates train on the first 50,000 training images and are scored on
# the last 10,000. The rule that picks one is in convnets.benchmark.search; its timings, like the
# benchmark's, belong to the machine the record names.


def run_search(args: argparse.Namespace, argv: list[str] | None) -> int:
    """Run every candidate with every seed on the validation split, write the record and print the choice."""
    from convnets.benchmark import search
    from convnets.benchmark.run import Spec
    from convnets.recipes import RECIPES
    from convnets.run_files import write_json

    _, machine = describe(args.device)
    candidates = search.candidates()[:1] if args.smoke else search.candidates()
    limits = {"limit": SMOKE["limit"], "test_limit": SMOKE["test_limit"]} if args.smoke else {}
    runs = []
    for seed in range(1, args.seeds + 1):
        for candidate in candidates:
            spec = Spec(entry="fast", seed=seed, device=args.device, data=str(args.data) if args.data else None,
                        overrides=candidate, validation=True, evals_per_epoch=1, **limits)
            run = run_in_process(spec, {})
            print(f"seed {seed}  {search.name(candidate):<44} fit {run['fit_seconds']:6.2f} s   "
                  f"validation accuracy {run['final_accuracy']:.4f}", flush=True)
            runs.append(run)
    rows = search.summarize(runs)
    best = search.choose(rows)
    fast = RECIPES["fast"].as_dict()
    matches = best is not None and all(fast[key] == value for key, value in best["candidate"].items())
    output = args.output or SNAPS_DIR / "fast-recipe-search.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    write_json(output, {
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(["python", "code/bench.py", *(argv if argv is not None else sys.argv[1:])]),
        "mode": "smoke" if args.smoke else "full",
        "machine": machine, "threshold": search.THRESHOLD, "validation_images": search.VALIDATION_IMAGES,
        "rows": rows, "chosen": best and best["candidate"], "recipe_matches": matches, "runs": runs,
    })
    print()
    print(search.format_rows(rows, best))
    print()
    if best is None:
        print(f"no candidate reached {search.THRESHOLD} on every seed")
    else:
        print(f"chosen: {best['name']}; RECIPES['fast'] " +
              ("matches it" if matches else "differs: set those values in code/convnets/recipes.py"))
    print(f"Wrote {output.relative_to(ROOT) if output.resolve().is_relative_to(ROOT) else output}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    local_mnist_or_fail(args.data)  # each run loads it again in its own process; a bad copy stops us here
    prepare_environment(args.device)
    os.environ[PREALLOCATE] = "false"
    with framework_logs(LOG, args.verbose):
        return run_search(args, argv) if args.search else benchmark(args, argv)


def benchmark(args: argparse.Namespace, argv: list[str] | None) -> int:
    """Run every entry and the parts asked for, write the JSON and the charts, and print the report."""
    from convnets.benchmark import flops
    from convnets.benchmark.report import (check_goals, format_curve, format_pipelines, format_probes, format_table,
                                           redraw, summarize)
    from convnets.benchmark.run import ENTRIES
    from convnets.models import build_convnet
    from convnets.run_files import write_json

    device_line, machine = describe(args.device)
    on_gpu = "GPU" in device_line
    print(device_line)
    print(f"CPU: {machine['cpu_model']}, {machine['cpu_cores']} cores, flags {' '.join(machine['cpu_flags']) or 'none notable'}; "
          f"load average {machine['load_average'][0]:.2f}" if machine["load_average"] else "")
    output = args.output or SNAPS_DIR / f"benchmark-{'gpu' if on_gpu else 'cpu'}.json"
    output.parent.mkdir(parents=True, exist_ok=True)

    model = build_convnet()
    forward = flops.forward_flops(model)
    print(f"The convnet: {model.count_params():,} parameters, {forward / 1e6:.2f} MFLOP per image forward, "
          f"{flops.training_flops(model) / 1e6:.2f} MFLOP per image per training step")

    entries = choose_entries(on_gpu, machine["backend"])
    parts = chosen_parts(args, on_gpu, machine["backend"])
    runs = run_all(entries, args)
    probes = run_probes(probe_variants(on_gpu, machine["backend"]), args) if "probes" in parts else []
    curve = run_curve(args) if "batch_curve" in parts else []
    pipelines = run_pipelines(args) if "pipelines" in parts else []

    summaries = summarize(runs, entries, args.target)
    labels = {name: ENTRIES[name].label for name in entries}
    goals = check_goals(summaries, entries, on_gpu, args.target, model.count_params())
    report = {
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(["python", "code/bench.py", *(argv if argv is not None else sys.argv[1:])]),
        "mode": "smoke" if args.smoke else "full",
        "device": device_line,
        "machine": machine,
        "load_average_after": list(os.getloadavg()),
        "target": args.target,
        "flops": {"forward_per_image": forward, "training_per_image": flops.training_flops(model),
                  "per_layer": flops.per_layer(model), "convention": flops.__doc__.split("\n\n", 1)[1].strip()},
        "entries": {name: {**asdict(ENTRIES[name]), "recipe": next(r["recipe"] for r in runs if r["entry"] == name)}
                    for name in entries},
        "baseline": entries[0],
        "fast": entries[2],
        "summaries": summaries,
        "goals": goals,
        "probes": probes,
        "batch_curve": curve,
        "pipelines": pipelines,
        "runs": runs,
    }
    write_json(output, report)
    chart = redraw(output)

    print()
    print(format_table(summaries, labels, args.target))
    if probes:
        print()
        print(format_probes(probes))
    if curve:
        print()
        print(format_curve(curve))
    if pipelines:
        print()
        print(format_pipelines(pipelines))
    print()
    for goal, met in goals.items():
        print(f"goal {'met' if met else 'NOT met'}: {goal}")
    print(f"Wrote {output.relative_to(ROOT) if output.resolve().is_relative_to(ROOT) else output} and {chart.name}")
    fast = summaries[entries[2]]
    print(f"fast/book fit ratio: {fast['ratios']['fit_seconds']:.3f}; fast accuracy mean: {fast['accuracy_mean']:.4f}; "
          f"share >= {args.target:.3f}: {fast['share_at_target']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
