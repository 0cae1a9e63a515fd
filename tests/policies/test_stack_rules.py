"""Stack policies through AnalyzeStack: private endpoints per private-only resource, DNS zone groups per endpoint,
group ids that fit their target, AKS local accounts (with the Azure ML extension trade-off reported visibly) —
including preview-time unknown ids."""

from __future__ import annotations

from typing import Any

import pytest
from pack_client import ENVIRONMENTS, Pack, StackResource, of, urn

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
RG = "rg-ml"
SUB = "/subscriptions/00000000-0000-0000-0000-000000000000"
WS = "azure-native:machinelearningservices:Workspace"
SA = "azure-native:storage:StorageAccount"
PE = "azure-native:network:PrivateEndpoint"
ZG = "azure-native:network:PrivateDnsZoneGroup"
ZONE = "azure-native:privatedns:PrivateZone"
AKS = "azure-native:containerservice:ManagedCluster"
EXT = "azure-native:kubernetesconfiguration:Extension"


def workspace(public: str = "Disabled") -> StackResource:
    return StackResource(
        WS, "ws", {"workspaceName": "mlw-research", "resourceGroupName": RG, "publicNetworkAccess": public}
    )


def storage() -> StackResource:
    return StackResource(
        SA, "data", {"accountName": "stdata", "resourceGroupName": RG, "publicNetworkAccess": "Disabled"}
    )


def arm_id(provider: str, name: str) -> str:
    return f"{SUB}/resourceGroups/{RG}/providers/{provider}/{name}"


def endpoint(
    name: str, group: str, target_id: Any, deps: tuple[str, ...] = (), property_deps: dict[str, list[str]] | None = None
) -> StackResource:
    return StackResource(
        PE,
        name,
        {
            "privateEndpointName": f"pe-{name}",
            "resourceGroupName": RG,
            "privateLinkServiceConnections": [{"name": name, "privateLinkServiceId": target_id, "groupIds": [group]}],
        },
        dependencies=deps,
        property_dependencies=property_deps,
    )


def zone_group(of_endpoint: StackResource, *zones: str, parent: bool = True) -> StackResource:
    return StackResource(
        ZG,
        f"{of_endpoint.name}-dns",
        {
            "privateEndpointName": of_endpoint.props["privateEndpointName"],
            "resourceGroupName": RG,
            "privateDnsZoneConfigs": [{"name": z, "privateDnsZoneId": f"{SUB}/privateDnsZones/{z}"} for z in zones],
        },
        parent=of_endpoint.urn if parent else urn("pulumi:pulumi:Stack", "stranger-dev"),
    )


ML_ZONES = ("privatelink.api.azureml.ms", "privatelink.notebooks.azure.net")


@pytest.fixture(autouse=True)
def _prd(pack: Pack) -> None:
    pack.configure("prd")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_private_workspace_without_endpoint_is_flagged_in_every_env(pack: Pack, env: str) -> None:
    pack.configure(env)
    found = of("private-endpoint-required", pack.analyze_stack([workspace()]))
    assert [d.urn for d in found] == [workspace().urn]
    assert found[0].level == pack.levels["private-endpoint-required"] == "mandatory"
    assert "amlworkspace" in found[0].message


def test_workspace_with_its_endpoint_by_arm_id_passes(pack: Pack) -> None:
    pe = endpoint("ws", "amlworkspace", arm_id("Microsoft.MachineLearningServices/workspaces", "mlw-research"))
    assert not of("private-endpoint-required", pack.analyze_stack([workspace(), pe, zone_group(pe, *ML_ZONES)]))


def test_public_resource_needs_no_endpoint(pack: Pack) -> None:
    assert not of("private-endpoint-required", pack.analyze_stack([workspace(public="Enabled")]))


def test_storage_needs_every_configured_group(pack: Pack) -> None:
    sa_id = arm_id("Microsoft.Storage/storageAccounts", "stdata")
    blob = endpoint("blob", "blob", sa_id)
    found = of("private-endpoint-required", pack.analyze_stack([storage(), blob]))
    assert len(found) == 1 and "file, dfs" in found[0].message
    pack.configure("prd", **{"private-endpoint-required": {"storageAccountGroupIds": ["blob"]}})
    assert not of("private-endpoint-required", pack.analyze_stack([storage(), blob]))


