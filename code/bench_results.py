"""Print the benchmark's results from the JSON files `make bench` wrote: the tables the site shows. The summaries
and goals are computed again from the stored runs, so that every file is read with the code's conventions.

    python code/bench_results.py
"""

# --8<-- [start:recipe]
from convnets.recipes import RECIPES

for field, value in RECIPES["fast"].as_dict().items():
    print(f"{field:<20} {value}")
# --8<-- [end:recipe]

# --8<-- [start:show]
import json

from convnets.benchmark.report import format_table, summarize as summarize_entries
from convnets.paths import SNAPS_DIR


def show(file_name: str) -> dict:
    """Print the device and the table of a benchmark, computed from the runs in the JSON file it wrote."""
    report = json.loads((SNAPS_DIR / file_name).read_text())
    entries = list(report["entries"])
    summaries = summarize_entries(report["runs"], entries, report["target"])
    labels = {name: entry["label"] for name, entry in report["entries"].items()}
    print(f"{report['device']}; seeds: {len(report['runs']) // len(entries)}")
    print()
    print(format_table(summaries, labels, report["target"]))
    return {**report, "summaries": summaries}


cpu = show("benchmark-cpu.json")
# --8<-- [end:show]

# --8<-- [start:machine]
from convnets.benchmark.report import check_goals
from convnets.models import build_convnet

convnet = build_convnet()  # the book's model


def machine_and_goals(report: dict) -> dict:
    """Print the processor, the library versions and the load of a benchmark's machine, then the project's goals."""
    machine, entries = report["machine"], list(report["entries"])
    print(f"{machine['cpu_model']}, {machine['cpu_cores']} cores; flags: {' '.join(machine['cpu_flags'])}")
    print("versions:", ", ".join(f"{name} {version}" for name, version in machine["versions"].items()))
    print(f"load average at the start: {machine['load_average'][0]:.1f}")
    print()
    goals = check_goals(report["summaries"], entries, "GPU" in report["device"], report["target"],
                        convnet.count_params())
    for goal, met in goals.items():
        print(f"{'met' if met else 'NOT met'}: {goal}")
    return goals


cpu["goals"] = machine_and_goals(cpu)
# --8<-- [end:machine]

# --8<-- [start:batch_curve]
from convnets.benchmark.report import dips, format_curve

print(format_curve(cpu["batch_curve"]))
print("dips repeated in every round at batch sizes:", dips(cpu["batch_curve"]) or "none")
# --8<-- [end:batch_curve]

# --8<-- [start:pipelines]
from convnets.benchmark.report import format_pipelines

print(format_pipelines(cpu["pipelines"]))
# --8<-- [end:pipelines]

# --8<-- [start:cpu_probes]
from convnets.benchmark.report import format_probes

print(format_probes(cpu["probes"]))
# --8<-- [end:cpu_probes]

# --8<-- [start:search]
from convnets.benchmark import search

record = json.loads((SNAPS_DIR / "fast-recipe-search.json").read_text())
rows = search.summarize(record["runs"])
print(f"{len(record['runs'])} runs on {record['machine']['cpu_model']}, {record['machine']['cpu_cores']} cores: trained on "
      f"{record['runs'][0]['train_images']:,} training images, scored on the {record['validation_images']:,} after them; "
      f"threshold {record['threshold']}")
print()
print(search.format_rows(rows, search.choose(rows)))
# --8<-- [end:search]

# --8<-- [start:flops]
from convnets.benchmark import flops

for name, count in flops.per_layer(convnet).items():
    print(f"{name:<9} {count:>10,} operations per image")
print(f"forward   {flops.forward_flops(convnet):>10,}")
print(f"training  {flops.training_flops(convnet):>10,}  (3 x forward)")
# --8<-- [end:flops]

# --8<-- [start:gpu]
gpu = show("benchmark-gpu.json")
print()
gpu["goals"] = machine_and_goals(gpu)
# --8<-- [end:gpu]

# --8<-- [start:gpu_probes]
print(format_probes(gpu["probes"]))
# --8<-- [end:gpu_probes]
