"""Every test has exactly one tier (pytest.ini's markers): `make test-fast` runs `-m "unit or plan"`, and a test
without a tier would drop out of every selection but the whole suite's. The suite is collected in subprocesses, so
the check covers every test module whatever part of the suite this run collected."""

from __future__ import annotations

import itertools
import subprocess
import sys

import pytest
from conftest import REPO

pytestmark = pytest.mark.unit

TIERS = ("unit", "plan", "workflow", "slurm")
NO_TIER = f"not ({' or '.join(TIERS)})"
TWO_TIERS = " or ".join(f"({a} and {b})" for a, b in itertools.combinations(TIERS, 2))


def test_the_tiers_are_the_markers_of_pytest_ini() -> None:
    ini = (REPO / "pytest.ini").read_text()
    markers = ini.split("markers =", 1)[1].splitlines()[1:]
    assert [line.split(":")[0].strip() for line in markers if line.startswith("    ")] == list(TIERS)
    assert "--strict-markers" in ini  # a misspelt tier is an error, not a new marker


def test_every_test_has_exactly_one_tier() -> None:
    """`-m` selects the tests with no tier, then those with two or more; both selections must be empty."""
    cmd = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "tests", "-m"]
    procs = {what: subprocess.Popen([*cmd, expression], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    text=True)
             for what, expression in (("no tier", NO_TIER), ("more than one tier", TWO_TIERS))}
    problems = []
    for what, proc in procs.items():
        out, _ = proc.communicate(timeout=300)
        # 5: nothing selected, as it should be; 0: some tests selected; anything else: collection failed
        assert proc.returncode in (0, 5), f"collecting the suite failed ({proc.returncode}):\n{out[-4000:]}"
        problems += [f"{test}: {what}" for test in out.splitlines() if "::" in test]
    assert not problems, (f"tests need exactly one of the markers {', '.join(TIERS)} (a module's pytestmark or"
                          " @pytest.mark.<tier>; pytest.ini says what each means):\n" + "\n".join(problems))
