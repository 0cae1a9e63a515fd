"""What a platform engineer relies on in SharedServices, per environment, from the recorded plan."""

from __future__ import annotations

import pytest
from helpers import children, group_ids, one, private_endpoints_to, run_here, waits_for_rbac, zone_names_of

from aiinfra.components import _base
from aiinfra.components.naming import NamingConvention
from aiinfra.components.shared_services import SharedServicesArgs

VAULT = "azure-native:keyvault:Vault"
STORAGE = "azure-native:storage:StorageAccount"
REGISTRY = "azure-native:containerregistry:Registry"
DIAG = "azure-native:monitor:DiagnosticSetting"
LOCK = "azure-native:authorization:ManagementLockByScope"


@pytest.mark.parametrize("vault_name", ["shared-kv", "shared-kv-cmk"])
def test_key_vault_is_private_rbac_and_undeletable(plan, env, vault_name):
    if vault_name == "shared-kv-cmk" and env == "dev":
        assert not [v for v in plan.of_type(VAULT) if v.name == vault_name]  # no CMK in dev
        return
    vault = one(plan, VAULT, vault_name)
    props = vault.inputs["properties"]
    assert props["enableRbacAuthorization"] is True
    assert props["enableSoftDelete"] is True and props["enablePurgeProtection"] is True
    assert props["publicNetworkAccess"] == "Disabled"
    assert props["networkAcls"]["defaultAction"] == "Deny"
    assert not any(
        props[k] for k in ("enabledForDeployment", "enabledForTemplateDeployment", "enabledForDiskEncryption")
    )
    [endpoint] = private_endpoints_to(plan, vault)
    assert group_ids(endpoint) == ["vault"]
    assert zone_names_of(plan, endpoint) == {"privatelink.vaultcore.azure.net"}


def test_storage_is_private_keyless_and_hardened(plan):
    account = one(plan, STORAGE)
    i = account.inputs
    # Learn, "What is an Azure Machine Learning workspace?" > Associated resources: the workspace's default storage
    # can have no hierarchical namespace (ARM refuses the workspace); this account is every workspace's default.
    assert i["isHnsEnabled"] is False
    assert i["allowBlobPublicAccess"] is False and i["allowSharedKeyAccess"] is False
    assert i["minimumTlsVersion"] == "TLS1_2"
    assert i["encryption"]["requireInfrastructureEncryption"] is True
    assert i["allowCrossTenantReplication"] is False
    assert i["publicNetworkAccess"] == "Disabled" and i["networkRuleSet"]["defaultAction"] == "Deny"
    endpoints = private_endpoints_to(plan, account)
    # SharedServices' own endpoints; a component using another sub-resource (e.g. queues) adds its own.
    shared = one(plan, "aiinfra:shared:SharedServices")
    assert sorted(g for e in endpoints if e.parent == shared.urn for g in group_ids(e)) == ["blob", "dfs", "file"]
    for endpoint in endpoints:
        [group] = group_ids(endpoint)
        assert zone_names_of(plan, endpoint) == {f"privatelink.{group}.core.windows.net"}


def test_storage_lifecycle_rules(plan):
    policy = one(plan, "azure-native:storage:ManagementPolicy")
    rules = {r["name"]: r for r in policy.inputs["policy"]["rules"]}
    models = rules["models-tiering"]["definition"]
    assert models["filters"]["prefixMatch"] == ["models/"]
    assert models["actions"]["baseBlob"]["tierToCool"]["daysAfterModificationGreaterThan"] == 30
    temp = rules["temp-cleanup"]["definition"]
    assert temp["actions"]["baseBlob"]["delete"]["daysAfterModificationGreaterThan"] == 7


def test_registry_is_premium_private_without_admin_or_anonymous_pull(plan):
    registry = one(plan, REGISTRY)
    i = registry.inputs
    assert i["sku"]["name"] == "Premium"
    assert i["adminUserEnabled"] is False and i["anonymousPullEnabled"] is False
    assert i["publicNetworkAccess"] == "Disabled"
    assert i["zoneRedundancy"] == "Enabled"  # westus3 has availability zones
    [endpoint] = private_endpoints_to(plan, registry)
    assert zone_names_of(plan, endpoint) == {"privatelink.azurecr.io"}


def test_every_private_endpoint_has_a_dns_zone_group(plan):
    for endpoint in plan.of_type("azure-native:network:PrivateEndpoint"):
        assert zone_names_of(plan, endpoint), endpoint.name


