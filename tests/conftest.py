"""Shared test settings: hypothesis profiles, Python's own Ctrl-C handler, a time limit for calls that used to hang,
and a real browser for the pages.

CI (the ``CI`` environment variable is set, and not to 0 or false) uses the ``ci`` profile: derandomized, so every
run draws the same examples and a failure can be reproduced.  Pick another with ``HYPOTHESIS_PROFILE=dev`` or
``=thorough``.

The tests that press Ctrl-C (``fit`` ending after the update under way, ``train`` interrupted while saving) need
Python's own SIGINT handler, which raises KeyboardInterrupt; a run started in the background (``pytest &``, nohup,
some CI runners) inherits SIGINT ignored, and Python then leaves it ignored.
"""

import os
import shutil
import signal

import pytest
from hypothesis import HealthCheck, settings


@pytest.fixture(autouse=True, scope="session")
def _python_ctrl_c_handler():
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


class Hang(Exception):
    """A call was still running when :func:`three_seconds` ran out."""


@pytest.fixture
def three_seconds():
    """Stops the test with :class:`Hang` after 3 s: a call that used to run for ever fails fast, not after hours."""
    def stop(signum, frame):
        raise Hang("still running after 3 s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, 3.0)
    yield
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, previous)


settings.register_profile("ci", derandomize=True, max_examples=40, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=40, deadline=None)
settings.register_profile("thorough", max_examples=500, deadline=None)
ON_CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")  # CI=false is no CI
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if ON_CI else "dev"))


CHROMIUM, CHROMEDRIVER = shutil.which("chromium") or "/usr/bin/chromium", shutil.which("chromedriver") or \
    "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def browser():
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser tests: install Debian's chromium and chromium-driver")
        pytest.skip("chromium and chromedriver are not installed (Debian: apt-get install chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1200,900"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    yield driver
    driver.quit()
