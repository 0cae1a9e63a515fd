"""Deployability of an Azure ML platform: settings Azure rejects, or that break the first `pulumi up` (issue 12).

- a lifecycle policy that moves blobs to the archive tier on a zone-redundant account (no archive tier there);
- a budget whose start date lies before the current month (the Budgets API refuses it) or is not the first of a month;
- a management lock on an Azure ML workspace with a managed network (locks block managed-network operations and the
  replacement of computes);
- an Azure ML workspace whose default storage account has a hierarchical namespace (Azure ML supports none there).

Whether a CMK workspace's key grants the Azure Cosmos DB service principal is not judged here: its object id differs
per tenant and is only known to a data source, so a pack cannot tell that grant from any other.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, PolicyResource, Severity

from ._props import ML_WORKSPACE, STORAGE_ACCOUNT, arm_id_parts, get, items, mapping, same
from ._rule import UNKNOWN, Resource, Rule, known
from .stack import _text, _type  # one reading of a stack resource's type and string properties

CONCERN = "deployability"

MANAGEMENT_POLICY = "azure-native:storage:ManagementPolicy"
BUDGET = "azure-native:consumption:Budget"
LOCK_BY_SCOPE = "azure-native:authorization:ManagementLockByScope"
LOCK_AT_RESOURCE = "azure-native:authorization:ManagementLockAtResourceLevel"

# Learn, "Access tiers for blob data": the archive tier is supported only for LRS, GRS and RA-GRS accounts.
ZONE_REDUNDANT_SKUS = frozenset({"standard_zrs", "standard_gzrs", "standard_ragzrs", "premium_zrs"})
_ARCHIVE_PATHS = (("baseBlob", "tierToArchive"), ("snapshot", "tierToArchive"), ("version", "tierToArchive"))


def _archiving_rules(policy: PolicyResource) -> list[str]:
    rules = known(lambda: items(get(policy.props, "policy", "rules")))
    if rules is UNKNOWN:
        return []
    names = []
    for rule in rules:
        actions = mapping(get(rule, "definition", "actions"))
        if any(get(actions, *path) is not None for path in _ARCHIVE_PATHS):
            names.append(str(get(rule, "name") or "?"))
    return names


def _account_of(policy: PolicyResource, accounts: list[PolicyResource]) -> PolicyResource | None:
    """The storage account the policy belongs to: by the program's wiring of accountName, else by group and name."""
    wired = [a for a in policy.property_dependencies.get("accountName", []) if _type(a) == STORAGE_ACCOUNT]
    if len(wired) == 1:
        return wired[0]
    name, group = _text(policy, "accountName"), _text(policy, "resourceGroupName")
    if not (name and group):
        return None
    for account in accounts:
        if (_text(account, "accountName") or "").lower() == name.lower() and (
            _text(account, "resourceGroupName") or ""
        ).lower() == group.lower():
            return account
    return None


def check_archive_on_zone_redundant(
    resources: list[PolicyResource], _config: Mapping[str, Any], exempt: Callable[[PolicyResource], bool]
) -> Iterator[tuple[str, str | None]]:
    accounts = [r for r in resources if _type(r) == STORAGE_ACCOUNT]
    for policy in (r for r in resources if _type(r) == MANAGEMENT_POLICY and not exempt(r)):
        archiving = _archiving_rules(policy)
        account = _account_of(policy, accounts) if archiving else None
        if account is None:
            continue
        sku = _text(account, "sku", "name")
        if sku and sku.lower() in ZONE_REDUNDANT_SKUS:
            yield (
                f"lifecycle rule(s) {', '.join(archiving)} move blobs to the archive tier, but storage account "
                f"'{account.name}' is {sku}, which has no archive tier; Azure rejects the policy.",
                policy.urn,
            )


def _first_of_month(today: datetime.date) -> datetime.date:
    return today.replace(day=1)