def test_dns_zones_are_linked_to_the_vnet(plan):
    zones = plan.of_type("azure-native:privatedns:PrivateZone")
    names = {z.inputs["privateZoneName"] for z in zones}
    for expected in (
        "privatelink.api.azureml.ms",
        "privatelink.notebooks.azure.net",
        "privatelink.batch.azure.com",
        "privatelink.westus3.azmk8s.io",
        "privatelink.westus3.azurecontainerapps.io",
        "privatelink.vaultcore.azure.net",
        "privatelink.azurecr.io",
    ):
        assert expected in names
    vnet = one(plan, "azure-native:network:VirtualNetwork")
    for zone in zones:
        [link] = children(plan, zone, "azure-native:privatedns:VirtualNetworkLink")
        assert link.inputs["virtualNetwork"]["id"] == vnet.id
        assert link.inputs["registrationEnabled"] is False


def test_subnets_have_nsgs_and_container_apps_delegation(plan):
    subnets = {s.inputs["subnetName"]: s for s in plan.of_type("azure-native:network:Subnet")}
    assert set(subnets) == {
        "snet-aks",
        "snet-aml-compute",
        "snet-batch",
        "snet-container-apps",
        "snet-private-endpoints",
    }
    for subnet in subnets.values():
        assert subnet.inputs["networkSecurityGroup"]["id"].endswith(
            "/providers/Microsoft.Network/networkSecurityGroups/"
            + subnet.inputs["networkSecurityGroup"]["id"].split("/")[-1]
        )
    delegation = subnets["snet-container-apps"].inputs["delegations"][0]
    assert delegation["serviceName"] == "Microsoft.App/environments"


def test_diagnostics_cover_every_shared_resource(plan):
    targets = {d.inputs["resourceUri"] for d in plan.of_type(DIAG)}
    workspace = one(plan, "azure-native:operationalinsights:Workspace")
    for type_token in (VAULT, STORAGE, REGISTRY, "azure-native:network:NetworkSecurityGroup"):
        for resource in plan.of_type(type_token):
            assert resource.id in targets, resource.name
    assert all(d.inputs["workspaceId"] == workspace.id for d in plan.of_type(DIAG))
    assert f"{one(plan, STORAGE).id}/blobServices/default" in targets


def test_budget_alerts_on_actual_and_forecast(plan):
    budget = one(plan, "azure-native:consumption:Budget")
    notifications = budget.inputs["notifications"]
    assert {n["thresholdType"] for n in notifications.values()} == {"Actual", "Forecasted"}
    assert all(n["contactEmails"] for n in notifications.values())
    assert budget.inputs["timeGrain"] == "Monthly"


def test_cmk_follows_the_environment(plan, env):
    keys = plan.of_type("azure-native:keyvault:Key")
    account, registry = one(plan, STORAGE), one(plan, REGISTRY)
    if env == "dev":
        assert not keys
        assert account.inputs["encryption"]["keySource"] == "Microsoft.Storage"
        return
    [key] = keys
    assert key.inputs["properties"]["kty"] == ("RSA-HSM" if env == "prd" else "RSA")
    assert key.inputs["properties"]["rotationPolicy"]["lifetimeActions"]
    assert account.inputs["encryption"]["keySource"] == "Microsoft.Keyvault"
    assert account.inputs["encryption"]["encryptionIdentity"]["encryptionUserAssignedIdentity"]
    assert registry.inputs["encryption"]["status"] == "enabled"
    # The identity may use the key before storage and ACR are created with it.
    grant = next(
        r for r in plan.of_type("azure-native:authorization:RoleAssignment") if r.name.endswith("cmk-crypto-user")
    )
    # Issue 12 item 5: storage and ACR wait for the grant and for a time.Sleep after it (RBAC propagation; AVM's
    # key vault module waits after role assignments before key operations).
    assert waits_for_rbac(plan, account, grant.urn) and waits_for_rbac(plan, registry, grant.urn)
    assert grant.inputs["roleDefinitionId"].endswith("e147488a-f6f5-4113-8e2d-b22465e65bf6")
    # Issue 12 item 7: the key lives in a vault of its own, not in the one workloads administer.
    assert key.inputs["vaultName"] == one(plan, VAULT, "shared-kv-cmk").outputs["name"]


