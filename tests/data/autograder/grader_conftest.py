"""The autograder's own settings (copied next to the grader as conftest.py): a hypothesis profile of its own, and
one verdict line per submission and check written to the file named by GRADER_REPORT (JSON lines)."""

import json
import os

from hypothesis import Phase, settings

# no shrinking: a student gets the first failing example at once (a grader runs in seconds, not minutes); GRADER_RANDOM
# set draws other examples each run (with --hypothesis-seed), else every run draws the same ones


def pytest_configure(config):  # (in a hook: importing this file, as a doctest run does, changes no settings)
    settings.register_profile("grader", max_examples=8, deadline=None, database=None, report_multiple_bugs=False,
                              phases=[Phase.explicit, Phase.generate], derandomize=not os.environ.get("GRADER_RANDOM"))
    settings.load_profile("grader")


def pytest_runtest_logreport(report):
    path = os.environ.get("GRADER_REPORT")
    if path and (report.when == "call" or report.outcome == "failed"):
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps({"id": report.nodeid, "outcome": report.outcome,
                                  "message": str(report.longrepr.reprcrash.message) if report.failed else ""}) + "\n")
