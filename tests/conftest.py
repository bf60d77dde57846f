"""Fixtures shared by the suite."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import types

import pytest

from convnets.devices import framework_defaults
from helpers import ROOT

# The docs pages run as tests (tests/pagetest); pytester drives that plugin on fixture sites. The browser tests
# use pytest-playwright's fixtures, with Chromium and the served site set up in tests/browser/fixtures.py.
pytest_plugins = ["pytester", "browser.fixtures"]
# Marked slow: a test whose fixtures or parameters train (a model helper reaches for the cache: it trains when
# the cache is fresh), and any test that runs a code/ script in a new process.
TRAINING = {"trained", "fit_or_load"}
SCRIPTS = {"run_script", "Popen"}
QUICK_SECONDS = 10  # a test of the quick loop that takes longer is named in its summary
SECONDS: dict[str, float] = {}  # each test's setup, call and teardown time in this session
WARMING = pytest.StashKey[subprocess.Popen]()  # tests/warm_cache.py, training the shared models beside the suite

framework_defaults()  # the scripts' TensorFlow settings (oneDNN on), for the pages run in this process
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")
# Each model trains once per test session, in a fresh cache, and is reused by every test and page.
# Set CONVNETS_CACHE yourself to keep trained models between sessions while you work.
os.environ.setdefault("CONVNETS_CACHE", tempfile.mkdtemp(prefix="convnets-cache-"))


@pytest.fixture(scope="session")
def mnist():
    """The verified MNIST arrays from data/mnist.npz (`make data` provisions it)."""
    from convnets.data import LOCAL_FILE, read_npz

    if not LOCAL_FILE.exists():
        pytest.fail("data/mnist.npz is missing: run `make data` (make test does it for you)")
    return read_npz(LOCAL_FILE)


def reaches(function: object, names: set[str], seen: set | None = None) -> bool:
    """Whether `function` names one of `names`, itself or through the project's functions it names in turn."""
    seen = set() if seen is None else seen
    function = getattr(function, "__wrapped__", function)  # through functools.cache
    code = getattr(function, "__code__", None)
    if code is None or code in seen or not code.co_filename.startswith(str(ROOT)):
        return False
    seen.add(code)
    named = {name for c in (code, *(k for k in code.co_consts if isinstance(k, types.CodeType))) for name in c.co_names}
    return bool(named & names) or any(reaches(function.__globals__.get(name), names, seen) for name in named)


def checks_given(item: pytest.Function) -> list:
    """The functions a parametrised test is handed: its parameters' own (a Claim's value), or those of a
    module-level table that its parameters are a key of."""
    params = list(item.callspec.params.values()) if hasattr(item, "callspec") else []
    given = [v for p in params for v in (p, *getattr(p, "__dict__", {}).values()) if callable(v)]
    key = tuple(params) if len(params) > 1 else next(iter(params), None)
    for name in item.function.__code__.co_names:
        table = item.function.__globals__.get(name)
        if isinstance(table, dict) and isinstance(key, (str, tuple)) and key in table:
            given.append(table[key])
    return given


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark what the quick loop leaves out: tests that drive a browser, read the built site, run a script, or
    train in a fixture or a parameter (a prose claim that needs a trained model)."""
    shared = set()  # the tests that load the models tests/warm_cache.py trains
    for item in items:
        if not isinstance(item, pytest.Function):
            continue
        fixtures = [d.func for defs in item._fixtureinfo.name2fixturedefs.values() for d in defs]
        given = [*fixtures, *checks_given(item)]
        if any(reaches(function, {"trained"}) for function in (item.function, *given)):
            shared.add(item)
        if "browser" in item.path.name or "browser" in item.fixturenames:
            item.add_marker("browser")
        if any(reaches(function, {"built_site"}) for function in (item.function, *fixtures)):
            item.add_marker("site")
        if any(reaches(function, TRAINING | SCRIPTS) for function in (item.function, *given)):
            item.add_marker("slow")
    if "backends" in (config.option.markexpr or ""):  # make test-jax, test-torch: the rest runs while the warm-up trains them
        items.sort(key=lambda item: item in shared)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Add up each test's setup, call and teardown time, for the quick loop's summary."""
    SECONDS[report.nodeid] = SECONDS.get(report.nodeid, 0.0) + report.duration


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    """In a run that leaves the slow tests out, name the tests that were slow all the same."""
    if "not slow" in (config.option.markexpr or ""):
        for nodeid, seconds in sorted(SECONDS.items(), key=lambda entry: -entry[1]):
            if seconds > QUICK_SECONDS:
                terminalreporter.write_line(f"quick loop: {nodeid} took {seconds:.0f} s; mark it slow if it trains",
                                            yellow=True)


def pytest_collection_finish(session: pytest.Session) -> None:
    """In the default run (`make test`) and the backends' (`make test-jax`, `make test-torch`), train the models that
    many tests share in a second process from the start: a test that needs one waits on its cache entry's lock for
    what is left, then loads it."""
    config = session.config
    whole_run = (config.args_source == pytest.Config.ArgsSource.TESTPATHS
                 or "backends" in (config.option.markexpr or ""))
    if (not whole_run or config.option.collectonly
            or not any(item.get_closest_marker("slow") or item.get_closest_marker("page") for item in session.items)):
        return
    with open(os.path.join(os.environ["CONVNETS_CACHE"], "warm_cache.log"), "w") as log:
        config.stash[WARMING] = subprocess.Popen([sys.executable, str(ROOT / "tests" / "warm_cache.py")], cwd=ROOT,
                                                 stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Stop the warm-up if the session ends first (an interrupted run, or -x)."""
    if (process := session.config.stash.get(WARMING, None)) and process.poll() is None:
        process.terminate()
        process.wait()
