"""Quota families from VM size names, and which quota each service's pools draw on."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import run_here

from aiinfra.engine.cost import estimate
from aiinfra.engine.quota import AKS, BATCH, DEDICATED, LOW_PRIORITY, VMS, quota_needs, vm_quota_family

PROGRAM = Path(__file__).resolve().parents[1] / "cost" / "program"


@pytest.mark.parametrize(
    "size, expected",
    [
        ("Standard_D4s_v5", (4, "standardDSv5Family")),
        ("Standard_D8ds_v5", (8, "standardDDSv5Family")),
        ("Standard_E16ads_v5", (16, "standardEADSv5Family")),
        ("Standard_NC24ads_A100_v4", (24, "StandardNCADSA100v4Family")),  # from the GPU catalogue
        ("Standard_NC8as_T4_v3", (8, "standardNCASv3_T4Family")),
        ("Basic_A1", None),
    ],
)
def test_vm_quota_family(size, expected) -> None:
    assert vm_quota_family(size) == expected


def test_prd_needs_per_service_family_and_priority(plan_of) -> None:
    plan = plan_of("prd")
    needs = {(n.service, n.family, n.kind): n for n in quota_needs(estimate(plan), plan.resources)}
    # AKS: Spot A100 pool (8 x 24 vCPUs) on the regional Spot quota; the Regular T4 pool (4 x 8) on its family.
    assert needs[(AKS, "Total Regional Spot vCPUs", LOW_PRIORITY)].amount == 8 * 24
    assert needs[(AKS, "standardNCASv3_T4Family", DEDICATED)].amount == 4 * 8
    assert needs[(AKS, "Total Regional vCPUs", DEDICATED)].amount == sum(
        n.amount
        for (service, family, kind), n in needs.items()
        if service == AKS and kind == DEDICATED and family != "Total Regional vCPUs"
    )
    # Batch (Batch-service allocation mode): the account's own quotas; 8 nodes, three in four low-priority.
    batch = {k: n for k, n in needs.items() if k[0] == BATCH}
    assert sum(n.amount for n in batch.values()) == 8 * 24
    assert all("account " in n.scope for n in batch.values())
    # Serverless GPUs per profile, one per replica at maxReplicas.
    (a100,) = [n for (service, family, _), n in needs.items() if family == "Consumption-GPU-NC24-A100"]
    assert a100.amount == 4 and a100.scope.startswith("westus3 / environment cae-")


def test_a_batch_account_in_user_subscription_mode_uses_compute_quota() -> None:
    plan = run_here(PROGRAM, "dev")
    for r in plan.resources:
        if r.type == "azure-native:batch:BatchAccount":
            r.inputs["poolAllocationMode"] = "UserSubscription"
    assert any(r.type == "azure-native:batch:Pool" for r in plan.resources)
    services = {n.service for n in quota_needs(estimate(plan), plan.resources)}
    assert BATCH not in services and VMS in services
