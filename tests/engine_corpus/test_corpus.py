"""Programs written the way other teams write them preview end to end, or fail as `pulumi preview` would.

Each program under programs/ is a small Pulumi project of its own (Pulumi.yaml, Pulumi.dev.yaml, __main__.py).
"""

from __future__ import annotations

import json
from pathlib import Path

from aiinfra.engine import Plan, run_program

PROGRAMS = Path(__file__).parent / "programs"


def run(name: str, stack: str = "dev") -> Plan:
    return run_program(PROGRAMS / name, stack)


def test_data_sources_are_answered_in_the_services_shape_with_secrets_marked_secret():
    plan = run("data_sources")
    outputs = plan.stack_outputs
    # A key read back through list_storage_account_keys is a secret wherever it flows.
    assert outputs["connection"] == "[secret]"
    assert outputs["website"] == "https://stfstore01.z13.web.core.windows.net/"
    # get_storage_account of the account the program creates answers that account's recorded state.
    assert outputs["blob"] == "https://stfstore01.blob.core.windows.net/"
    assert outputs["tenant"] == "11111111-1111-1111-1111-111111111111"
    grants = plan.of_type("azure-native:authorization:RoleAssignment")
    assert {g.inputs["principalType"] for g in grants} == {"ServicePrincipal", "Group"}
    assert {g.inputs["principalId"] for g in grants} >= {outputs["ciObjectId"]}
    account = plan.of_type("azure-native:storage:StorageAccount")[0]
    assert all(g.inputs["scope"] == account.id for g in grants)


def test_data_source_answers_are_deterministic():
    first, second = (json.dumps(run("data_sources").as_json(), sort_keys=True) for _ in range(2))
    assert first == second
    assert "object at 0x" not in first
