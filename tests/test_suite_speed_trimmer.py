"""Guards for the suite-speed trims: the quicker forms of slow tests must keep what made the slow ones fail.

- tests/test_fuzzer_auditor.py's ``failing_graphs`` now stops hypothesis at the first failing graph (it used to draw
  the rest of its 800 graphs without checking them): it must still report that graph once, check nothing after it,
  and let any other error through.
"""

from __future__ import annotations

import pytest
import test_fuzzer_auditor as auditor

from tinygrad_edu.testing import GradientCheckError


def test_failing_graphs_stops_at_the_first_failing_graph_and_checks_it_once(monkeypatch: pytest.MonkeyPatch) -> None:
    outcomes: list[bool] = []

    def counted(*args, **kwargs):
        try:
            result = check_gradients(*args, **kwargs)
        except GradientCheckError:
            outcomes.append(False)
            raise
        outcomes.append(True)
        return result

    check_gradients = auditor.check_gradients
    monkeypatch.setattr(auditor, "check_gradients", counted)
    with auditor.planted("abs", auditor._abs_wrong_for_negatives):
        found = auditor.failing_graphs(auditor.GRAPHS, max_nodes=25, order=1, uses=r"F\.abs\(|np\.absolute\(")
    assert found == 1
    assert outcomes and outcomes[-1] is False and all(outcomes[:-1])  # the failing graph was the last one checked


def test_failing_graphs_lets_an_error_other_than_a_failed_check_through(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args, **kwargs):
        raise ZeroDivisionError("not a gradient check failure")

    monkeypatch.setattr(auditor, "check_gradients", broken)
    with pytest.raises(ZeroDivisionError):
        auditor.failing_graphs(5, max_nodes=6, order=1)
