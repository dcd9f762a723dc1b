"""Shared test settings: hypothesis profiles, Python's own Ctrl-C handler, a time limit for calls that used to hang,
and a real browser for the pages.

Hypothesis profiles, chosen with ``HYPOTHESIS_PROFILE``: ``ci`` (the default where the ``CI`` environment variable is
set, and not to 0, false or no): 40 examples per test, derandomized, so every run draws the same examples, a file run
alone too (see :func:`_without_local_constants`), and a failure prints the ``@reproduce_failure`` line that replays
it with the same hypothesis;
``dev`` (the default elsewhere): 40 examples per test, new ones every run; ``thorough``: 500 examples per test
(tests/test_composition.py draws 20 graphs per example: 10,000).  Tests that set their own ``max_examples`` keep it
under every profile.

The tests that press Ctrl-C (``fit`` ending after the update under way, ``train`` interrupted while saving) need
Python's own SIGINT handler, which raises KeyboardInterrupt; a run started in the background (``pytest &``, nohup,
some CI runners) inherits SIGINT ignored, and Python then leaves it ignored.

Chromium gets a home, profile and caches of its own in pytest's temporary folder: nothing is written to the user's
home (~/.config/chromium, ~/.cache/dconf) or left in /tmp (a temporary profile per browser, never deleted).
"""

import os
import shutil
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# tqdm takes its defaults from TQDM_* variables (TQDM_DISABLE=1 is a common CI setting) when it is imported: the tests
# of fit's progress bar check the bar tqdm draws by default, whatever the machine's environment
for _name in [name for name in os.environ if name.startswith("TQDM_")]:
    del os.environ[_name]


# files for mypy to check, not modules to import: --doctest-modules would run their deliberate mistakes
collect_ignore_glob = ["data/mypy_strict_user/*.py"]


@pytest.fixture(autouse=True, scope="session")
def _python_ctrl_c_handler():
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


class Hang(Exception):
    """A call was still running when :func:`three_seconds` ran out."""


@pytest.fixture
def numpy_default_print_options() -> Iterator[None]:
    """numpy's default print options for a test that checks printed text, whatever an earlier test, a plugin or a
    conftest set: np.set_printoptions(sign="+") made an index [+1, +1, +3], precision=3 a reported slope [0.298]."""
    with np.printoptions(precision=8, threshold=1000, edgeitems=3, linewidth=75, suppress=False, nanstr="nan",
                         infstr="inf", sign="-", floatmode="maxprec", legacy=False):
        yield


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
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "").strip() or ("ci" if ON_CI else "dev")  # set but empty: the default
if PROFILE not in ("ci", "dev", "thorough"):
    raise pytest.UsageError(f"HYPOTHESIS_PROFILE={PROFILE!r} is not one of tests/conftest.py's hypothesis profiles: "
                            "ci, dev or thorough")
settings.load_profile(PROFILE)


def _without_local_constants() -> None:
    """Hypothesis (6.131 on) mixes the numbers and strings written in every module of this project imported so far
    into its draws, so a derandomized test drew other examples once another test file was collected, and a CI
    failure did not come back with its file run alone.  Here it draws without them (its own boundary values stay):
    the same examples whatever else is imported.  Left as it is where the internals moved."""
    try:
        from hypothesis.internal.conjecture import providers
        from hypothesis.internal.constants_ast import Constants
    except ImportError:
        return
    if hasattr(providers, "_get_local_constants"):
        providers._get_local_constants = Constants


_without_local_constants()


CHROMIUM, CHROMEDRIVER = shutil.which("chromium") or "/usr/bin/chromium", shutil.which("chromedriver") or \
    "/usr/bin/chromedriver"


def start_chromium(home: Path, *flags: str) -> Any:
    """A headless Chromium (selenium) whose home, profile and caches are all in ``home``; a skip where Chromium is not
    installed, and a failure on CI, which must run the browser tests."""
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        if ON_CI:
            pytest.fail("CI must run the browser tests: install Debian's chromium and chromium-driver")
        pytest.skip("chromium and chromedriver are not installed (Debian: apt-get install chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1200,900", f"--user-data-dir={home / 'profile'}", *flags):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"),
           "XDG_CACHE_HOME": str(home / "cache")}
    return webdriver.Chrome(options=options, service=Service(CHROMEDRIVER, env=env))


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    driver = start_chromium(tmp_path_factory.mktemp("chromium"))
    yield driver
    driver.quit()


@pytest.fixture
def new_browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Any]]:
    """``new_browser(*flags)``: a Chromium of its own for this test (with extra command-line flags), quit after it."""
    started: list[Any] = []

    def start(*flags: str) -> Any:
        started.append(start_chromium(tmp_path_factory.mktemp("chromium"), *flags))
        return started[-1]

    yield start
    for driver in started:
        driver.quit()
