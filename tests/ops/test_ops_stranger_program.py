"""A stranger's plain azure-native program: the estimate prices its compute instances by their schedules, and the
pack refuses its key-based datastore (datastore-credentials) while passing its identity-based one."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import run_here

from aiinfra.engine.analyzer import analyze_plan
from aiinfra.engine.cost import estimate

HERE = Path(__file__).resolve().parent
PACK = HERE.parents[1] / "policies"


@pytest.fixture(scope="module")
def plan():
    return run_here(HERE / "stranger", "dev")


def test_compute_instances_are_priced_by_their_schedules(plan):
    items = {i.resource.name: i for i in estimate(plan).items if "compute instance" in i.label}
    night = items["night-owl"]
    assert night.idle_units * 730 == pytest.approx(50 * 730 / 168, abs=0.01), "10 h x 5 overnight runs a week"
    assert night.rate.hourly and night.idle_hourly == pytest.approx(night.idle_units * night.rate.hourly)
    always = items["always-on"]
    assert always.idle_units == 1.0 and any("no stop schedule" in n for n in always.notes)


@pytest.mark.integration  # the pack runs over gRPC in its own process
def test_the_pack_refuses_the_key_based_datastore_only(plan):
    report = analyze_plan(plan, PACK, PACK / "config" / "dev.json")
    flagged = [v for v in report.violations if v.policy == "datastore-credentials"]
    assert [v.urn.rsplit("::", 1)[-1] for v in flagged] == ["shared-drop"]
    assert flagged[0].level == "mandatory"
