"""Test set-up for the whole repository: tests and doctests run from the repository
root (where the fixtures are), with a fixed Hypothesis profile."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=20, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _run_from_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(Path(__file__).resolve().parent)


@pytest.fixture(autouse=True, scope="session")
def _scratch_under_pytest(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Hypothesis tests cannot take ``tmp_path`` (one per test, not per example): their
    ``tempfile`` folders go under pytest's own, which it prunes to the last three runs,
    instead of piling up in the system's temporary folder."""
    tempfile.tempdir = str(tmp_path_factory.mktemp("tempfile"))