def test_prd_protects_and_locks_stateful_resources(plan, env):
    stateful = [*plan.of_type(VAULT), one(plan, STORAGE), one(plan, REGISTRY)]
    locked_scopes = {lock.inputs["scope"] for lock in plan.of_type(LOCK)}
    for resource in stateful:
        assert resource.protect is (env == "prd"), resource.name
        assert (resource.id in locked_scopes) is (env == "prd"), resource.name
    assert all(lock.inputs["level"] == "CanNotDelete" for lock in plan.of_type(LOCK))


def test_every_taggable_resource_carries_owner_and_cost_center(plan):
    for resource in plan.resources:
        if resource.custom and "location" in resource.inputs and resource.type != "azure-native:consumption:Budget":
            tags = resource.inputs.get("tags") or {}
            assert tags.get("owner") and tags.get("costCenter"), resource.name


def test_bad_args_from_python_fail_before_registration_without_traceback_type():
    with pytest.raises(_base.ComponentArgsError) as info:
        SharedServicesArgs(
            naming=NamingConvention(prefix="aiinfra", environment="dev", location="westus3"),
            resource_group_name="rg",
            address_space="10.0.0.0/24",
        )
    assert "address_space: '10.0.0.0/24' is too small" in str(info.value)


def test_storage_diagnostics_use_the_metric_category_storage_accepts(plan):
    account = one(plan, STORAGE)
    storage_settings = [d for d in plan.of_type(DIAG) if str(d.inputs["resourceUri"]).startswith(account.id or "")]
    assert len(storage_settings) == 3  # account metrics + blob and file service logs
    for setting in storage_settings:
        assert [m["category"] for m in setting.inputs["metrics"]] == ["Transaction"]


# --- issue 12: deployability on real Azure ---------------------------------------------------------------------

import datetime  # noqa: E402

import yaml  # noqa: E402

from aiinfra.components import shared_services  # noqa: E402
from aiinfra.engine import arm  # noqa: E402
from stacks.config import (  # noqa: E402
    ConfigError,
    parse_platform_config,
)

ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"


def test_no_archive_tier_on_zone_redundant_storage(plan):
    """Learn, "Access tiers for blob data": ZRS/GZRS/RA-GZRS accounts have no archive tier."""
    account = one(plan, STORAGE)
    policy = one(plan, "azure-native:storage:ManagementPolicy")
    actions = [r["definition"]["actions"]["baseBlob"] for r in policy.inputs["policy"]["rules"]]
    if account.inputs["sku"]["name"] in shared_services.ZONE_REDUNDANT_STORAGE_SKUS:
        assert not any("tierToArchive" in a for a in actions)
        assert any("tierToCold" in a for a in actions)


def _platform(repo, env: str) -> dict:
    return yaml.safe_load((repo / f"Pulumi.{env}.yaml").read_text())["config"]["aiinfra:platform"]


@pytest.mark.parametrize("sku", ["Standard_ZRS", "Standard_GZRS"])
def test_archive_on_zone_redundant_storage_is_a_config_error_naming_the_key(repo, sku):
    raw = _platform(repo, "prd")
    raw["shared"]["storageSku"] = sku
    raw["shared"]["lifecycle"] = {"modelsCoolAfterDays": 30, "modelsColdAfterDays": None, "modelsArchiveAfterDays": 90}
    with pytest.raises(ConfigError) as info:
        parse_platform_config(raw, "Pulumi.prd.yaml")
    message = str(info.value)
    assert "aiinfra:platform.shared: lifecycle.modelsArchiveAfterDays" in message
    assert sku in message and "modelsColdAfterDays" in message and "Standard_LRS" in message


def test_prd_storage_survives_a_region_loss(plan, env):
    if env == "prd":
        assert one(plan, STORAGE).inputs["sku"]["name"] == "Standard_GZRS"


def test_soft_delete_on_blobs_containers_and_file_shares(plan):
    """Seed 000 and Learn "Soft delete for blobs" / "Soft delete for Azure file shares" (issue 12 item 10)."""
    account = one(plan, STORAGE)
    [blob] = children(plan, account, "azure-native:storage:BlobServiceProperties")
    [files] = children(plan, account, "azure-native:storage:FileServiceProperties")
    for policy in (
        blob.inputs["deleteRetentionPolicy"],
        blob.inputs["containerDeleteRetentionPolicy"],
        files.inputs["shareDeleteRetentionPolicy"],
    ):
        assert policy["enabled"] is True and policy["days"] >= 7
    assert "isVersioningEnabled" not in blob.inputs  # not supported with a hierarchical namespace


