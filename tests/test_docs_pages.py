"""The page runner, driven on a copy of a small fixture site: what passes, what fails and how it says so."""

from __future__ import annotations

import shutil
from pathlib import Path

import keras  # noqa: F401  (imported before pytester snapshots sys.modules, so inner runs share it)
import pytest

from pagetest.plugin import blocks_not_run

FIXTURE_SITE = Path(__file__).parent / "fixtures" / "minisite"
PAGE = "docs/index.md"

# Import MkDocs, PyYAML and the Markdown extensions now, before pytester snapshots sys.modules: it unloads
# what a test imports, and a re-imported PyYAML no longer matches its C parser.
blocks_not_run(FIXTURE_SITE / PAGE, FIXTURE_SITE / "mkdocs.yml", [])


@pytest.fixture
def site(pytester: pytest.Pytester) -> pytest.Pytester:
    """A copy of the fixture site, with the page plugin enabled as pyproject enables it, as pytester's working
    directory."""
    shutil.copytree(FIXTURE_SITE, pytester.path, dirs_exist_ok=True)
    # pytest-playwright wraps every test in one soft-assertion scope, which an inline run would nest.
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider -p no:playwright -p pagetest.plugin\n")
    return pytester


def edit(site: pytest.Pytester, old: str, new: str, page: str = PAGE) -> None:
    path = site.path / page
    text = path.read_text()
    assert old in text, f"{old!r} is not in {page}"
    path.write_text(text.replace(old, new, 1))


def run(site: pytest.Pytester, *args: str) -> pytest.RunResult:
    return site.runpytest("-rs", *args)


def test_fixture_site_runs_every_block_in_order_and_skips_only_the_one_with_a_reason(site):
    result = run(site, "-v")
    result.assert_outcomes(passed=6, skipped=1)
    result.stdout.fnmatch_lines(["*docs/index.md:53: draws a window on screen*"])
    names = [line.split(" ")[0] for line in result.stdout.lines if "::block" in line and "PASSED" in line]
    assert names == sorted(names, key=lambda name: int(name.rsplit("line", 1)[1]))


def test_a_changed_parameter_count_fails_with_file_line_and_diff(site):
    edit(site, "parameters: 320", "parameters: 321")
    result = run(site)
    result.assert_outcomes(passed=5, failed=1, skipped=1)
    result.stdout.fnmatch_lines([
        "docs/index.md:31: the output shown does not match what the block at line 22 printed",
        "*320 printed where the page shows 321 (exact)",
        "--- docs/index.md:31 (shown)",
        "-parameters: 321",
        "+parameters: 320",
    ])


def test_a_shown_accuracy_off_by_005_fails_and_one_within_tolerance_passes(site):
    edit(site, "accuracy: 0.9912 - loss", "accuracy: 0.9860 - loss")
    run(site).assert_outcomes(passed=6, skipped=1)
    edit(site, "accuracy: 0.9860 - loss", "accuracy: 0.9408 - loss")
    result = run(site)
    result.assert_outcomes(passed=5, failed=1, skipped=1)
    result.stdout.fnmatch_lines(["*0.9908 printed where the page shows 0.9408: differs by 0.05 (allowed: abs=0.005)*"])


def test_a_printed_accuracy_below_the_written_minimum_fails(site):
    edit(site, "accuracy, loss = 0.9908, 0.0304", "accuracy, loss = 0.9890, 0.0304")
    result = run(site)
    result.assert_outcomes(passed=5, failed=1, skipped=1)
    result.stdout.fnmatch_lines(["*0.9890 printed where the page shows 0.9912: below min=0.99*"])


def test_a_changed_function_in_the_companion_script_fails_the_blocks_that_show_its_results(site):
    edit(site, "return (size - window) // stride + 1", "return (size - window + 2) // stride + 1",
         page="code/shapes_demo.py")
    result = run(site)
    result.assert_outcomes(passed=3, failed=3, skipped=1)
    result.stdout.fnmatch_lines(["-5x5 input, 3x3 window: 3x3 output", "+5x5 input, 3x3 window: 5x5 output"])


def test_a_block_that_raises_fails_with_the_page_line_and_its_later_blocks_fail_pointing_at_it(site):
    edit(site, 'print("Epoch 1/1")', 'print("Epoch 1/1")\nraise RuntimeError("no more")')
    result = run(site)
    result.assert_outcomes(passed=3, failed=3, skipped=1)
    result.stdout.fnmatch_lines([
        "docs/index.md:38: the block raised RuntimeError",
        '*File "docs/index.md[[]block 4[]]", line 41*',
        "*It printed before failing:*",
        "docs/index.md:63: not run, because the block at docs/index.md:38 failed*",
    ])


