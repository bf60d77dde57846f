"""Print the benchmark's results from the JSON files `make bench` wrote: the tables the site shows.

    python code/bench_results.py
"""

# --8<-- [start:flops]
from convnets.benchmark import flops
from convnets.models import build_convnet

convnet = build_convnet()
for name, count in flops.per_layer(convnet).items():
    print(f"{name:<9} {count:>10,} operations per image")
print(f"forward   {flops.forward_flops(convnet):>10,}")
print(f"training  {flops.training_flops(convnet):>10,}  (3 x forward)")
# --8<-- [end:flops]

# --8<-- [start:show]
import json

from convnets.benchmark.report import format_probes, format_table
from convnets.paths import SNAPS_DIR


def show(file_name: str) -> dict:
    """Print where a benchmark ran and its table of medians, from the JSON file it wrote."""
    report = json.loads((SNAPS_DIR / file_name).read_text())
    machine = report["machine"]
    print(report["device"])
    print(f"{machine['cpu_model']}, {machine['cpu_cores']} cores; flags: {' '.join(machine['cpu_flags'])}")
    print("versions:", ", ".join(f"{name} {version}" for name, version in machine["versions"].items()))
    print(f"load average at the start: {machine['load_average'][0]:.1f}; seeds: {len(report['runs']) // len(report['summaries'])}")
    print()
    labels = {name: entry["label"] for name, entry in report["entries"].items()}
    print(format_table(report["summaries"], labels, report["target"]))
    print()
    for goal, met in report["goals"].items():
        print(f"{'met' if met else 'NOT met'}: {goal}")
    return report


cpu = show("benchmark-cpu.json")
# --8<-- [end:show]

# --8<-- [start:gpu]
gpu = show("benchmark-gpu.json")
# --8<-- [end:gpu]

# --8<-- [start:recipe]
from convnets.recipes import RECIPES

for field, value in RECIPES["fast"].as_dict().items():
    print(f"{field:<20} {value}")
# --8<-- [end:recipe]

# --8<-- [start:cpu_probes]
print(format_probes(cpu["probes"]))
# --8<-- [end:cpu_probes]

# --8<-- [start:gpu_probes]
print(format_probes(gpu["probes"]))
# --8<-- [end:gpu_probes]