def test_unknown_target_id_in_preview_is_resolved_through_property_dependencies(pack: Pack) -> None:
    target = storage()
    endpoints = [
        endpoint(g, g, UNKNOWN, property_deps={"privateLinkServiceConnections": [target.urn]})
        for g in ("blob", "file", "dfs")
    ]
    assert not of("private-endpoint-required", pack.analyze_stack([target, *endpoints]))
    missing_dfs = endpoints[:2]
    found = of("private-endpoint-required", pack.analyze_stack([target, *missing_dfs]))
    assert len(found) == 1 and "dfs" in found[0].message


def test_unknown_target_id_falls_back_to_plain_dependencies(pack: Pack) -> None:
    pe = endpoint("ws", "amlworkspace", UNKNOWN, deps=(workspace().urn,))
    assert not of("private-endpoint-required", pack.analyze_stack([workspace(), pe]))


def test_endpoint_to_another_resource_does_not_count(pack: Pack) -> None:
    elsewhere = endpoint("ws", "amlworkspace", arm_id("Microsoft.MachineLearningServices/workspaces", "other"))
    assert of("private-endpoint-required", pack.analyze_stack([workspace(), elsewhere]))


def test_exempted_resource_is_skipped(pack: Pack) -> None:
    pack.configure(
        "prd",
        **{
            "private-endpoint-required": {
                "exemptions": [{"resource": "ws", "reason": "reached through the hub's endpoint"}]
            }
        },
    )
    assert not of("private-endpoint-required", pack.analyze_stack([workspace()]))


def test_endpoint_without_zone_group_is_flagged(pack: Pack) -> None:
    pe = endpoint("ws", "amlworkspace", arm_id("Microsoft.MachineLearningServices/workspaces", "mlw-research"))
    found = of("private-endpoint-dns-zone-group", pack.analyze_stack([workspace(), pe]))
    assert [d.urn for d in found] == [pe.urn] and found[0].level == "mandatory"


def test_zone_group_matched_by_endpoint_name_as_a_peer(pack: Pack) -> None:
    sa_id = arm_id("Microsoft.Storage/storageAccounts", "stdata")
    pe = endpoint("blob", "blob", sa_id)
    peer = zone_group(pe, "privatelink.blob.core.windows.net", parent=False)
    assert not of("private-endpoint-dns-zone-group", pack.analyze_stack([storage(), pe, peer]))


def test_workspace_endpoint_needs_both_azureml_zones(pack: Pack) -> None:
    pe = endpoint("ws", "amlworkspace", arm_id("Microsoft.MachineLearningServices/workspaces", "mlw-research"))
    found = of(
        "private-endpoint-dns-zone-group",
        pack.analyze_stack([workspace(), pe, zone_group(pe, "privatelink.api.azureml.ms")]),
    )
    assert len(found) == 1 and "privatelink.notebooks.azure.net" in found[0].message


def test_unknown_zone_ids_are_resolved_through_the_zones_the_program_wired(pack: Pack) -> None:
    pe = endpoint("ws", "amlworkspace", arm_id("Microsoft.MachineLearningServices/workspaces", "mlw-research"))
    zones = [StackResource(ZONE, z, {"privateZoneName": z, "resourceGroupName": RG}) for z in ML_ZONES]
    group = StackResource(
        ZG,
        "ws-dns",
        {
            "privateEndpointName": "pe-ws",
            "resourceGroupName": RG,
            "privateDnsZoneConfigs": [
                {"name": "api", "privateDnsZoneId": UNKNOWN},
                {"name": "nb", "privateDnsZoneId": UNKNOWN},
            ],
        },
        parent=pe.urn,
        property_dependencies={"privateDnsZoneConfigs": [z.urn for z in zones]},
    )
    assert not of("private-endpoint-dns-zone-group", pack.analyze_stack([workspace(), pe, *zones, group]))
    group.property_dependencies = {"privateDnsZoneConfigs": [zones[0].urn]}
    assert of("private-endpoint-dns-zone-group", pack.analyze_stack([workspace(), pe, *zones, group]))


