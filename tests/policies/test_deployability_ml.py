"""Issue 12's deployability rules through the pack's gRPC server (AnalyzeStack / Analyze), in every environment's
configuration, with programs written in other styles (names set by hand, ids known or unknown, resource-level locks),
plus direct tests of the date logic with a fixed clock."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from pack_client import ENVIRONMENTS, Pack, StackResource, of

from aiinfra.policies import deployability_ml
from aiinfra.policies._rule import Resource

RG = "rg-ml"
SUB = "/subscriptions/00000000-0000-0000-0000-000000000000"
SA = "azure-native:storage:StorageAccount"
POLICY = "azure-native:storage:ManagementPolicy"
WS = "azure-native:machinelearningservices:Workspace"
LOCK = "azure-native:authorization:ManagementLockByScope"
LOCK_AT = "azure-native:authorization:ManagementLockAtResourceLevel"
BUDGET = "azure-native:consumption:Budget"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

ARCHIVE = "storage-lifecycle-archive-needs-lrs-or-grs"
START = "budget-start-date-current-month"
LOCKED = "no-lock-on-managed-network-ml-workspace"


def account(sku: str, name: str = "stdata") -> StackResource:
    return StackResource(SA, name, {"accountName": name, "resourceGroupName": RG, "sku": {"name": sku}})


def lifecycle(
    tier: str, account_name: Any = "stdata", property_deps: dict[str, list[str]] | None = None
) -> StackResource:
    return StackResource(
        POLICY,
        "lifecycle",
        {
            "accountName": account_name,
            "resourceGroupName": RG,
            "managementPolicyName": "default",
            "policy": {
                "rules": [
                    {
                        "name": "models",
                        "enabled": True,
                        "type": "Lifecycle",
                        "definition": {
                            "filters": {"blobTypes": ["blockBlob"]},
                            "actions": {"baseBlob": {tier: {"daysAfterModificationGreaterThan": 90.0}}},
                        },
                    }
                ]
            },
        },
        property_dependencies=property_deps,
    )


def workspace(mode: str, ws_id: str | None = None) -> StackResource:
    props: dict[str, Any] = {
        "workspaceName": "mlw-research",
        "resourceGroupName": RG,
        "managedNetwork": {"isolationMode": mode},
    }
    if ws_id:
        props["id"] = ws_id
    return StackResource(WS, "ws", props)


WS_ID = f"{SUB}/resourceGroups/{RG}/providers/Microsoft.MachineLearningServices/workspaces/mlw-research"


@pytest.mark.parametrize("env", ENVIRONMENTS)
@pytest.mark.parametrize("sku", ["Standard_ZRS", "Standard_GZRS", "Standard_RAGZRS"])
def test_archive_on_a_zone_redundant_account_is_flagged(pack: Pack, env: str, sku: str) -> None:
    pack.configure(env)
    found = of(ARCHIVE, pack.analyze_stack([account(sku), lifecycle("tierToArchive")]))
    assert [d.urn for d in found] == [lifecycle("tierToArchive").urn]
    assert found[0].level == pack.levels[ARCHIVE] == "mandatory"
    assert sku in found[0].message and "models" in found[0].message


@pytest.mark.parametrize(
    "sku,tier",
    [
        ("Standard_LRS", "tierToArchive"),
        ("Standard_GRS", "tierToArchive"),
        ("Standard_ZRS", "tierToCold"),
        ("Standard_GZRS", "tierToCool"),
    ],
)
def test_archive_on_lrs_or_grs_and_cold_on_zrs_pass(pack: Pack, sku: str, tier: str) -> None:
    pack.configure("prd")
    assert not of(ARCHIVE, pack.analyze_stack([account(sku), lifecycle(tier)]))


def test_account_name_unknown_in_preview_is_matched_through_the_wiring(pack: Pack) -> None:
    pack.configure("prd")
    target = account("Standard_ZRS", name="stother")
    policy = lifecycle("tierToArchive", account_name=UNKNOWN, property_deps={"accountName": [target.urn]})
    assert of(ARCHIVE, pack.analyze_stack([account("Standard_LRS"), target, policy]))


def test_archive_rule_is_advisory_by_default(pack: Pack) -> None:
    pack.configure(None)
    found = of(ARCHIVE, pack.analyze_stack([account("Standard_ZRS"), lifecycle("tierToArchive")]))
    assert found and found[0].level == "advisory"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_lock_on_a_managed_network_workspace_is_flagged(pack: Pack, env: str) -> None:
    pack.configure(env)
    ws = workspace("AllowOnlyApprovedOutbound")
    by_wiring = StackResource(
        LOCK, "lock", {"scope": UNKNOWN, "level": "CanNotDelete"}, property_dependencies={"scope": [ws.urn]}
    )
    found = of(LOCKED, pack.analyze_stack([ws, by_wiring]))
    assert [d.urn for d in found] == [by_wiring.urn] and found[0].level == "mandatory"
    by_id = StackResource(LOCK, "lock", {"scope": WS_ID, "level": "CanNotDelete"})
    assert of(LOCKED, pack.analyze_stack([workspace("AllowInternetOutbound"), by_id]))
    resource_level = StackResource(
        LOCK_AT,
        "lock-at",
        {
            "resourceGroupName": RG,
            "resourceProviderNamespace": "Microsoft.MachineLearningServices",
            "resourceType": "workspaces",
            "resourceName": "mlw-research",
            "parentResourcePath": "",
            "level": "CanNotDelete",
        },
    )
    assert of(LOCKED, pack.analyze_stack([ws, resource_level]))


def test_lock_on_a_workspace_without_managed_network_or_on_storage_passes(pack: Pack) -> None:
    pack.configure("prd")
    lock = StackResource(LOCK, "lock", {"scope": WS_ID, "level": "CanNotDelete"})
    assert not of(LOCKED, pack.analyze_stack([workspace("Disabled"), lock]))
    storage_lock = StackResource(
        LOCK, "st-lock", {"scope": f"{SUB}/resourceGroups/{RG}/providers/Microsoft.Storage/storageAccounts/stdata"}
    )
    assert not of(LOCKED, pack.analyze_stack([workspace("AllowOnlyApprovedOutbound"), storage_lock]))


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_budget_start_in_the_past_or_mid_month_is_flagged(pack: Pack, env: str) -> None:
    pack.configure(env)
    assert of(START, pack.analyze(BUDGET, {"timePeriod": {"startDate": "2020-01-01T00:00:00Z"}}))
    assert of(START, pack.analyze(BUDGET, {"timePeriod": {"startDate": "2099-01-15T00:00:00Z"}}))
    this_month = datetime.datetime.now(datetime.UTC).date().replace(day=1).isoformat()
    assert not of(START, pack.analyze(BUDGET, {"timePeriod": {"startDate": f"{this_month}T00:00:00Z"}}))


def _start(date: str, today: datetime.date) -> list[str]:
    budget = Resource(BUDGET, "budget", "urn:budget", {"timePeriod": {"startDate": date}})
    return list(deployability_ml.check_budget_start(budget, {}, today=lambda: today))


def test_budget_start_with_a_fixed_clock() -> None:
    today = datetime.date(2026, 11, 30)
    assert not _start("2026-11-01T00:00:00Z", today)
    assert not _start("2027-02-01", today)
    assert "before the current month (2026-11-01)" in _start("2026-10-01T00:00:00Z", today)[0]
    assert "first day" in _start("2026-12-02T00:00:00Z", today)[0]
    assert "not a date" in _start("soon", today)[0]


HNS = "ml-workspace-default-storage-without-hns"
SA_ID = f"{SUB}/resourceGroups/{RG}/providers/Microsoft.Storage/storageAccounts/stdata"


def hns_account(hns: bool | None) -> StackResource:
    props: dict[str, Any] = {
        "accountName": "stdata",
        "resourceGroupName": RG,
        "sku": {"name": "Standard_ZRS"},
        "kind": "StorageV2",
    }
    if hns is not None:
        props["isHnsEnabled"] = hns
    return StackResource(SA, "stdata", props)


def ws_on(storage: str, property_deps: dict[str, list[str]] | None = None) -> StackResource:
    return StackResource(
        WS,
        "ws",
        {"workspaceName": "mlw-research", "resourceGroupName": RG, "storageAccount": storage},
        property_dependencies=property_deps,
    )


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_workspace_on_a_hns_account_is_flagged(pack: Pack, env: str) -> None:
    # Learn, "What is an Azure Machine Learning workspace?" > associated resources: no hierarchical namespace on the
    # workspace's default storage. Matched by ARM id (plain azure-native, names set by hand) and by wiring (id unknown).
    pack.configure(env)
    found = of(HNS, pack.analyze_stack([hns_account(True), ws_on(SA_ID)]))
    assert [d.urn for d in found] == [ws_on(SA_ID).urn] and found[0].level == "mandatory"
    assert "stdata" in found[0].message and "isHnsEnabled" in found[0].message
    wired = ws_on(UNKNOWN, {"storageAccount": [hns_account(True).urn]})
    assert of(HNS, pack.analyze_stack([hns_account(True), wired]))


def test_workspace_on_a_flat_account_or_elsewhere_passes(pack: Pack) -> None:
    pack.configure("prd")
    assert not of(HNS, pack.analyze_stack([hns_account(False), ws_on(SA_ID)]))
    assert not of(HNS, pack.analyze_stack([hns_account(None), ws_on(SA_ID)]))
    other = SA_ID.replace("stdata", "stother")
    assert not of(HNS, pack.analyze_stack([hns_account(True), ws_on(other)]))


def test_hns_rule_is_advisory_by_default(pack: Pack) -> None:
    pack.configure(None)
    found = of(HNS, pack.analyze_stack([hns_account(True), ws_on(SA_ID)]))
    assert found and found[0].level == "advisory"
