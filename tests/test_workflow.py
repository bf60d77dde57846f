"""The GitHub Actions workflow runs the README's own make commands: tests on pull requests, build and publish on main."""

from __future__ import annotations

import re
import subprocess

import yaml

from helpers import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "site.yml"


def workflow() -> dict:
    """The workflow file, parsed ("on" stays a string key)."""
    return yaml.load(WORKFLOW.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)


def commands(job: str) -> list[str]:
    """The shell commands a job runs."""
    return [step["run"].strip() for step in workflow()["jobs"][job]["steps"] if "run" in step]


def test_pull_requests_run_the_readme_test_commands_on_every_verified_backend():
    assert workflow()["jobs"]["test"]["if"] == "github.event_name == 'pull_request'"
    assert commands("test") == ["make test", "make test-jax", "make test-torch"]


def test_pushes_to_main_build_strictly_and_deploy_to_pages():
    triggers = workflow()["on"]
    assert triggers["push"]["branches"] == ["main"]
    assert commands("build") == ["make build"]
    uses = [step.get("uses", "") for step in workflow()["jobs"]["build"]["steps"]]
    assert any(use.startswith("actions/upload-pages-artifact@") for use in uses)
    deploy = workflow()["jobs"]["deploy"]
    assert deploy["needs"] == "build" and deploy["permissions"]["pages"] == "write"
    assert re.search(r"^build: .*\n\t\$\(PY\) -m mkdocs build --strict", (ROOT / "Makefile").read_text(encoding="utf-8"), re.M)


def test_every_workflow_command_is_shown_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for job in workflow()["jobs"]:
        for command in commands(job):
            assert re.search(rf"(^|`){re.escape(command)}\b", readme, re.M), f"the README does not show `{command}`"


def test_ci_starts_by_naming_the_machine_and_its_instruction_sets():
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    first_output = next(line for line in script.splitlines() if line.startswith("echo "))
    assert first_output.startswith('echo "CI machine: ')
    printed = subprocess.run(["bash", "-c", first_output], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert re.fullmatch(r"CI machine: .+, \d+ cores; avx2 (yes|no), avx512f (yes|no), avx512_vnni (yes|no), "
                        r"avx512_bf16 (yes|no), amx (yes|no)\n", printed), printed
