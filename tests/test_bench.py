"""code/bench.py and convnets.benchmark: its options, its report and a smoke run of the headline (no timing is asserted)."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from helpers import ONEDNN, ROOT, assert_one_line_error, assert_quiet, run_script

LAST_LINE = re.compile(r"^fast/book fit ratio: (\d+\.\d{3}); fast accuracy mean: (\d\.\d{4}); share >= (\d\.\d{3}): (\d\.\d{2})$")
GOAL_LINE = re.compile(r"^goal (met|NOT met): (.+)$")


@pytest.mark.parametrize("args, message", [
    (["--seeds", "0"], "must be at least 1"),
    (["--seeds", "three"], "expected a whole number"),
    (["--target", "1.5"], "between 0 and 1"),
    (["--output", "bench.txt"], "must name a .json file"),
    (["--data", "no/such/mnist.npz"], "--data file not found"),
    (["--no-probes"], "unrecognized arguments"),
    (["--search", "--probes"], "--search runs the validation search alone"),
    (["--search", "--all"], "--search runs the validation search alone"),
])
def test_bad_options_get_a_one_line_error_and_exit_2(args, message):
    assert message in assert_one_line_error(run_script("bench.py", *args))


@ONEDNN
def test_gpu_request_without_a_gpu_is_a_one_line_error(tmp_path, onednn):
    result = run_script("bench.py", "--device", "gpu", "--output", str(tmp_path / "b.json"), TF_ENABLE_ONEDNN_OPTS=onednn)
    assert "sees no GPU" in assert_one_line_error(result)


def test_corrupt_data_file_stops_the_benchmark_before_it_starts(tmp_path):
    bad = tmp_path / "mnist.npz"
    bad.write_bytes(b"PK\x03\x04 truncated")
    result = run_script("bench.py", "--data", str(bad), "--output", str(tmp_path / "b.json"))
    assert "corrupt or unreadable" in assert_one_line_error(result)
    assert not (tmp_path / "b.json").exists()


@pytest.fixture(scope="module")
def smoke(tmp_path_factory) -> tuple[subprocess.CompletedProcess, dict, object]:
    """One smoke run of the headline, every entry, with --probes (two of them), on a few batches."""
    output = tmp_path_factory.mktemp("bench") / "benchmark.json"
    result = run_script("bench.py", "--smoke", "--probes", "--output", str(output), TF_ENABLE_ONEDNN_OPTS="1")
    assert result.returncode == 0, result.stderr[-3000:]
    return result, json.loads(output.read_text()), output


def test_smoke_run_keeps_stderr_clean_with_onednn_on(smoke):
    result, _, _ = smoke
    assert_quiet(result)


def test_smoke_run_ends_with_the_summary_line(smoke):
    result, report, _ = smoke
    match = LAST_LINE.match(result.stdout.strip().splitlines()[-1])
    assert match, result.stdout.strip().splitlines()[-1]
    fast = report["summaries"][report["fast"]]
    assert float(match.group(1)) == pytest.approx(fast["ratios"]["fit_seconds"], abs=5e-4)
    assert float(match.group(2)) == pytest.approx(fast["accuracy_mean"], abs=5e-5)
    assert float(match.group(3)) == report["target"]
    assert float(match.group(4)) == pytest.approx(fast["share_at_target"], abs=5e-3)


def test_smoke_run_prints_whether_each_goal_is_met(smoke):
    result, report, _ = smoke
    from convnets.models import build_convnet

    printed = dict(reversed(m.groups()) for m in map(GOAL_LINE.match, result.stdout.splitlines()) if m)
    assert printed == {goal: "met" if met else "NOT met" for goal, met in report["goals"].items()}
    assert set(report["goals"]) == {"fast fit <= 0.15 x book fit", "fast accuracy mean >= 0.990",
                                    "at least 80% of fast seeds >= 0.990", "train.py/book fit <= 1.05",
                                    f"fast recipe trains the book's architecture ({build_convnet().count_params():,} parameters)"}


def test_smoke_run_writes_every_entry_with_ratios_to_the_book(smoke):
    _, report, _ = smoke
    assert report["mode"] == "smoke"
    assert list(report["summaries"]) == ["book", "book-train-py", "fast"]
    assert report["baseline"] == "book" and report["fast"] == "fast"
    assert report["summaries"]["book"]["ratios"]["fit_seconds"] == 1.0
    for name, summary in report["summaries"].items():
        assert summary["fit_seconds"] > 0 and summary["images_per_second"] > 0 and summary["gflops_per_second"] > 0
        assert summary["accuracy_low"] <= summary["accuracy_mean"] <= summary["accuracy_high"]
        assert set(summary["ratios"]) >= {"fit_seconds", "time_to_target", "images_per_second", "gflops_per_second"}
    assert report["entries"]["fast"]["recipe"]["name"] == "fast"
    assert report["entries"]["book"]["recipe"]["optimizer"] == "rmsprop"


def test_smoke_runs_evaluate_off_the_clock_in_order(smoke):
    _, report, _ = smoke
    assert len(report["runs"]) == 3
    book = next(run for run in report["runs"] if run["entry"] == "book")
    assert len(book["evaluations"]) == 2  # --smoke asks for two per epoch; one step per call allows them
    for run in report["runs"]:
        seconds = [e["seconds"] for e in run["evaluations"]]
        assert seconds and seconds == sorted(seconds) and seconds[-1] <= run["fit_seconds"] + 1e-6
        assert run["evaluations"][-1]["epoch"] == pytest.approx(run["epochs"])
        assert run["evaluations"][-1]["accuracy"] == run["final_accuracy"]  # the last evaluation is the final one
        assert len(run["epoch_seconds"]) == run["epochs"] and sum(run["epoch_seconds"]) <= run["fit_seconds"] + 1e-6
        assert run["test_images"] == 500 and run["train_images"] == 512


def test_smoke_run_records_the_machine_and_the_flop_convention(smoke):
    _, report, _ = smoke
    machine = report["machine"]
    assert {"cpu_model", "cpu_flags", "threads", "gpus", "versions", "native_bfloat16"} <= set(machine)
    assert machine["versions"]["keras"] and machine["backend_version"].startswith(machine["backend"] + " ")
    assert report["flops"]["training_per_image"] == 3 * report["flops"]["forward_per_image"]
    assert "multiply-add" in report["flops"]["convention"]
    assert all(run["onednn"] is True for run in report["runs"])  # the smoke run sets TF_ENABLE_ONEDNN_OPTS=1
    assert len(report["probes"]) == 2 and report["probes"][1]["onednn"] is False  # the probe's own environment


def test_parts_not_asked_for_stay_empty_and_the_page_prints_them_as_not_measured(smoke):
    _, report, output = smoke
    from convnets.benchmark.report import format_curve, format_pipelines

    assert report["batch_curve"] == [] and report["pipelines"] == []
    assert format_curve(report["batch_curve"]) == "not measured in this run: code/bench.py --batch-curve"
    assert format_pipelines(report["pipelines"]) == "not measured in this run: code/bench.py --pipelines"
    for chart in (output.with_suffix(".png"), output.with_name(f"{output.stem}-dark.png")):
        assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and chart.stat().st_size > 10_000
    assert not output.with_name(f"{output.stem}-batch.png").exists()


@pytest.mark.parametrize("flags, parts", [(["--batch-curve"], {"batch_curve"}), (["--pipelines"], {"pipelines"}),
                                          (["--all"], {"probes", "batch_curve", "pipelines"})])
def test_each_part_flag_runs_its_part_into_the_record_and_its_chart(smoke, tmp_path, monkeypatch, flags, parts):
    import bench

    _, report, _ = smoke
    fast = next(run for run in report["runs"] if run["entry"] == "fast")
    asked = []

    def fake_run(spec, environment: dict) -> dict:
        """A headline run of the smoke record standing in for the run a part asks for."""
        asked.append(spec)
        if not spec.probe:
            return next(run for run in report["runs"] if run["entry"] == spec.entry and run["seed"] == spec.seed)
        return {**fast, "epoch_seconds": [0.5] * spec.epochs, "batch_size": spec.overrides.get("batch_size", 128)}

    monkeypatch.setattr(bench, "describe", lambda device: (report["device"], report["machine"]))
    monkeypatch.setattr(bench, "run_in_process", fake_run)
    output = tmp_path / "benchmark.json"
    bench.benchmark(bench.parse_args(["--smoke", *flags, "--output", str(output)]), [])
    record = json.loads(output.read_text())
    assert {part for part in bench.PARTS if record[part]} == parts
    assert all(spec.probe and spec.limit == bench.SMOKE["limit"] for spec in asked[3:])
    if "batch_curve" in parts:
        assert [(point["round"], point["batch_size"]) for point in record["batch_curve"]] == [(1, 32), (1, 64)]
        assert all(spec.overrides["steps_per_execution"] == 1 for spec in asked if "batch_size" in spec.overrides)
    if "pipelines" in parts:
        assert [(point["round"], point["pipeline"]) for point in record["pipelines"]] == [(1, "keras"), (1, "gather-autotuned"), (1, "gather")]
        assert all(len(point["epoch_seconds"]) == 2 for point in record["pipelines"])
    for part, chart in (("batch_curve", "benchmark-batch"), ("pipelines", "benchmark-pipelines")):
        for drawn in (tmp_path / f"{chart}.png", tmp_path / f"{chart}-dark.png"):
            assert drawn.exists() == (part in parts) and (part not in parts or drawn.read_bytes()[:4] == b"\x89PNG")


def test_a_part_the_device_cannot_measure_is_a_one_line_error_and_left_out_of_all(capsys):
    import bench

    assert bench.chosen_parts(bench.parse_args(["--all"]), on_gpu=False, backend="tensorflow") == set(bench.PARTS)
    assert bench.chosen_parts(bench.parse_args(["--all"]), on_gpu=True, backend="jax") == {"probes"}
    assert bench.chosen_parts(bench.parse_args(["--probes"]), on_gpu=True, backend="jax") == {"probes"}
    assert bench.chosen_parts(bench.parse_args([]), on_gpu=False, backend="tensorflow") == set()
    for flag, on_gpu, backend in (("--batch-curve", True, "jax"), ("--pipelines", False, "jax")):
        with pytest.raises(SystemExit) as stopped:
            bench.chosen_parts(bench.parse_args([flag]), on_gpu=on_gpu, backend=backend)
        lines = capsys.readouterr().err.strip().splitlines()
        assert stopped.value.code == 2 and len(lines) == 1 and f"error: {flag} cannot be measured here" in lines[0]


def test_search_smoke_run_scores_candidates_on_held_out_training_images_only(tmp_path):
    from convnets.benchmark import search

    output = tmp_path / "search.json"
    result = run_script("bench.py", "--search", "--smoke", "--output", str(output), TF_ENABLE_ONEDNN_OPTS="1")
    assert result.returncode == 0, result.stderr[-3000:]
    record = json.loads(output.read_text())
    assert [row["candidate"] for row in record["rows"]] == search.candidates()[:1]
    for run in record["runs"]:
        assert run["validation"] and run["spec"]["validation"] and run["test_images"] == 500
    assert "candidate" in result.stdout and result.stdout.strip().splitlines()[-1].startswith("Wrote ")


def test_validation_split_holds_out_the_last_training_images(mnist):
    from convnets.benchmark.run import Spec, load_data
    from convnets.benchmark.search import VALIDATION_IMAGES

    (x_train, y_train), (x_held, y_held) = load_data(Spec(entry="fast", validation=True))
    (all_train, all_labels), _ = mnist
    assert len(x_held) == VALIDATION_IMAGES and len(x_train) == len(all_train) - VALIDATION_IMAGES
    assert (x_held == all_train[-VALIDATION_IMAGES:]).all() and (y_train == all_labels[:-VALIDATION_IMAGES]).all()


def test_the_search_picks_the_qualifying_candidate_with_the_shortest_estimated_time():
    from convnets.benchmark import search

    def run(candidate: dict, seconds: float, accuracy: float) -> dict:
        return {"spec": {"overrides": candidate}, "fit_seconds": seconds, "final_accuracy": accuracy}

    def candidate(**settings) -> dict:
        return next(c for c in search.candidates() if all(c[key] == value for key, value in settings.items()))

    one_epoch = candidate(batch_size=64, epochs=1, learning_rate=5e-3, label_smoothing=0.0)
    two_epochs = candidate(batch_size=64, epochs=2, learning_rate=5e-3, label_smoothing=0.0)
    two_epochs_lucky = candidate(batch_size=64, epochs=2, learning_rate=1e-2, label_smoothing=0.0)
    larger_batch = candidate(batch_size=128, epochs=1, learning_rate=5e-3, label_smoothing=0.0)
    runs = [run(one_epoch, 3.0, 0.995), run(one_epoch, 3.2, 0.9905),  # fails the threshold on one seed
            run(two_epochs, 6.0, 0.993), run(two_epochs, 6.4, 0.992),
            run(two_epochs_lucky, 4.0, 0.996), run(two_epochs_lucky, 4.4, 0.996),  # a quiet spell on the machine
            run(larger_batch, 5.5, 0.992), run(larger_batch, 5.7, 0.993)]
    rows = search.summarize(runs)
    assert [row["candidate"] for row in rows] == [one_epoch, two_epochs, two_epochs_lucky, larger_batch]
    assert [row["qualifies"] for row in rows] == [False, True, True, True]
    # A batch-64 epoch took a median of 3.0 s over all six runs, whatever the rate: both two-epoch candidates
    # are estimated at 6.0 s, however quick one of them was (its own median is 4.2 s), and the batch-128
    # candidate's one epoch, at 5.6 s, wins.
    assert [round(row["estimated_seconds"], 2) for row in rows] == [3.0, 6.0, 6.0, 5.6]
    assert rows[2]["fit_seconds"] < rows[3]["fit_seconds"]
    assert search.choose(rows)["candidate"] == larger_batch
    assert search.choose(rows[:1]) is None


def test_the_fast_recipe_is_the_candidate_the_stored_validation_search_chose():
    record = json.loads((ROOT / "snaps" / "fast-recipe-search.json").read_text())
    from convnets.benchmark import search
    from convnets.recipes import RECIPES

    assert record["mode"] == "full" and record["validation_images"] == search.VALIDATION_IMAGES
    assert all(run["validation"] for run in record["runs"]), "a search run scored on the test set"
    assert [row["candidate"] for row in record["rows"]] == search.candidates()
    rows = search.summarize(record["runs"])
    assert search.choose(rows)["candidate"] == record["chosen"]
    fast = RECIPES["fast"].as_dict()
    assert {key: fast[key] for key in record["chosen"]} == record["chosen"]


def test_summaries_give_a_95_percent_interval_and_the_share_of_seeds_at_the_target():
    from convnets.benchmark.report import summarize_entry
    from convnets.stats import mean_interval

    accuracies = [0.9912, 0.9895, 0.9921, 0.9903, 0.9930]
    runs = [{"seed": i, "final_accuracy": a, "fit_seconds": 5.0 + i, "images_per_second": 1.0, "gflops_per_second": 1.0,
             "one_time_seconds": 0.1, "evaluations": [], "parameters": 104202} for i, a in enumerate(accuracies)]
    summary = summarize_entry(runs, 0.99)
    interval = mean_interval(accuracies)
    assert (summary["accuracy_low"], summary["accuracy_high"]) == (interval.low, interval.high)
    assert summary["share_at_target"] == 0.8 and summary["fit_seconds"] == 7.0 and summary["parameters"] == [104202]


def test_a_dip_in_the_batch_curve_counts_only_when_every_round_shows_it():
    from convnets.benchmark.report import batch_medians, dips

    curve = [{"round": r, "batch_size": b, "images_per_second": v}
             for r, speeds in ((1, (100, 150, 120, 200)), (2, (110, 140, 130, 190)))
             for b, v in zip((32, 64, 128, 256), speeds)]
    assert dips(curve) == [128]
    curve[6]["images_per_second"] = 160  # round 2 at 128 now beats 64
    assert dips(curve) == [] and batch_medians(curve)[128] == 140


def test_flops_count_multiply_adds_twice_in_conv_and_dense_layers():
    from convnets import models
    from convnets.benchmark import flops

    model = models.build_convnet()
    counted = {}
    for layer in model.layers:
        if hasattr(layer, "kernel"):
            weights_per_output = layer.kernel.shape[0] * (layer.kernel.shape[1] * layer.kernel.shape[2]
                                                          if len(layer.kernel.shape) == 4 else 1)
            outputs = 1
            for size in layer.output.shape[1:]:
                outputs *= size
            counted[layer.name] = 2 * outputs * weights_per_output
    assert flops.per_layer(model) == counted
    assert flops.training_flops(model) == 3 * sum(counted.values())


def test_time_to_target_is_the_first_evaluation_at_or_above_it():
    from convnets.benchmark.report import median_or_none, time_to_target

    run = {"evaluations": [{"seconds": 1.0, "accuracy": 0.98}, {"seconds": 2.0, "accuracy": 0.991},
                           {"seconds": 3.0, "accuracy": 0.989}, {"seconds": 4.0, "accuracy": 0.995}]}
    assert time_to_target(run, 0.99) == 2.0
    assert time_to_target(run, 0.999) is None
    assert median_or_none([3.0, None, 1.0]) == 3.0
    assert median_or_none([None, None, 1.0]) is None


def test_native_bfloat16_needs_avx512_bf16_or_amx(tmp_path):
    from convnets import devices
    from convnets.benchmark import machine

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("model name\t: Test CPU\nflags\t\t: fpu avx2 fma avx512f amx_tile amx_bf16\n")
    flags = devices.cpu_flags(cpuinfo)
    assert machine.notable_cpu_flags(flags) == ["amx_bf16", "amx_tile", "avx2", "avx512f", "fma"]
    assert devices.native_bfloat16(flags) and not devices.native_bfloat16(["avx2", "fma", "avx512f"])
    assert machine.cpu_model(cpuinfo) == "Test CPU"


def test_auto_mixed_precision_skips_emulated_bfloat16(monkeypatch):
    from convnets import recipes, training

    fast = recipes.RECIPES["fast"]
    assert training.precision_policy(fast, on_gpu=True) == "mixed_float16"
    monkeypatch.setattr(training, "native_bfloat16", lambda: False)
    assert training.precision_policy(fast, on_gpu=False) == "float32"
    monkeypatch.setattr(training, "native_bfloat16", lambda: True)
    assert training.precision_policy(fast, on_gpu=False) == "mixed_bfloat16"
    assert training.precision_policy(recipes.recipe_with("fast", mixed_precision=True), on_gpu=False) == "mixed_bfloat16"


def test_fast_schedule_warms_up_then_decays_to_its_floor():
    from convnets import recipes, training

    fast = recipes.RECIPES["fast"]
    optimizer = training.make_optimizer(fast, steps_per_epoch=100)

    def rate_at(step: int) -> float:
        optimizer.iterations.assign(step)
        return float(optimizer.learning_rate)

    floor = fast.learning_rate * fast.floor
    assert rate_at(0) == pytest.approx(fast.learning_rate / 10)
    assert rate_at(int(fast.warmup_epochs * 100)) == pytest.approx(fast.learning_rate)
    assert rate_at(int(fast.decay_epochs * 100)) == pytest.approx(floor)
    assert rate_at(fast.epochs * 100) == pytest.approx(floor)


def test_resident_chunks_cover_an_epoch_between_evaluations():
    from convnets.benchmark.resident import chunk_lengths

    assert chunk_lengths(937, 234) == [234, 234, 234, 234, 1]
    assert chunk_lengths(100, 25) == [25, 25, 25, 25]
    assert chunk_lengths(100, 0) == [100]


def test_the_ci_machine_line_names_the_processor_and_its_instruction_sets(tmp_path):
    from convnets.benchmark.machine import summary_line

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("model name\t: Test CPU 9000\nflags\t\t: fpu avx2 avx512f amx_tile\n")
    line = summary_line(cpuinfo)
    assert line.startswith("Test CPU 9000, ") and "avx2 yes" in line and "avx512_vnni no" in line and "amx yes" in line
