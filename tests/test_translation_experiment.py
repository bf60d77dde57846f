"""The translation experiment's command line: bad arguments are one-line errors, before any framework loads."""

from __future__ import annotations

import pytest

from helpers import assert_one_line_error, run_script


@pytest.mark.parametrize("args, message", [
    (["--max-shift", "7"], "--max-shift is at most 6 (a 40×40 canvas has a margin of 6 pixels around a digit), got 7"),
    (["--max-shift", "0"], "argument --max-shift: must be at least 1, got 0"),
    (["--output", "results.txt"], "--output must be a .json file, got results.txt"),
    (["--output", "no/such/folder/results.json"], "--output folder does not exist: no/such/folder"),
])
def test_bad_arguments_are_one_line_errors(args, message):
    line = assert_one_line_error(run_script("translation_experiment.py", *args, timeout=60))
    assert message in line
