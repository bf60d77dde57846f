"""The output comparison: exact text, masked timings, and the tolerance directive's grammar."""

from __future__ import annotations

import pytest

from pagetest.compare import DirectiveError, clean, compare, diff, parse_rules

EXACT = parse_rules("")


def matches(shown: str, printed: str, rules) -> bool:
    return compare(shown, printed, rules) == []


def test_identical_text_matches_and_one_changed_digit_does_not():
    assert matches("Total params: 104,202\n", "Total params: 104,202\n", EXACT)
    problems = compare("Total params: 104,202\n", "Total params: 104,203\n", EXACT)
    assert "104,203 printed where the page shows 104,202 (exact)" in problems[0]


def test_timings_and_progress_bars_are_ignored():
    shown = "938/938 ━━━━━━━━━━━━━━━━━━━━ 12s 11ms/step - accuracy: 0.9912\nETA: 3s\ntook 41.2 seconds, 1:05 total\n"
    printed = "938/938 ━━━━━━━━━━━━━━━━━━━━ 9s 9ms/step - accuracy: 0.9912\nETA: 10s\ntook 7.0 seconds, 0:59 total\n"
    assert matches(shown, printed, EXACT)


def test_numbers_next_to_words_that_look_like_units_are_still_compared():
    assert not matches("5 epochs, 32 samples\n", "6 epochs, 32 samples\n", EXACT)


def test_carriage_returns_and_backspaces_leave_what_a_terminal_shows():
    printed = "Epoch 1/1\n  1/938 ━━ 5:00 - loss: 2.3\b\b\b\b\r938/938 ━━ 9s 9ms/step - loss: 0.3\n"
    assert clean(printed).splitlines()[1] == "938/938 ━━ 9s 9ms/step - loss: 0.3"
    assert clean("\x1b[1mbold\x1b[0m   \n\n") == "bold\n"


def test_runs_of_spaces_count_as_one():
    assert matches("a    0.99\n", "a 0.99\n", EXACT)


def test_a_line_more_or_less_fails_with_the_counts():
    assert compare("a\nb\n", "a\n", EXACT) == ["the page shows 2 line(s), the block printed 1"]


def test_unscoped_tolerance_applies_to_decimals_and_keeps_integers_exact():
    rules = parse_rules("abs=0.005")
    assert matches("params 104,202 accuracy 0.9912\n", "params 104,202 accuracy 0.9871\n", rules)
    problems = compare("params 104,202 accuracy 0.9912\n", "params 104,203 accuracy 0.9912\n", rules)
    assert problems and "104,203" in problems[0]


def test_a_shown_accuracy_off_by_005_fails_with_the_allowed_tolerance():
    problems = compare("Test accuracy: 0.9412\n", "Test accuracy: 0.9912\n", parse_rules("accuracy abs=0.005"))
    assert "differs by 0.05 (allowed: abs=0.005)" in problems[0]


def test_scope_follows_the_label_before_the_number():
    rules = parse_rules("loss rel=25%; accuracy abs=0.005")
    shown = "accuracy: 0.9912 - loss: 0.0291 - val_loss: 0.0400\n"
    assert matches(shown, "accuracy: 0.9880 - loss: 0.0350 - val_loss: 0.0400\n", rules)
    # val_loss is its own word, so the loss rule does not cover it (and it is decimal with no unscoped rule)
    assert not matches(shown, "accuracy: 0.9880 - loss: 0.0350 - val_loss: 0.0410\n", rules)
    assert not matches(shown, "accuracy: 0.9880 - loss: 0.0400 - val_loss: 0.0400\n", rules)


def test_scope_follows_the_column_header_in_aligned_and_pipe_tables():
    rules = parse_rules('"test accuracy" abs=0.01; errors abs=5')
    aligned = "model    errors  test accuracy\nmax          87         0.9913\n"
    assert matches(aligned, "model    errors  test accuracy\nmax          91         0.9871\n", rules)
    assert not matches(aligned, "model    errors  test accuracy\nmax          99         0.9871\n", rules)
    piped = "| model | errors | test accuracy |\n| max | 87 | 0.9913 |\n"
    assert matches(piped, "| model | errors | test accuracy |\n| max | 90 | 0.9900 |\n", rules)
    assert not matches(piped, "| model | errors | test accuracy |\n| max | 90 | 0.9700 |\n", rules)


