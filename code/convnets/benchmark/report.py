"""Turn benchmark runs into medians, ratios to the book's code, a text table and a chart."""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path

from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from convnets.plots import SCHEMES, drawing_in, plt, save_figure, scheme, scheme_path

FIGURES = ("fit_seconds", "time_to_target", "images_per_second", "gflops_per_second")


def time_to_target(run: dict, target: float) -> float | None:
    """Training seconds until the first evaluation at or above `target`; None if it never got there."""
    for evaluation in run["evaluations"]:
        if evaluation["accuracy"] >= target:
            return evaluation["seconds"]
    return None


def epochs_to_target(run: dict, target: float) -> float | None:
    """Epochs of training until the first evaluation at or above `target`."""
    for evaluation in run["evaluations"]:
        if evaluation["accuracy"] >= target:
            return evaluation["epoch"]
    return None


def median_or_none(values: list[float | None]) -> float | None:
    """The median, counting a missing value as infinitely slow; None when that median is infinite."""
    middle = statistics.median([math.inf if value is None else value for value in values])
    return None if math.isinf(middle) else middle


def summarize_entry(runs: list[dict], target: float) -> dict:
    """Medians over seeds of an entry's timings, and the mean and spread of its final accuracy."""
    accuracies = [run["final_accuracy"] for run in runs]
    return {
        "seeds": [run["seed"] for run in runs],
        "fit_seconds": statistics.median(run["fit_seconds"] for run in runs),
        "time_to_target": median_or_none([time_to_target(run, target) for run in runs]),
        "epochs_to_target": median_or_none([epochs_to_target(run, target) for run in runs]),
        "reached_target": sum(time_to_target(run, target) is not None for run in runs),
        "images_per_second": statistics.median(run["images_per_second"] for run in runs),
        "gflops_per_second": statistics.median(run["gflops_per_second"] for run in runs),
        "one_time_seconds": statistics.median(run["one_time_seconds"] for run in runs),
        "accuracy_mean": statistics.fmean(accuracies),
        "accuracy_std": statistics.stdev(accuracies) if len(accuracies) > 1 else 0.0,
        "accuracy_min": min(accuracies),
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


def _number(value: float | None, digits: int) -> str:
    return "never" if value is None else f"{value:.{digits}f}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def format_table(summaries: dict[str, dict], labels: dict[str, str], target: float) -> str:
    """A plain-text table: medians with their ratio to the first entry, accuracy as mean ± std."""
    header = ("entry", "fit s", f"to {target:.3f} s", "epochs", "images/s", "GFLOP/s", "one-time s", "test accuracy")
    rows = [header]
    for name, s in summaries.items():
        r = s["ratios"]
        rows.append((
            labels[name],
            f"{s['fit_seconds']:.2f} ({_ratio(r['fit_seconds'])})",
            f"{_number(s['time_to_target'], 2)} ({_ratio(r['time_to_target'])})",
            _number(s["epochs_to_target"], 2),
            f"{s['images_per_second']:,.0f} ({_ratio(r['images_per_second'])})",
            f"{s['gflops_per_second']:.1f} ({_ratio(r['gflops_per_second'])})",
            f"{s['one_time_seconds']:.2f}",
            f"{s['accuracy_mean']:.4f} ± {s['accuracy_std']:.4f}",
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def format_probes(probes: list[dict]) -> str:
    """A plain-text table of the throughput probes, each against the first."""
    base = probes[0]["steady_images_per_second"]
    width = max(len(probe["label"]) for probe in probes)
    lines = [f"{'variant'.ljust(width)}  images/s (compiled)  vs first"]
    for probe in probes:
        rate = probe["steady_images_per_second"]
        lines.append(f"{probe['label'].ljust(width)}  {rate:>19,.0f}  {rate / base:.2f}x")
    return "\n".join(lines)


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
    bars.barh([p + 0.2 for p in positions], fit, height=0.4, color=scheme().neutral, label="whole fit")
    bars.barh([p - 0.2 for p in positions], reach, height=0.4, color=[colors[n] for n in names],
              label=f"until {target:.3f}")
    bars.set_yticks(list(positions), [labels[name] for name in names], fontsize="small")
    bars.invert_yaxis()
    bars.set(xlabel="seconds (median over seeds)", title="Median training time")
    bars.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize="small", frameon=False)
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


def redraw(report_path: Path, chart: Path | None = None) -> Path:
    """Draw the chart of a benchmark from its JSON file (default: beside it, as .png), and its dark variant
    (NAME-dark.png); returns the first one's path."""
    chart = chart or report_path.with_suffix(".png")
    for chosen in SCHEMES:
        with drawing_in(chosen):
            draw_chart(report_path, scheme_path(chart, chosen))
    return chart