def test_a_missing_snippet_section_fails_the_block_with_the_snippet_error(site):
    edit(site, '"code/shapes_demo.py:shapes"', '"code/shapes_demo.py:shape"')
    result = run(site)
    result.stdout.fnmatch_lines(["docs/index.md:11: snippet: Snippet section 'shape' could not be located"])


def test_a_skip_without_a_reason_fails(site):
    edit(site, "<!-- notest: draws a window on screen, which a test run has no use for -->", "<!-- notest: -->")
    result = run(site)
    result.stdout.fnmatch_lines(["docs/index.md:53: `<!-- notest: -->` needs a reason after the colon"])
    edit(site, "<!-- notest: -->\n```python", "```python notest")
    result = run(site)
    result.stdout.fnmatch_lines(["docs/index.md:52: the fence says `notest` without a reason*"])


def test_a_bad_directive_fails_its_block_with_the_grammar_error(site):
    edit(site, "<!-- output: loss rel=25%; accuracy abs=0.005 min=0.99 -->", "<!-- output: accuracy tol=0.1 -->")
    result = run(site)
    result.stdout.fnmatch_lines(["*'tol=0.1' is not one of abs=N, rel=N%, min=N, max=N, any*"])


def test_update_outputs_rewrites_only_the_outputs_that_differ_and_a_second_run_changes_nothing(site):
    page = site.path / PAGE
    original = page.read_text()
    edit(site, "parameters: 320", "parameters: 999")
    edit(site, "    5\n", "    6\n")
    result = run(site, "--update-outputs")
    result.stdout.fnmatch_lines(["docs/index.md: rewrote 2 output(s)"])
    assert page.read_text() == original  # the shown training log is within tolerance, so it stays as written
    run(site, "--update-outputs").stdout.fnmatch_lines(["no shown output needed rewriting"])
    assert page.read_text() == original
    run(site).assert_outcomes(passed=6, skipped=1)


def test_update_outputs_all_writes_the_printed_text_and_is_idempotent(site):
    page = site.path / PAGE
    run(site, "--update-outputs=all")
    once = page.read_text()
    assert "12s 11ms/step - accuracy: 0.9908 - loss: 0.0304" not in once
    assert "9s 9ms/step - accuracy: 0.9908 - loss: 0.0304" in once
    run(site, "--update-outputs=all")
    assert page.read_text() == once


def test_a_later_block_selected_alone_runs_the_earlier_blocks_of_its_page_first(site):
    result = run(site, "-k", "block3")
    result.assert_outcomes(passed=1, deselected=6)


def test_each_block_runs_once_per_session_in_a_namespace_its_page_shares(site):
    site.makefile(".md", **{"docs/counter": "\n".join([
        "```python", "from pathlib import Path", "log = Path('ran.log')", "log.write_text(log.read_text() + 'x'"
        " if log.exists() else 'x')", "```", "", "```python", "print(len(log.read_text()))", "```", "",
        "```text", "1", "```", ""])})
    result = run(site, "docs/counter.md")
    result.assert_outcomes(passed=2)
    assert (site.path / "ran.log").read_text() == "x"


@pytest.mark.slow  # its fixture page trains a model
def test_a_page_that_trains_prints_the_same_numbers_in_a_second_session(site, monkeypatch, tmp_path):
    site.makefile(".md", **{"docs/training": "\n".join([
        "```python", "from convnets.named_runs import trained",
        "model, record = trained('convnet', limit=1024, overrides={'epochs': 1})",
        "print(f\"loss {record['history']['loss'][-1]:.6f}, test accuracy {record['test_accuracy']:.6f}\")",
        "print(f\"first kernel sum {float(model.layers[1].kernel.numpy().sum()):.6f}\")",
        "```", "", "```text", "```", ""])})
    monkeypatch.setenv("CONVNETS_CACHE", str(tmp_path / "first"))
    run(site, "docs/training.md", "--update-outputs").assert_outcomes(passed=1)
    monkeypatch.setenv("CONVNETS_CACHE", str(tmp_path / "second"))  # trains again, from scratch
    run(site, "docs/training.md").assert_outcomes(passed=1)
    assert "test accuracy 0." in (site.path / "docs" / "training.md").read_text()