def test_min_and_max_bound_the_printed_number():
    rules = parse_rules("accuracy abs=0.01 min=0.99")
    assert matches("accuracy 0.991\n", "accuracy 0.995\n", rules)
    assert "below min=0.99" in compare("accuracy 0.991\n", "accuracy 0.985\n", rules)[0]
    assert "above max=1" in compare("p 0.5\n", "p 1.5\n", parse_rules("p any max=1"))[0]


def test_any_accepts_every_number_in_its_scope():
    assert matches("fit took 41.2\n", "fit took 7.9\n", parse_rules("took any"))


def test_a_backends_own_rule_holds_only_under_that_backend_and_comes_first():
    body = "accuracy abs=0.004; on jax: accuracy abs=0.02"
    shown, printed = "Test accuracy: 0.991\n", "Test accuracy: 0.981\n"
    assert compare(shown, printed, parse_rules(body, backend="tensorflow"))
    assert not compare(shown, printed, parse_rules(body, backend="jax"))
    with pytest.raises(DirectiveError, match="not a Keras backend"):
        parse_rules("on mxnet: abs=1")
    with pytest.raises(DirectiveError, match="not one of"):  # another backend's rule is checked all the same
        parse_rules("on jax: /not 0/ abs=1", backend="tensorflow")


def test_directive_grammar_errors_name_the_problem():
    with pytest.raises(DirectiveError, match="needs a number"):
        parse_rules("abs=x")
    with pytest.raises(DirectiveError, match="not one of"):
        parse_rules("accuracy abs=0.1 tol=3")
    with pytest.raises(DirectiveError, match="sets no tolerance"):
        parse_rules("accuracy")
    with pytest.raises(DirectiveError, match="not one of"):
        parse_rules("rel=25")


def test_the_diff_is_unified_and_names_both_sides():
    shown, printed = "a\nparameters: 321\n", "a\nparameters: 320\n"
    assert not matches(shown, printed, EXACT)
    unified = diff(shown, printed, "docs/x.md:12 (shown)", "printed")
    assert "--- docs/x.md:12 (shown)" in unified and "-parameters: 321" in unified and "+parameters: 320" in unified


def test_a_regex_scope_covers_every_number_on_the_lines_it_finds():
    rules = parse_rules("/misclassified/ abs=40")
    assert matches("87 of 10,000 test digits are misclassified\n", "97 of 10,000 test digits are misclassified\n",
                   rules)
    assert not matches("87 of 10,000 digits are misclassified\n", "97 of 10,001 digits are misclassified\n",
                       parse_rules("/misclassified/ abs=0"))
    with pytest.raises(DirectiveError, match="not a regular expression"):
        parse_rules("/mis(classified/ abs=1")


def test_a_scoped_rule_that_covers_no_number_is_an_error():
    problems = compare("87 of 10,000 test digits are misclassified\n", "87 of 10,000 test digits are misclassified\n",
                       parse_rules("misclassified abs=40"))
    assert problems == ["the rule `misclassified abs=40` covers no number of the shown output"]


def test_table_borders_are_compared_while_progress_bars_are_not():
    assert not matches("┏━━━━┳━━┓\n", "┏━━━┳━━━┓\n", EXACT)
    assert matches("  1/938 ━━━━━━━━━━━━━━━━━━━━ 1s\n", "  1/938 ━━━━━━━━━━━━━━━━━━━━ 2s\n", EXACT)


def test_bounds_alone_accept_any_number_between_them():
    rules = parse_rules("difference max=1e-5")
    assert matches("largest difference: 8.9e-08\n", "largest difference: 6.0e-08\n", rules)
    assert not matches("largest difference: 8.9e-08\n", "largest difference: 2.0e-05\n", rules)
