"""Shared fixtures: plans of our own environments, run once per session through the offline engine."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import run_here

from aiinfra.engine import Plan

REPO = Path(__file__).resolve().parent.parent
ENVIRONMENTS = ("dev", "test", "prd")


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def plan_of() -> Callable[[str], Plan]:
    """`plan_of("prd")`: the recorded plan of one of our environments (cached for the session)."""
    cache: dict[str, Plan] = {}

    def get(env: str) -> Plan:
        if env not in cache:
            cache[env] = run_here(REPO, env)
        return cache[env]

    return get


@pytest.fixture(params=ENVIRONMENTS)
def env(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def plan(env: str, plan_of: Callable[[str], Plan]) -> Plan:
    return plan_of(env)


@pytest.fixture(autouse=True)
def _unit_tests_start_no_process(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """`make unit` stays fast because its tests start no process (the pack's tests share one session-scoped pack
    server, started before this guard applies): a test that starts one is an integration test."""
    if request.node.get_closest_marker("integration") is not None:
        return

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(
            f"a unit test started a process ({args[1] if len(args) > 1 else kwargs.get('args')!r}): "
            "mark it @pytest.mark.integration"
        )

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)
