"""Shared test settings: hypothesis profiles.

CI (the ``CI`` environment variable is set, and not to 0 or false) uses the ``ci`` profile: derandomized, so every
run draws the same examples and a failure can be reproduced.  Pick another with ``HYPOTHESIS_PROFILE=dev`` or
``=thorough``.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", derandomize=True, max_examples=40, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=40, deadline=None)
settings.register_profile("thorough", max_examples=500, deadline=None)
ON_CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")  # CI=false is no CI
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if ON_CI else "dev"))
