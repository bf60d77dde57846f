"""Turn benchmark runs into medians, ratios to the book's code, the goals, a text table and the charts.

The headline of each entry is airbench's: its fixed recipe run to the end, the whole fit time (median over
seeds) and the final test accuracy (mean with a 95% interval, and the share of seeds at or above the target).
The time until the test accuracy first reaches the target is kept as a secondary figure: it stops each run
by looking at the test set.
"""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path

from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from convnets.schemes import SCHEMES, drawing_in, plt, save_figure, scheme, scheme_path
from convnets.stats import mean_interval

FIGURES = ("fit_seconds", "time_to_target", "images_per_second", "gflops_per_second")
SHARE_GOAL = 0.8  # at least this share of the fast recipe's seeds must reach the target
FIT_GOAL = {"cpu": 0.15, "gpu": 1.0}  # the fast fit: at most this times the book's on a CPU, under this many seconds on a GPU
TRAIN_PY_GOAL = 1.05  # (b), the book's recipe through train.py: at most this times the book's fit
NOT_MEASURED = "not measured in this run: code/bench.py {}"  # a part the run was not asked for


def time_to_target(run: dict, target: float) -> float | None:
    """Training seconds until the first evaluation at or above `target`; None if it never got there."""
    for evaluation in run["evaluations"]:
        if evaluation["accuracy"] >= target:
            return evaluation["seconds"]
    return None


def median_or_none(values: list[float | None]) -> float | None:
    """The median, counting a missing value as infinitely slow; None when that median is infinite."""
    middle = statistics.median([math.inf if value is None else value for value in values])
    return None if math.isinf(middle) else middle


def summarize_entry(runs: list[dict], target: float) -> dict:
    """Medians over seeds of an entry's timings, and the mean of its final accuracy with a 95% interval."""
    accuracies = [run["final_accuracy"] for run in runs]
    interval = mean_interval(accuracies) if len(accuracies) > 1 else None
    return {
        "seeds": [run["seed"] for run in runs],
        "accuracy_low": interval.low if interval else accuracies[0],
        "accuracy_high": interval.high if interval else accuracies[0],
        "share_at_target": sum(value >= target for value in accuracies) / len(accuracies),
        "parameters": sorted({run.get("parameters") for run in runs}, key=str),
        "fit_seconds": statistics.median(run["fit_seconds"] for run in runs),
        "time_to_target": median_or_none([time_to_target(run, target) for run in runs]),
        "images_per_second": statistics.median(run["images_per_second"] for run in runs),
        "gflops_per_second": statistics.median(run["gflops_per_second"] for run in runs),
        "one_time_seconds": statistics.median(run["one_time_seconds"] for run in runs),
        "accuracy_mean": statistics.fmean(accuracies),
    }


def add_ratios(summaries: dict[str, dict], baseline: str) -> None:
    """Give every entry each figure as a ratio to the baseline's (None where either is missing)."""
    base = summaries[baseline]
    for summary in summaries.values():
        summary["ratios"] = {
            name: (summary[name] / base[name] if summary[name] is not None and base[name] else None)
            for name in (*FIGURES, "accuracy_mean")
        }


def summarize(runs: list[dict], entries: list[str], target: float) -> dict[str, dict]:
    """One summary per entry, in the order given; the first entry is the baseline of the ratios."""
    summaries = {name: summarize_entry([run for run in runs if run["entry"] == name], target) for name in entries}
    add_ratios(summaries, entries[0])
    return summaries