def test_nsgs_deny_lateral_ssh_and_rdp_and_nat_ip_is_zone_redundant(plan):
    """Issue 12 item 12."""
    for nsg in plan.of_type("azure-native:network:NetworkSecurityGroup"):
        if not nsg.name.startswith("shared-"):
            continue
        [rule] = children(plan, nsg, "azure-native:network:SecurityRule")
        i = rule.inputs
        assert (i["direction"], i["access"], i["sourceAddressPrefix"]) == ("Inbound", "Deny", "VirtualNetwork")
        assert sorted(i["destinationPortRanges"]) == ["22", "3389"] and i["priority"] < 65000
    ip = one(plan, "azure-native:network:PublicIPAddress", "shared-nat-ip")
    assert ip.inputs["zones"] == ["1", "2", "3"]  # westus3 has availability zones


def test_storage_service_logs_are_the_audit_trail_not_every_read(plan):
    """Issue 12 item 13: StorageWrite and StorageDelete, not StorageRead (cost)."""
    account = one(plan, STORAGE)
    services = [d for d in plan.of_type(DIAG) if str(d.inputs["resourceUri"]).startswith(f"{account.id}/")]
    assert len(services) == 2
    for setting in services:
        assert {entry["category"] for entry in setting.inputs["logs"]} == {"StorageWrite", "StorageDelete"}


def test_cmk_grants_the_cosmos_db_service_principal_looked_up_by_application_id(plan, env):
    """Issue 12 item 1: never a hard-coded object id; the grant is on the key, before anything uses it."""
    grants = [a for a in plan.of_type(ROLE_ASSIGNMENT) if a.name == "shared-cmk-cosmos-db"]
    if env == "dev":
        assert not grants
        return
    [grant] = grants
    key = one(plan, "azure-native:keyvault:Key")
    assert grant.inputs["scope"] == key.id
    assert grant.inputs["principalId"] != shared_services.COSMOS_DB_APPLICATION_IDS["AzureCloud"]
    for resource in (one(plan, STORAGE), one(plan, REGISTRY)):
        assert waits_for_rbac(plan, resource, grant.urn)


def _budget_start(monkeypatch, repo, today: datetime.date):
    monkeypatch.setattr(shared_services, "utc_today", lambda: today)
    budget = one(run_here(repo, "dev"), "azure-native:consumption:Budget")  # the fake clock is ours
    return budget.inputs["timePeriod"]["startDate"], budget.ignore_changes


def test_budget_starts_the_month_the_stack_is_created_and_never_shows_a_diff(monkeypatch, repo):
    """Issue 12 item 3: the Budgets API refuses a start date in a past period; the date is fixed at creation."""
    created, ignored = _budget_start(monkeypatch, repo, datetime.date(2027, 3, 17))
    assert created == "2027-03-01T00:00:00Z"
    later, ignored_later = _budget_start(monkeypatch, repo, datetime.date(2027, 11, 2))
    assert later == "2027-11-01T00:00:00Z"
    # A later run computes a later month, which Pulumi must not send: the engine keeps the created value.
    assert "timePeriod.startDate" in ignored and "timePeriod.startDate" in ignored_later


def test_first_of_month():
    assert shared_services.first_of_month(datetime.date(2026, 12, 31)) == "2026-12-01"
    assert shared_services.first_of_month(datetime.date(2027, 1, 1)) == "2027-01-01"


GLOBAL_NAMES = {
    VAULT: "vaultName",
    STORAGE: "accountName",
    REGISTRY: "registryName",
    "azure-native:machinelearningservices:Workspace": "workspaceName",
}


def _names(plan) -> set[str]:
    return {r.inputs[key] for token, key in GLOBAL_NAMES.items() for r in plan.of_type(token)}


def test_names_are_unique_per_subscription_and_stack(monkeypatch, repo, plan_of, tmp_path):
    """Issue 12 item 4: two users of one example config (other subscription, or another stack name) get other
    Key Vault, storage, registry and workspace names."""
    ours = _names(plan_of("dev"))
    monkeypatch.setattr(arm, "SUBSCRIPTION_ID", "11111111-2222-3333-4444-555555555555")
    assert _names(run_here(repo, "dev")).isdisjoint(ours)  # the patched subscription is ours
    monkeypatch.undo()
    other_stack = tmp_path / "Pulumi.dev2.yaml"
    other_stack.write_text((repo / "Pulumi.dev.yaml").read_text())
    assert _names(run_here(repo, "dev2", stack_file=other_stack)).isdisjoint(ours)


