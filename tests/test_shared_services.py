"""What a platform engineer relies on in SharedServices, per environment, from the recorded plan."""

from __future__ import annotations

import pytest

from aiinfra.components import _base
from aiinfra.components.naming import NamingConvention
from aiinfra.components.shared_services import SharedServicesArgs
from helpers import children, group_ids, one, private_endpoints_to, zone_names_of

VAULT = "azure-native:keyvault:Vault"
STORAGE = "azure-native:storage:StorageAccount"
REGISTRY = "azure-native:containerregistry:Registry"
DIAG = "azure-native:monitor:DiagnosticSetting"
LOCK = "azure-native:authorization:ManagementLockByScope"


def test_key_vault_is_private_rbac_and_undeletable(plan):
    vault = one(plan, VAULT)
    props = vault.inputs["properties"]
    assert props["enableRbacAuthorization"] is True
    assert props["enableSoftDelete"] is True and props["enablePurgeProtection"] is True
    assert props["publicNetworkAccess"] == "Disabled"
    assert props["networkAcls"]["defaultAction"] == "Deny"
    assert not any(props[k] for k in ("enabledForDeployment", "enabledForTemplateDeployment", "enabledForDiskEncryption"))
    [endpoint] = private_endpoints_to(plan, vault)
    assert group_ids(endpoint) == ["vault"]
    assert zone_names_of(plan, endpoint) == {"privatelink.vaultcore.azure.net"}


def test_storage_is_private_keyless_and_hardened(plan):
    account = one(plan, STORAGE)
    i = account.inputs
    assert i["isHnsEnabled"] is True
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
    for expected in ("privatelink.api.azureml.ms", "privatelink.notebooks.azure.net", "privatelink.batch.azure.com",
                     "privatelink.westus3.azmk8s.io", "privatelink.westus3.azurecontainerapps.io",
                     "privatelink.vaultcore.azure.net", "privatelink.azurecr.io"):
        assert expected in names
    vnet = one(plan, "azure-native:network:VirtualNetwork")
    for zone in zones:
        [link] = children(plan, zone, "azure-native:privatedns:VirtualNetworkLink")
        assert link.inputs["virtualNetwork"]["id"] == vnet.id
        assert link.inputs["registrationEnabled"] is False


def test_subnets_have_nsgs_and_container_apps_delegation(plan):
    subnets = {s.inputs["subnetName"]: s for s in plan.of_type("azure-native:network:Subnet")}
    assert set(subnets) == {"snet-aks", "snet-aml-compute", "snet-batch", "snet-container-apps", "snet-private-endpoints"}
    for subnet in subnets.values():
        assert subnet.inputs["networkSecurityGroup"]["id"].endswith(
            "/providers/Microsoft.Network/networkSecurityGroups/" + subnet.inputs["networkSecurityGroup"]["id"].split("/")[-1])
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
    grant = next(r for r in plan.of_type("azure-native:authorization:RoleAssignment") if r.name.endswith("cmk-crypto-user"))
    assert grant.urn in account.dependencies and grant.urn in registry.dependencies
    assert grant.inputs["roleDefinitionId"].endswith("e147488a-f6f5-4113-8e2d-b22465e65bf6")


def test_prd_protects_and_locks_stateful_resources(plan, env):
    stateful = [one(plan, VAULT), one(plan, STORAGE), one(plan, REGISTRY)]
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
        SharedServicesArgs(naming=NamingConvention(prefix="aiinfra", environment="dev", location="westus3"),
                           resource_group_name="rg", address_space="10.0.0.0/24")
    assert "address_space: '10.0.0.0/24' is too small" in str(info.value)


def test_storage_diagnostics_use_the_metric_category_storage_accepts(plan):
    account = one(plan, STORAGE)
    storage_settings = [d for d in plan.of_type(DIAG) if str(d.inputs["resourceUri"]).startswith(account.id or "")]
    assert len(storage_settings) == 3  # account metrics + blob and file service logs
    for setting in storage_settings:
        assert [m["category"] for m in setting.inputs["metrics"]] == ["Transaction"]