def check_budget_start(
    resource: Resource, _config: Mapping[str, Any], today: Callable[[], datetime.date] | None = None
) -> Iterator[str]:
    start = get(resource.props, "timePeriod", "startDate")
    if not isinstance(start, str) or not start:
        return
    try:
        day = datetime.date.fromisoformat(start[:10])
    except ValueError:
        yield f"timePeriod.startDate '{start}' is not a date (YYYY-MM-01)."
        return
    if day.day != 1:
        yield f"timePeriod.startDate '{start}' is not the first day of a month; the Budgets API requires it."
        return
    current = _first_of_month(today() if today else datetime.datetime.now(datetime.UTC).date())
    if day < current:
        yield (
            f"timePeriod.startDate '{start}' lies before the current month ({current.isoformat()}); the Budgets "
            "API refuses a start date in a past period when the budget is created."
        )


def _managed_network(workspace: PolicyResource) -> bool:
    mode = known(lambda: get(workspace.props, "managedNetwork", "isolationMode"))
    return isinstance(mode, str) and not same(mode, "Disabled")


def _locked_workspace(lock: PolicyResource, workspaces: list[PolicyResource]) -> PolicyResource | None:
    if _type(lock) == LOCK_BY_SCOPE:
        wired = [w for w in lock.property_dependencies.get("scope", []) if _type(w) == ML_WORKSPACE]
        if len(wired) == 1:
            return wired[0]
        scope = arm_id_parts(_text(lock, "scope"))
        scope_text = (_text(lock, "scope") or "").lower()
        for workspace in workspaces:
            own = _text(workspace, "id")
            if own and own.lower() == scope_text:
                return workspace
            name, group = _text(workspace, "workspaceName"), _text(workspace, "resourceGroupName")
            if (
                scope
                and name
                and group
                and scope == (group.lower(), "microsoft.machinelearningservices/workspaces", name.lower())
            ):
                return workspace
        return None
    namespace = (_text(lock, "resourceProviderNamespace") or "").lower()
    kind = (_text(lock, "resourceType") or "").lower()
    if namespace != "microsoft.machinelearningservices" or kind != "workspaces":
        return None
    name, group = (_text(lock, "resourceName") or "").lower(), (_text(lock, "resourceGroupName") or "").lower()
    for workspace in workspaces:
        if (_text(workspace, "workspaceName") or "").lower() == name and (
            _text(workspace, "resourceGroupName") or ""
        ).lower() == group:
            return workspace
    return None


def check_no_lock_on_managed_network_workspace(
    resources: list[PolicyResource], _config: Mapping[str, Any], exempt: Callable[[PolicyResource], bool]
) -> Iterator[tuple[str, str | None]]:
    workspaces = [r for r in resources if _type(r) == ML_WORKSPACE]
    for lock in (r for r in resources if _type(r) in (LOCK_BY_SCOPE, LOCK_AT_RESOURCE) and not exempt(r)):
        workspace = _locked_workspace(lock, workspaces)
        if workspace is not None and _managed_network(workspace):
            yield (
                f"management lock on Azure ML workspace '{workspace.name}', which has a managed network: the lock "
                "blocks the managed network's operations and the replacement of its computes.",
                lock.urn,
            )


def _workspace_storage(workspace: PolicyResource, accounts: list[PolicyResource]) -> PolicyResource | None:
    """The workspace's default storage account: by the program's wiring of storageAccount, else by its ARM id."""
    wired = [a for a in workspace.property_dependencies.get("storageAccount", []) if _type(a) == STORAGE_ACCOUNT]
    if len(wired) == 1:
        return wired[0]
    target = arm_id_parts(_text(workspace, "storageAccount"))
    if not target or target[1] != "microsoft.storage/storageaccounts":
        return None
    for account in accounts:
        name, group = _text(account, "accountName"), _text(account, "resourceGroupName")
        own = arm_id_parts(_text(account, "id"))
        if own == target or (name and group and (group.lower(), target[1], name.lower()) == target):
            return account
    return None