def test_a_new_naming_seed_recreates_the_environment_under_new_names(repo, plan_of, tmp_path):
    """Issue 12 item 4 (docs/components/shared_services.md, "Re-creating an environment"): inside the soft-delete
    window (Key Vault 90 days with purge protection, workspaces 14 days) a new `namingSeed` gives free names."""
    config = yaml.safe_load((repo / "Pulumi.dev.yaml").read_text())
    config["config"]["aiinfra:platform"]["namingSeed"] = "r2"
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text(yaml.safe_dump(config))
    recreated = run_here(repo, "dev", stack_file=stack_file)
    assert _names(recreated).isdisjoint(_names(plan_of("dev")))
    # Names that soft delete does not keep stay the same (the resource group bootstrap/ created, the VNet).
    assert (
        one(recreated, "azure-native:network:VirtualNetwork").inputs["virtualNetworkName"]
        == one(plan_of("dev"), "azure-native:network:VirtualNetwork").inputs["virtualNetworkName"]
    )


def test_azure_monitor_behind_a_private_link_scope_where_configured(plan, env, repo):
    """Issue 12 item 11 (Learn, "Use Azure Private Link to connect networks to Azure Monitor"): AMPLS with Log
    Analytics and Application Insights, a private endpoint with the Azure Monitor zones, public query off in prd."""
    shared = _platform(repo, env)["shared"]
    logs = one(plan, "azure-native:operationalinsights:Workspace")
    insights = one(plan, "azure-native:applicationinsights:Component")
    zones = {z.inputs["privateZoneName"] for z in plan.of_type("azure-native:privatedns:PrivateZone")}
    scopes = plan.of_type("azure-native:monitor:PrivateLinkScope")
    if not shared.get("monitorPrivateLink"):
        # An empty Azure Monitor zone linked to the VNet would break every agent's name resolution.
        assert not scopes and "privatelink.monitor.azure.com" not in zones
        return
    [scope] = scopes
    scoped = {
        r.inputs["linkedResourceId"] for r in children(plan, scope, "azure-native:monitor:PrivateLinkScopedResource")
    }
    assert scoped == {logs.id, insights.id}
    [endpoint] = private_endpoints_to(plan, scope)
    assert group_ids(endpoint) == ["azuremonitor"]
    assert {
        "privatelink.monitor.azure.com",
        "privatelink.oms.opinsights.azure.com",
        "privatelink.ods.opinsights.azure.com",
        "privatelink.agentsvc.azure-automation.net",
    } <= zone_names_of(plan, endpoint)
    if env == "prd":
        assert scope.inputs["accessModeSettings"]["queryAccessMode"] == "PrivateOnly"
        for resource in (logs, insights):
            assert resource.inputs["publicNetworkAccessForQuery"] == "Disabled"
            # Documented exception: managed-network ML computes ingest over the AzureMonitor service tag.
            assert resource.inputs["publicNetworkAccessForIngestion"] == "Enabled"


def test_closing_azure_monitor_without_private_link_is_a_config_error(repo):
    raw = _platform(repo, "dev")
    raw["shared"]["monitorPublicQuery"] = False
    with pytest.raises(ConfigError) as info:
        parse_platform_config(raw, "Pulumi.dev.yaml")
    assert "aiinfra:platform.shared: monitorPublicQuery: false needs monitorPrivateLink: true" in str(info.value)


def test_cosmos_db_object_id_from_config_skips_the_graph_lookup(repo, tmp_path):
    """For deployers without Microsoft Graph read access: the object id comes from config, validated as a GUID."""
    config = yaml.safe_load((repo / "Pulumi.test.yaml").read_text())
    shared = config["config"]["aiinfra:platform"]["shared"]
    del shared["cosmosDbPrincipalLookup"]
    shared["cosmosDbPrincipalObjectId"] = "0b5e1c2d-3f4a-4b6c-8d7e-9f0a1b2c3d4e"
    stack_file = tmp_path / "Pulumi.test.yaml"
    stack_file.write_text(yaml.safe_dump(config))
    grant = one(run_here(repo, "test", stack_file=stack_file), ROLE_ASSIGNMENT, "shared-cmk-cosmos-db")
    assert grant.inputs["principalId"] == "0b5e1c2d-3f4a-4b6c-8d7e-9f0a1b2c3d4e"
    shared["cosmosDbPrincipalObjectId"] = "cosmos"
    with pytest.raises(ConfigError, match="shared.cosmosDbPrincipalObjectId"):
        parse_platform_config(config["config"]["aiinfra:platform"], "Pulumi.test.yaml")