def check_goals(summaries: dict[str, dict], entries: list[str], on_gpu: bool, target: float,
                parameters: int) -> dict[str, bool]:
    """The benchmark's goals, each true or false. `parameters`: the book's convnet's count."""
    book, ours, fast = (summaries[name] for name in entries[:3])
    accuracy = {f"fast accuracy mean >= {target:.3f}": fast["accuracy_mean"] >= target,
                f"at least {SHARE_GOAL:.0%} of fast seeds >= {target:.3f}": fast["share_at_target"] >= SHARE_GOAL}
    if None not in fast["parameters"]:  # runs recorded before the count was kept cannot be checked
        accuracy[f"fast recipe trains the book's architecture ({parameters:,} parameters)"] = fast["parameters"] == [parameters]
    if on_gpu:
        return {f"fast fit under {FIT_GOAL['gpu']:g} s, compilation apart": fast["fit_seconds"] < FIT_GOAL["gpu"], **accuracy}
    return {f"fast fit <= {FIT_GOAL['cpu']} x book fit": fast["fit_seconds"] <= FIT_GOAL["cpu"] * book["fit_seconds"],
            **accuracy,
            f"train.py/book fit <= {TRAIN_PY_GOAL}": ours["fit_seconds"] <= TRAIN_PY_GOAL * book["fit_seconds"]}