def check_workspace_storage_without_hns(
    resources: list[PolicyResource], _config: Mapping[str, Any], exempt: Callable[[PolicyResource], bool]
) -> Iterator[tuple[str, str | None]]:
    accounts = [r for r in resources if _type(r) == STORAGE_ACCOUNT]
    for workspace in (r for r in resources if _type(r) == ML_WORKSPACE and not exempt(r)):
        account = _workspace_storage(workspace, accounts)
        if account is None:
            continue
        props = account.props
        if known(lambda props=props: get(props, "isHnsEnabled")) is True:
            yield (
                f"Azure ML workspace '{workspace.name}' uses storage account '{account.name}' as its default "
                "storage, and that account has a hierarchical namespace (isHnsEnabled: true); Azure ML supports "
                "no hierarchical namespace on a workspace's default storage.",
                workspace.urn,
            )


RULES = [
    Rule(
        name="storage-lifecycle-archive-needs-lrs-or-grs",
        concern=CONCERN,
        summary="A storage lifecycle policy must not move blobs to the archive tier on a zone-redundant account "
        "(ZRS, GZRS, RA-GZRS): those accounts have no archive tier.",
        fix=(
            "In Python: `tier_to_cold` instead of `tier_to_archive` (ARM properties.policy.rules[].definition.actions.baseBlob). "
            "Use tierToCold instead of tierToArchive on zone-redundant accounts, or make the account Standard_LRS, "
            "Standard_GRS or Standard_RAGRS."
        ),
        severity=Severity.HIGH,
        default_level=EnforcementLevel.ADVISORY,
        sources=(
            "Microsoft Learn: Access tiers for blob data (archive tier: LRS, GRS, RA-GRS only)",
            "Microsoft Learn: Azure Blob Storage lifecycle management overview",
        ),
        stack_check=check_archive_on_zone_redundant,
    ),
    Rule(
        name="budget-start-date-current-month",
        concern=CONCERN,
        summary="A budget's timePeriod.startDate must be the first day of a month, not before the current month.",
        fix="Set startDate to the first of the month the budget is created (e.g. computed at run time) and add "
        '`ignore_changes=["timePeriod.startDate"]` so later runs keep it; exempt a budget that already exists.',
        severity=Severity.MEDIUM,
        default_level=EnforcementLevel.ADVISORY,
        sources=(
            "Microsoft Learn: Budgets - Create Or Update (timePeriod.startDate: first of the month, not in the past)",
        ),
        resource_types=(BUDGET,),
        check=check_budget_start,
    ),
    Rule(
        name="no-lock-on-managed-network-ml-workspace",
        concern=CONCERN,
        summary="An Azure ML workspace with a managed network must not carry a management lock: it blocks "
        "managed-network operations and replacing computes.",
        fix="Remove the ManagementLockByScope whose `scope` (ARM properties of Microsoft.Authorization/locks) is the workspace (keep the workspace `protect`ed in Pulumi instead: `ResourceOptions(protect=True)`); lock the storage, Key Vault and "
        "registry it uses.",
        severity=Severity.MEDIUM,
        default_level=EnforcementLevel.ADVISORY,
        sources=("Microsoft Learn: Workspace managed virtual network isolation (limitations: resource locks)",),
        stack_check=check_no_lock_on_managed_network_workspace,
    ),
    Rule(
        name="ml-workspace-default-storage-without-hns",
        concern=CONCERN,
        summary="An Azure ML workspace's default storage account must not have a hierarchical namespace "
        "(isHnsEnabled); Azure ML supports neither that nor premium storage there.",
        fix="Give the workspace (`storage_account=`, ARM properties.storageAccount) a StorageV2 account with `is_hns_enabled=False` (ARM properties.isHnsEnabled; create-only: a new account); attach an "
        "ADLS Gen2 account as an extra datastore instead.",
        severity=Severity.HIGH,
        default_level=EnforcementLevel.ADVISORY,
        sources=(
            "Microsoft Learn: What is an Azure Machine Learning workspace? (associated resources: no "
            "hierarchical namespace or premium storage on the default storage account)",
        ),
        stack_check=check_workspace_storage_without_hns,
    ),
]
