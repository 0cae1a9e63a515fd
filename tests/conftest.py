"""Shared fixtures: plans of our own environments, run once per session through the offline engine."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from aiinfra.engine import Plan, run_program

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
            cache[env] = run_program(REPO, env)
        return cache[env]

    return get


@pytest.fixture(params=ENVIRONMENTS)
def env(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def plan(env: str, plan_of: Callable[[str], Plan]) -> Plan:
    return plan_of(env)