def _number(value: float | None, digits: int) -> str:
    return "never" if value is None else f"{value:.{digits}f}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def format_table(summaries: dict[str, dict], labels: dict[str, str], target: float) -> str:
    """A plain-text table: the fixed runs' medians with their ratio to the first entry, the final accuracy as a
    mean with its 95% interval and the share of seeds at the target; then the early-stopping figure."""
    header = ("entry", "fit s", "final test accuracy [95% CI]", f">= {target:.3f}", f"first {target:.3f} s*",
              "images/s", "one-time s")
    rows = [header]
    for name, s in summaries.items():
        r = s["ratios"]
        rows.append((
            labels[name],
            f"{s['fit_seconds']:.2f} ({_ratio(r['fit_seconds'])})",
            f"{s['accuracy_mean']:.4f} [{s['accuracy_low']:.4f}, {s['accuracy_high']:.4f}]",
            f"{round(s['share_at_target'] * len(s['seeds']))}/{len(s['seeds'])}",
            f"{_number(s['time_to_target'], 2)} ({_ratio(r['time_to_target'])})",
            f"{s['images_per_second']:,.0f} ({_ratio(r['images_per_second'])})",
            f"{s['one_time_seconds']:.2f}",
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    lines.append(f"* early stopping on the test set: the training time until a test evaluation first reached {target:.3f}")
    return "\n".join(lines)


def format_probes(probes: list[dict]) -> str:
    """A plain-text table of the throughput probes, each against the first."""
    if not probes:
        return NOT_MEASURED.format("--probes")
    base = probes[0]["steady_images_per_second"]
    width = max(len(probe["label"]) for probe in probes)
    lines = [f"{'variant'.ljust(width)}  images/s (compiled)  vs first"]
    for probe in probes:
        rate = probe["steady_images_per_second"]
        lines.append(f"{probe['label'].ljust(width)}  {rate:>19,.0f}  {rate / base:.2f}x")
    return "\n".join(lines)


def batch_medians(curve: list[dict]) -> dict[int, float]:
    """The median images per second of each batch size of the batch-size curve."""
    sizes = sorted({point["batch_size"] for point in curve})
    return {size: statistics.median(p["images_per_second"] for p in curve if p["batch_size"] == size) for size in sizes}


def dips(curve: list[dict]) -> list[int]:
    """Batch sizes slower than the next smaller one in every round of the curve: dips that repeat."""
    rounds = sorted({point["round"] for point in curve})
    speed = {(p["round"], p["batch_size"]): p["images_per_second"] for p in curve}
    sizes = sorted({point["batch_size"] for point in curve})
    return [size for smaller, size in zip(sizes, sizes[1:])
            if all(speed[(r, size)] < speed[(r, smaller)] for r in rounds)]


def format_curve(curve: list[dict]) -> str:
    """The batch-size curve as a plain-text table: each round's images per second, and their median."""
    if not curve:
        return NOT_MEASURED.format("--batch-curve")
    rounds = sorted({point["round"] for point in curve})
    speed = {(p["round"], p["batch_size"]): p["images_per_second"] for p in curve}
    lines = ["batch  " + "  ".join(f"round {r}".rjust(9) for r in rounds) + "     median"]
    for size, median in batch_medians(curve).items():
        lines.append(f"{size:>5}  " + "  ".join(f"{speed[(r, size)]:>9,.0f}" for r in rounds) + f"  {median:>9,.0f}")
    return "\n".join(lines)


def pipeline_epochs(pipelines: list[dict], first: bool = True) -> dict[str, list[float]]:
    """Every epoch's training seconds through each input pipeline, all rounds together, in the order measured;
    `first=False` leaves out each run's first epoch, which also traces and compiles the training step."""
    epochs: dict[str, list[float]] = {}
    for point in pipelines:
        epochs.setdefault(point["pipeline"], []).extend(point["epoch_seconds"][0 if first else 1:])
    return epochs


def format_pipelines(pipelines: list[dict]) -> str:
    """The input pipelines' epoch times as a plain-text table: each run's epochs in order, then the median and
    extremes of the epochs after the first."""
    if not pipelines:
        return NOT_MEASURED.format("--pipelines")
    width = max(len(point["pipeline"]) for point in pipelines)
    lines = []
    for pipeline, seconds in pipeline_epochs(pipelines, first=False).items():
        for point in (p for p in pipelines if p["pipeline"] == pipeline):
            lines.append(f"{pipeline:<{width}}  round {point['round']}  epochs (s) "
                         + " ".join(f"{value:5.2f}" for value in point["epoch_seconds"]))
        lines.append(f"{'':<{width}}  after the first: median {statistics.median(seconds):.2f}, "
                     f"fastest {min(seconds):.2f}, slowest {max(seconds):.2f}")
    return "\n".join(lines)


def plot_pipelines(pipelines: list[dict], path: Path, title: str) -> None:
    """Every epoch's training seconds, one row of points per input pipeline and one color per round; each run's
    first epoch, which also traces and compiles the training step, is drawn hollow."""
    figure, axes = plt.subplots(figsize=(6.5, 2.8), constrained_layout=True)
    names = list(pipeline_epochs(pipelines))
    rounds = sorted({point["round"] for point in pipelines})
    for r in rounds:
        for row, name in enumerate(names):
            seconds = next(p["epoch_seconds"] for p in pipelines if p["round"] == r and p["pipeline"] == name)
            height = row + 0.1 * (r - (len(rounds) + 1) / 2)
            style = {"linestyle": "none", "marker": "o", "color": f"C{r - 1}", "alpha": 0.8}
            axes.plot(seconds[1:], [height] * len(seconds[1:]), label=f"round {r}" if row == 0 else None, **style)
            axes.plot(seconds[:1], [height], markerfacecolor="none",
                      label="first epoch (compiles)" if row == 0 and r == rounds[-1] else None, **style)
    axes.set_yticks(range(len(names)), [f"{name} pipeline" for name in names])
    axes.set(xlabel="training seconds of one epoch", title=title, ylim=(len(names) - 0.5, -0.5))
    axes.set_xlim(0, None)
    axes.grid(axis="x")
    axes.legend(fontsize="small", loc="center left")
    save_figure(figure, path, dpi=110)


def plot_batch_curve(curve: list[dict], path: Path, title: str) -> None:
    """Images per second against the batch size: every round's point, and a line through the medians."""
    figure, axes = plt.subplots(figsize=(6.5, 3.6), constrained_layout=True)
    for r in sorted({point["round"] for point in curve}):
        points = sorted((p["batch_size"], p["images_per_second"]) for p in curve if p["round"] == r)
        axes.plot(*zip(*points), linestyle="none", marker="o", alpha=0.6, label=f"round {r}")
    medians = batch_medians(curve)
    axes.plot(list(medians), list(medians.values()), color=scheme().neutral, label="median")
    axes.set_xscale("log", base=2)
    axes.set_xticks(list(medians), [str(size) for size in medians])
    axes.set(xlabel="batch size", ylabel="training images per second", title=title, ylim=(0, None))
    axes.grid()
    axes.legend(fontsize="small")
    save_figure(figure, path, dpi=110)


def plot(runs: list[dict], summaries: dict[str, dict], labels: dict[str, str], target: float, path: Path,
         title: str) -> None:
    """Test accuracy against training seconds for every run, and the median times side by side."""
    figure, (curves, bars) = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    colors = dict(zip(summaries, plt.rcParams["axes.prop_cycle"].by_key()["color"]))
    for run in runs:
        seconds = [e["seconds"] for e in run["evaluations"]]
        accuracy = [e["accuracy"] for e in run["evaluations"]]
        first = run["seed"] == summaries[run["entry"]]["seeds"][0]
        curves.plot(seconds, accuracy, marker=".", color=colors[run["entry"]], alpha=0.8,
                    label=labels[run["entry"]] if first else None)
    curves.axhline(target, color=scheme().faint, linestyle="--", linewidth=1)
    curves.set(xscale="log", xlabel="training seconds (evaluation excluded, log scale)", ylabel="test accuracy",
               title="Test accuracy while training", ylim=(max(0.0, target - 0.04), 1.0))
    curves.xaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))  # labelled 0.5, 1, 2, 5, 10... and no minor labels
    curves.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    curves.xaxis.set_minor_formatter(NullFormatter())
    curves.legend(loc="lower right", fontsize="small")
    names = list(summaries)
    positions = range(len(names))
    fit = [summaries[name]["fit_seconds"] for name in names]
    reach = [summaries[name]["time_to_target"] or 0.0 for name in names]
    bars.barh([p - 0.2 for p in positions], fit, height=0.4, color=[colors[n] for n in names], label="whole fit")
    bars.barh([p + 0.2 for p in positions], reach, height=0.4, color=scheme().neutral,
              label=f"until a test evaluation first reached {target:.3f} (early stopping on the test set)")
    bars.set_yticks(list(positions), [labels[name] for name in names], fontsize="small")
    bars.invert_yaxis()
    bars.set(xlabel="seconds (median over seeds)", title="Median training time")
    bars.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=1, fontsize="small", frameon=False)
    for axes in (curves, bars):
        axes.grid()
    figure.suptitle(title)
    save_figure(figure, path, dpi=110)


