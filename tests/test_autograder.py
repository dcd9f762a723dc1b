"""A teacher's autograder, built on the public API only, run on student submissions (tests/data/autograder).

The grader is a pytest project of its own (its conftest registers its own hypothesis profile: the package's
tests/conftest.py plays no part), copied to a temporary folder and run once in a subprocess over every submission in
tests/data/autograder/submissions: correct ones, and ones with the mistakes students make (a vjp without its
upstream g, ``out`` where ``x`` is meant, broadcasting summed the wrong way, a forward that overwrites its input, a
layer kept in a set or under a private name, a loop without zero_grad, with ``p -= …`` as its step, or returning the
cost from before the step).  The verdicts come back as JSON lines, one per submission and check.
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pytest

import tinygrad_edu
from tinygrad_edu import Op
from tinygrad_edu.testing import GradientCheckError, check_gradients

HERE = pathlib.Path(__file__).parent / "data" / "autograder"
SUBMISSIONS = HERE / "submissions"
CORRECT = sorted(p.stem for p in SUBMISSIONS.glob("correct_*.py"))


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory):
    """{submission: {check: failure message, or "" where it passed}} from one run of the grader."""
    folder = tmp_path_factory.mktemp("grader")
    shutil.copy(HERE / "grader_conftest.py", folder / "conftest.py")
    shutil.copy(HERE / "grader_checks.py", folder / "test_grader.py")
    report = folder / "report.jsonl"
    env = {**os.environ, "GRADER_SUBMISSIONS": str(SUBMISSIONS), "GRADER_REPORT": str(report),
           "PYTHONPATH": str(pathlib.Path(tinygrad_edu.__file__).parents[1])}
    env.pop("GRADER_RANDOM", None)
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(folder),
                          str(folder / "test_grader.py")], cwd=folder, env=env, capture_output=True, text=True,
                         timeout=120)
    assert report.exists(), run.stdout[-3000:] + run.stderr[-3000:]
    table: dict[str, dict[str, str]] = {}
    for line in report.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        check, params = entry["id"].split("::")[1].split("[")
        submission, *op = params.rstrip("]").split("-")
        table.setdefault(submission, {})[check + "".join(f"[{o}]" for o in op)] = (
            entry["message"] or "failed" if entry["outcome"] == "failed" else "")
    return table


def _failures(verdicts, submission):
    return {check: message for check, message in verdicts[submission].items() if message}


# --- guards: the grader passes every right submission and fails every wrong one, saying what to change -----------

def test_every_submission_was_graded_on_every_check(verdicts):
    counts = {submission: len(checks) for submission, checks in verdicts.items()}
    assert len(counts) == len(list(SUBMISSIONS.glob("*.py"))) - 1  # (base_correct is only imported by the others)
    assert set(counts.values()) == {max(counts.values())}, counts


@pytest.mark.parametrize("submission", CORRECT)
def test_a_right_submission_passes_every_check(verdicts, submission):
    assert _failures(verdicts, submission) == {}


@pytest.mark.parametrize("submission, check, words", [
    ("wrong_vjp_without_g", "test_gradients_at_fixed_points[SWISH]", "does not multiply by its upstream gradient g"),
    ("wrong_vjp_out_for_x", "test_gradients_at_fixed_points[SOFTSIGN]", "f's Ops: sum, softsign"),
    ("wrong_broadcasting", "test_weighted_sum_broadcasts", "weighted_sum"),
    ("wrong_module_in_a_set", "test_module_registers_both_layers", "'blocks' is a set holding Modules"),
    ("wrong_module_private", "test_module_registers_both_layers", "the attribute '_hidden' holds a Module"),
    ("wrong_loop_no_zero_grad", "test_training_loop", "call zero_grad() before each backward()"),
    ("wrong_loop_step_outside_no_grad", "test_training_loop", "train() changed no parameter of the model"),
    ("wrong_loop_cost_before_step", "test_training_loop", "cost from before its update"),
])
def test_a_wrong_submission_fails_where_its_mistake_is_with_a_message_that_says_it(verdicts, submission, check,
                                                                                   words):
    assert words in verdicts[submission][check], verdicts[submission][check]


@pytest.mark.parametrize("submission", ["wrong_vjp_without_g", "wrong_vjp_out_for_x", "wrong_broadcasting"])
def test_a_wrong_op_does_not_fail_the_checks_of_the_others(verdicts, submission):
    wrong = {"wrong_vjp_without_g": "SWISH", "wrong_vjp_out_for_x": "SOFTSIGN", "wrong_broadcasting": "weighted"}
    assert all(wrong[submission].lower() in check.lower() for check in _failures(verdicts, submission))


# --- defects ---------------------------------------------------------------------------------------------------

def _softsign_in_place(x):
    x /= 1 + np.abs(x)
    return x


def test_a_forward_that_overwrites_its_input_is_failed_by_name(verdicts):
    """The student's softsign divides its argument in place and its vjp, g·(1 − |out|)², is right for the numbers it
    returns: every gradient agrees, and the Value it was called on holds softsign(x) afterwards (a residual x +
    softsign(x) then adds the wrong x).  Only a random graph that reuses the node noticed, with a bare table."""
    message = verdicts["wrong_forward_mutates_input"]["test_gradients_at_fixed_points[SOFTSIGN]"]
    assert "the forward of Op 'softsign' changes its input 0 (shape (5,)) in place" in message
    mutating = Op("softsign", _softsign_in_place, lambda g, out, x: g * (1 - abs(out)) ** 2)
    with pytest.raises(GradientCheckError, match=r"forward of Op 'softsign' changes its input 0 \(shape \(2,\)\)"):
        check_gradients(lambda x: (mutating(x * 1.0) * 2.0).sum(), np.array([0.5, -1.5]))  # (not f's own input)


def test_a_vjp_without_g_is_named_by_op_and_input(verdicts):
    message = verdicts["wrong_vjp_without_g"]["test_gradients_at_fixed_points[SWISH]"]
    assert "; it is the vjp for input 0 of Op 'swish'" in message
    scale = Op("scale", lambda a, b: a * b, (lambda g, out, a, b: g * b, lambda g, out, a, b: a))  # b's forgets g
    with pytest.raises(GradientCheckError, match=r"(?s)disagree with finite differences.*\nThe vjp for input 1 of Op "
                                                 r"'scale' does not multiply by its upstream gradient g"):
        check_gradients(lambda a, b: scale(a.tanh(), b).sigmoid().sum(), np.array([0.3, -0.8]), np.array([1.2, 0.4]))
