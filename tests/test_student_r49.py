"""A student follows README.md from the top on a fresh machine (round 49): the quickstart's two commands in a fresh
clone, every block and command after them, the examples and the README's pictures.

- The quickstart promised 3–6 s for the demo, "up to 9 s on a machine busy with other jobs"; on this project's
  2-core machine at a load average of 8 to 13 the fresh clone's demo took 10.7–15.2 s in five runs by its own goal
  line (5–7 s of CPU time; 6.4 s at a load of 2), and its last goal, "the whole demo runs in under 10 s", printed
  NOT met, which nothing in the README prepared the student for.
- The training block (Adam on mini-batches, then Armijo) prints a cost and the outputs at the seed's test inputs
  beside no number; the Results section says that recipe reached the demo's goal. No test read what it printed.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import numpy as np

from tinygrad_edu import demo

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _quickstart() -> str:
    return " ".join(README[README.index("Run them in a clone"):README.index("## A short tour")].split())


def test_quickstart_says_what_a_heavier_load_takes_and_that_the_time_goal_then_reads_not_met() -> None:
    said = re.search(r"(\d+)–(\d+) s on this project's 2-core machine at a load average of \d+ to \d+, the last goal, "
                     r"under (\d+) s of wall-clock time, prints NOT met and says how many of those seconds the demo "
                     r"computed, (\d+)–(\d+) s\)", _quickstart())
    assert said is not None, _quickstart()[:600]
    low, high, goal, computed_low, computed_high = (int(number) for number in said.groups())
    assert demo.GOAL_SECONDS == goal < low < high and computed_low < computed_high < goal
    [run] = demo.compare_xsquared(quick=True, methods=["random search"])  # (a short run: the goal judges seconds)
    [time_goal] = [g for g in demo.check_goals([run], seconds=float(low), cpu_seconds=float(computed_high))
                   if "whole demo" in g.text]
    assert time_goal.text == f"the whole demo runs in under {goal} s" and not time_goal.met
    assert time_goal.detail == (f"{low:.1f} s, of which it computed {computed_high:.1f} s: the rest it waited for a "
                                "processor busy with other jobs")


def test_the_time_goal_names_the_computing_time_only_where_waiting_missed_it() -> None:
    """A demo that computed 10 s or more missed the goal by its own work (no word of other jobs), and one that met
    it says only its seconds; without cpu_seconds (a caller of check_goals of its own) as before."""
    [run] = demo.compare_xsquared(quick=True, methods=["random search"])

    def detail(seconds: float, cpu: float | None) -> str:
        return [g for g in demo.check_goals([run], seconds, cpu_seconds=cpu) if "whole demo" in g.text][0].detail

    assert detail(12.0, 11.0) == detail(12.0, None) == "12.0 s"
    assert detail(4.0, 3.5) == "4.0 s"


def test_the_demo_itself_passes_its_processor_time_to_the_goals(tmp_path, monkeypatch) -> None:
    """run_demo measures the processor time of the whole demo and its dot runs (os.times, children too) beside the
    wall clock: a run whose wall clock is made to read 30 s says how long it computed."""
    clock = iter([0.0, 30.0])
    monkeypatch.setattr(demo.time, "perf_counter", lambda: next(clock, 30.0))
    short = demo.compare_xsquared
    monkeypatch.setattr(demo, "compare_xsquared", lambda **kwargs: short(quick=True, methods=["random search"]))
    monkeypatch.setattr(demo, "write_artefacts", lambda runs, output: demo.Artefacts())
    out = io.StringIO()
    demo.run_demo(tmp_path / "out", stream=out)
    line = [row for row in out.getvalue().splitlines() if "whole demo" in row][0]
    assert re.fullmatch(r"  \[NOT met\] the whole demo runs in under 10 s: 30\.0 s, of which it computed "
                        r"\d+\.\d s: the rest it waited for a processor busy with other jobs", line), line


def test_the_results_section_says_the_goal_line_explains_a_heavy_load() -> None:
    results = " ".join(README[README.index("The goals it checks, all met"):README.index("Honest limits")].split())
    assert ("goal: under 10 s of wall-clock time, which a heavily loaded machine misses: the goal's line then says "
            "how long the demo computed") in results


def test_the_training_block_prints_a_cost_and_outputs_that_meet_the_demos_goal(tmp_path, monkeypatch) -> None:
    """The block ends at a cost under the seed's 3e-4 with the four outputs within 0.02 of x²: the goal that the
    Results section says Adam then Armijo reached ("on 10 of 10 seeds"); this is the block's seed."""
    (code,) = [block for block in re.findall(r"^```python\n(.*?)^```", README, re.MULTILINE | re.DOTALL)
               if "optim.Armijo(net), episodes=10" in block]
    assert "Mini-batch Adam for 40 episodes followed by 10 full-batch Armijo episodes" in " ".join(README.split())
    printed: list[Any] = []
    monkeypatch.chdir(tmp_path)  # (it saves xsquared.npz)
    exec(compile(code, "README.md block", "exec"), {"__name__": "readme", "print": lambda *a: printed.append(a)})
    (cost_line,), (outputs,) = printed
    cost = float(re.fullmatch(r"cost (\S+)", cost_line).group(1))
    assert 0 < cost <= demo.SEED_COST
    inputs = np.array(demo.TEST_INPUTS)
    assert re.search(r"net\(np\.array\(\[\[0\.1\], \[0\.5\], \[-1\.0\], \[0\.01\]\]\)\)", code)  # the seed's inputs
    assert outputs.shape == inputs.shape and np.abs(outputs - inputs**2).max() <= demo.TOLERANCE