def cluster(local_accounts_disabled: bool, aad: bool = True) -> StackResource:
    props: dict[str, Any] = {
        "resourceName": "aks-gpu",
        "resourceGroupName": RG,
        "disableLocalAccounts": local_accounts_disabled,
    }
    if aad:
        props["aadProfile"] = {"managed": True, "enableAzureRBAC": True}
    return StackResource(AKS, "aks", props)


def aml_extension() -> StackResource:
    return StackResource(
        EXT,
        "azureml",
        {
            "clusterName": "AKS-GPU",
            "clusterRp": "Microsoft.ContainerService",
            "clusterResourceName": "managedClusters",
            "extensionType": "Microsoft.AzureML.Kubernetes",
        },
    )


def test_aks_local_accounts(pack: Pack) -> None:
    assert not of("aks-local-accounts-disabled", pack.analyze_stack([cluster(True)]))
    found = of("aks-local-accounts-disabled", pack.analyze_stack([cluster(False)]))
    assert (
        len(found) == 1 and "disableLocalAccounts" in found[0].message and "disable_local_accounts" in found[0].message
    )
    # Entra ID integration moved to its own resource rule (aks-entra-id-rbac): one finding per fact, not two.
    assert not of("aks-local-accounts-disabled", pack.analyze_stack([cluster(True, aad=False)]))
    unset = cluster(True)
    del unset.props["disableLocalAccounts"]
    assert "Azure's default" in of("aks-local-accounts-disabled", pack.analyze_stack([unset]))[0].message


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_azure_ml_extension_exemption_is_visible_not_silent(pack: Pack, env: str) -> None:
    pack.configure(env)
    found = pack.analyze_stack([cluster(False), aml_extension()])
    assert not of("aks-local-accounts-disabled", found)
    notice = of("aks-local-accounts-azureml-exemption", found)
    assert len(notice) == 1 and notice[0].level == "advisory" and notice[0].urn == cluster(False).urn
    assert "exemption in effect" in notice[0].message and "Microsoft.AzureML.Kubernetes" in notice[0].message
    # no extension, or local accounts off: nothing to report
    assert not of("aks-local-accounts-azureml-exemption", pack.analyze_stack([cluster(False)]))
    assert not of("aks-local-accounts-azureml-exemption", pack.analyze_stack([cluster(True), aml_extension()]))


def test_azure_ml_extension_trade_off_is_configurable(pack: Pack) -> None:
    assert not of("aks-local-accounts-disabled", pack.analyze_stack([cluster(False), aml_extension()]))
    pack.configure("prd", **{"aks-local-accounts-disabled": {"allowWithAzureMLExtension": False}})
    assert of("aks-local-accounts-disabled", pack.analyze_stack([cluster(False), aml_extension()]))


KV = "azure-native:keyvault:Vault"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_private_endpoint_group_id_must_fit_the_target(pack: Pack, env: str) -> None:
    pack.configure(env)
    vault = StackResource(
        KV, "kv", {"vaultName": "kv-ml", "resourceGroupName": RG, "properties": {"publicNetworkAccess": "Disabled"}}
    )
    vault_id = arm_id("Microsoft.KeyVault/vaults", "kv-ml")
    good = pack.analyze_stack([vault, endpoint("kv", "vault", vault_id)])
    assert not of("private-endpoint-group-id-valid", good)
    wrong = of("private-endpoint-group-id-valid", pack.analyze_stack([vault, endpoint("kv", "blob", vault_id)]))
    assert len(wrong) == 1 and wrong[0].level == pack.levels["private-endpoint-group-id-valid"] == "mandatory"
    assert "blob" in wrong[0].message and "valid: vault" in wrong[0].message and wrong[0].urn == vault.urn
    # storage offers every service's sub-resource and its secondary
    secondary = pack.analyze_stack(
        [storage(), endpoint("st", "blob_secondary", arm_id("Microsoft.Storage/storageAccounts", "stdata"))]
    )
    assert not of("private-endpoint-group-id-valid", secondary)


def test_group_id_check_follows_the_wiring_when_the_id_is_unknown(pack: Pack) -> None:
    ws = workspace()
    pe = endpoint("ws", "registry", UNKNOWN, property_deps={"privateLinkServiceConnections": [ws.urn]})
    found = of("private-endpoint-group-id-valid", pack.analyze_stack([ws, pe]))
    assert len(found) == 1 and "registry" in found[0].message