def draw_chart(report_path: Path, chart: Path) -> None:
    """Draw the chart of a benchmark from its JSON file, in the current color scheme."""
    report = json.loads(report_path.read_text())
    labels = {name: entry["label"] for name, entry in report["entries"].items()}
    where = report["device"].split(" (")[0].removeprefix("Training on ")
    plot(report["runs"], report["summaries"], labels, report["target"], chart, f"MNIST convnet, {where}")


def draw_batch_chart(report_path: Path, chart: Path) -> None:
    """Draw the batch-size curve of a benchmark from its JSON file, in the current color scheme."""
    report = json.loads(report_path.read_text())
    policy = report["batch_curve"][0]["policy"]
    plot_batch_curve(report["batch_curve"], chart, f"The fast recipe's throughput ({policy}), one step per call")


def draw_pipeline_chart(report_path: Path, chart: Path) -> None:
    """Draw the input pipelines' epoch times of a benchmark from its JSON file, in the current color scheme."""
    report = json.loads(report_path.read_text())
    first = report["pipelines"][0]
    plot_pipelines(report["pipelines"], chart,
                   f"The fast recipe's epochs, batch {first['batch_size']} ({first['policy']})")


def batch_chart_path(chart: Path) -> Path:
    return chart.with_name(f"{chart.stem}-batch.png")


def pipeline_chart_path(chart: Path) -> Path:
    return chart.with_name(f"{chart.stem}-pipelines.png")


def redraw(report_path: Path, chart: Path | None = None) -> Path:
    """Draw the charts of a benchmark from its JSON file (default: beside it, as NAME.png, NAME-batch.png for its
    batch-size curve and NAME-pipelines.png for its pipelines' epochs), each with its dark variant (-dark.png);
    returns the first one's path."""
    chart = chart or report_path.with_suffix(".png")
    report = json.loads(report_path.read_text())
    for chosen in SCHEMES:
        with drawing_in(chosen):
            draw_chart(report_path, scheme_path(chart, chosen))
            if report.get("batch_curve"):
                draw_batch_chart(report_path, scheme_path(batch_chart_path(chart), chosen))
            if report.get("pipelines"):
                draw_pipeline_chart(report_path, scheme_path(pipeline_chart_path(chart), chosen))
    return chart
