"""The translation experiment's command line: bad arguments are one-line errors, before any framework loads."""

from __future__ import annotations

import pytest

from helpers import assert_one_line_error, run_script, without_frameworks


@pytest.mark.parametrize("args, message", [
    (["--max-shift", "7"], "--max-shift is at most 6 (a 40×40 canvas has a margin of 6 pixels around a digit), got 7"),
    (["--max-shift", "0"], "argument --max-shift: must be at least 1, got 0"),
    (["--test-limit", "10001"], "--test-limit is at most 10000 (the test set), got 10001"),
    (["--test-limit", "0"], "argument --test-limit: must be at least 1, got 0"),
    (["--output", "results.txt"], "--output must be a .json file, got results.txt"),
    (["--output", "no/such/folder/results.json"], "--output folder does not exist: no/such/folder"),
])
def test_bad_arguments_are_one_line_errors(args, message, tmp_path):
    result = run_script("translation_experiment.py", *args, timeout=60, **without_frameworks(tmp_path))
    line = assert_one_line_error(result)
    assert message in line
