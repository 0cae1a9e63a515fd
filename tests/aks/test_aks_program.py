"""AksGpuCluster used from another Pulumi program (tests/aks/program): a network, key and workspace made elsewhere,
handed over as plain ids. Assertions on the recorded plan, as `pulumi preview` would register it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pytest
from helpers import children, fake_shared_ref, one, run_here

from aiinfra.components._base import ComponentArgsError
from aiinfra.components.aks_gpu_cluster import (
    CONTROL_PLANE_LOG_CATEGORIES,
    AksGpuCluster,
    AksGpuClusterArgs,
    AmlAttachment,
)
from aiinfra.components.interfaces import RBAC_PROPAGATION_WAIT
from aiinfra.components.shared_services import SharedServicesRef
from aiinfra.engine import Plan, Registration
from aiinfra.engine.arm import SUBSCRIPTION_ID

PROGRAM = Path(__file__).resolve().parent / "program"
CLUSTER = "azure-native:containerservice:ManagedCluster"
POOL = "azure-native:containerservice:AgentPool"
ROLE = "azure-native:authorization:RoleAssignment"
COMPONENT = "aiinfra:aks:AksGpuCluster"
ROLE_IDS = {
    "Private DNS Zone Contributor": "b12aa53e-6015-4669-85d0-8515ebb3ae7f",
    "Reader": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
    "Kubernetes Extension Contributor": "85cb6faf-e071-4c9b-8136-154b5a04f717",
    "Azure Kubernetes Service Cluster Admin Role": "0ab0b1a8-8aac-4efd-b8c2-3ee1fb270be8",
    "Network Contributor": "4d97b98b-1d4f-4787-a291-c67834d212e7",
    "AcrPull": "7f951dda-4ed3-4680-a7ca-43fe172d538d",
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
}


@pytest.fixture(scope="module")
def plan() -> Plan:
    return run_here(PROGRAM, "dev")


def in_component(plan: Plan, component: str, type_token: str) -> list[Registration]:
    parent = one(plan, COMPONENT, component)
    return children(plan, parent, type_token)


def role_of(assignment: Registration) -> str:
    guid = assignment.inputs["roleDefinitionId"].rsplit("/", 1)[-1]
    return next(name for name, known in ROLE_IDS.items() if known == guid)


def test_cluster_is_private_behind_the_shared_zone_and_aad_only_for_kubernetes_rbac(plan):
    cluster = one(plan, CLUSTER, "ml-cluster").inputs
    access = cluster["apiServerAccessProfile"]
    assert access["enablePrivateCluster"] is True and access["enablePrivateClusterPublicFQDN"] is False
    assert access["privateDNSZone"].endswith("/privateDnsZones/privatelink.eastus.azmk8s.io")
    aad = cluster["aadProfile"]
    assert aad["managed"] is True and aad["enableAzureRBAC"] is True
    assert aad["adminGroupObjectIDs"] == ["5b6f0c1e-0d8a-4a51-9a57-3c2f8e1b7d44"]
    assert cluster["enableRBAC"] is True
    assert cluster["oidcIssuerProfile"] == {"enabled": True}
    assert cluster["securityProfile"]["workloadIdentity"] == {"enabled": True}
    secrets = cluster["addonProfiles"]["azureKeyvaultSecretsProvider"]
    assert secrets["enabled"] is True and secrets["config"]["enableSecretRotation"] == "true"


def test_custom_dns_zone_needs_a_user_assigned_identity_granted_before_the_cluster(plan):
    cluster = one(plan, CLUSTER, "ml-cluster")
    identity = one(plan, "azure-native:managedidentity:UserAssignedIdentity", "ml-id")
    assert cluster.inputs["identity"] == {"type": "UserAssigned", "userAssignedIdentities": [identity.id]}
    grants = {
        role_of(r): r
        for r in in_component(plan, "ml", ROLE)
        if r.inputs["principalId"] == identity.outputs["principalId"]
    }
    assert set(grants) == {"Private DNS Zone Contributor", "Network Contributor", "Reader"}
    zone = cluster.inputs["apiServerAccessProfile"]["privateDNSZone"]
    assert grants["Private DNS Zone Contributor"].inputs["scope"] == zone
    assert grants["Network Contributor"].inputs["scope"].endswith("/virtualNetworks/vnet-acme")
    for grant in grants.values():
        assert grant.urn in cluster.dependencies


def test_cluster_waits_for_the_zone_link_the_ref_names(plan):
    # A hand-built ref may name what links the zone to the VNet (SharedServicesRef.private_dns_zone_links); a ref
    # that names none (the zone is linked elsewhere, or AKS links it) adds no wait.
    link = one(plan, "azure-native:privatedns:VirtualNetworkLink", "plain-zone-link")
    assert link.urn in one(plan, CLUSTER, "plain-cluster").dependencies
    ml = one(plan, CLUSTER, "ml-cluster")
    assert not [r for r in plan.resources if r.type == link.type and r.urn in ml.dependencies]


def _waits_for(plan: Plan, resource: Registration, grants: list[Registration]) -> bool:
    """`resource` depends on a time Sleep (the RBAC propagation wait) that itself depends on every grant."""
    sleeps = [r for r in plan.resources if r.type == "time:index/sleep:Sleep" and r.urn in resource.dependencies]
    return any(
        s.inputs["createDuration"] == RBAC_PROPAGATION_WAIT and {g.urn for g in grants} <= set(s.dependencies)
        for s in sleeps
    )


def test_cluster_waits_for_its_identity_grants_to_propagate(plan):
    # Role assignments take effect minutes after ARM returns them; AKS checks the zone/subnet/DES grants at create.
    cluster = one(plan, CLUSTER, "ml-cluster")
    identity = one(plan, "azure-native:managedidentity:UserAssignedIdentity", "ml-id")
    grants = [r for r in in_component(plan, "ml", ROLE) if r.inputs["principalId"] == identity.outputs["principalId"]]
    assert len(grants) == 3 and _waits_for(plan, cluster, grants)


def test_attach_waits_for_the_workspace_identity_grants_to_propagate(plan):
    compute = one(plan, "azure-native:machinelearningservices:Compute")
    grants = [
        r for r in in_component(plan, "ml", ROLE) if r.inputs["principalId"] == "2c9d7e10-4b3a-4f5e-8a6b-1d2c3e4f5a6b"
    ]
    assert len(grants) == 3 and _waits_for(plan, compute, grants)


def test_overlay_networking_with_network_policy_and_nat_egress(plan):
    ml = one(plan, CLUSTER, "ml-cluster").inputs["networkProfile"]
    assert (ml["networkPlugin"], ml["networkPluginMode"]) == ("azure", "overlay")
    assert (ml["networkPolicy"], ml["networkDataplane"]) == ("cilium", "cilium")
    assert ml["outboundType"] == "userAssignedNATGateway"
    assert (ml["podCidr"], ml["serviceCidr"], ml["dnsServiceIP"]) == ("192.168.0.0/16", "172.16.0.0/16", "172.16.0.10")
    plain = one(plan, CLUSTER, "plain-cluster").inputs["networkProfile"]
    assert (plain["networkPolicy"], plain["networkDataplane"]) == ("calico", "azure")


def test_only_the_tainted_system_pool_is_inline_and_the_cluster_ignores_that_list(plan):
    cluster = one(plan, CLUSTER, "ml-cluster")
    [system] = cluster.inputs["agentPoolProfiles"]
    assert system["mode"] == "System" and system["nodeTaints"] == ["CriticalAddonsOnly=true:NoSchedule"]
    assert system["enableAutoScaling"] is True and system["minCount"] >= 1
    assert cluster.ignore_changes == ["agentPoolProfiles"]
    pools = in_component(plan, "ml", POOL)
    assert sorted(p.inputs["agentPoolName"] for p in pools) == ["a100mig", "services", "t4spot"]
    for pool in pools:
        assert pool.inputs["resourceName"] == cluster.inputs["resourceName"]
        assert pool.inputs["enableNodePublicIP"] is False
        assert pool.inputs["vnetSubnetID"].endswith("/subnets/aks")
        assert pool.ignore_changes[0] == "count"  # the autoscaler owns the count


def test_pools_are_created_one_after_another(plan):
    pools = {p.inputs["agentPoolName"]: p for p in in_component(plan, "ml", POOL)}
    assert pools["services"].urn in pools["a100mig"].dependencies
    assert pools["a100mig"].urn in pools["t4spot"].dependencies


def test_gpu_pools_taints_labels_spot_and_mig(plan):
    pools = {p.inputs["agentPoolName"]: p.inputs for p in plan.of_type(POOL)}
    spot = pools["t4spot"]
    assert spot["vmSize"] == "Standard_NC4as_T4_v3"
    assert (spot["scaleSetPriority"], spot["scaleSetEvictionPolicy"], spot["spotMaxPrice"]) == ("Spot", "Delete", -1)
    assert spot["nodeTaints"] == ["sku=gpu:NoSchedule", "kubernetes.azure.com/scalesetpriority=spot:NoSchedule"]
    assert (spot["enableAutoScaling"], spot["minCount"], spot["maxCount"]) == (True, 0, 4)
    mig = pools["a100mig"]
    assert mig["gpuInstanceProfile"] == "MIG3g" and mig["scaleSetPriority"] == "Regular"
    assert mig["nodeLabels"] == {"workload": "gpu-inference"} and mig["nodeTaints"] == ["sku=gpu:NoSchedule"]
    assert "gpuInstanceProfile" not in spot
    fixed = pools["gpu"]
    assert (fixed["enableAutoScaling"], fixed["count"]) == (False, 2) and "minCount" not in fixed
    assert pools["services"]["nodeLabels"] == {"workload": "services"} and "nodeTaints" not in pools["services"]


def test_spot_pools_declare_the_label_aks_adds_and_autoscaled_pools_ignore_their_count(plan):
    # A label update replaces the whole set and one without AKS's Spot label strips it (Azure/AKS#3152); ignoring it
    # in diffs would keep the old input, which never had it. Declared, every PUT carries it and the API's answer
    # equals the input.
    pools = {p.inputs["agentPoolName"]: p for p in plan.of_type(POOL)}
    assert pools["t4spot"].inputs["nodeLabels"]["kubernetes.azure.com/scalesetpriority"] == "spot"
    assert "kubernetes.azure.com/scalesetpriority" not in pools["a100mig"].inputs["nodeLabels"]
    ignored = {name: p.ignore_changes for name, p in pools.items()}
    assert ignored["t4spot"] == ["count"] and ignored["a100mig"] == ["count"] and ignored["gpu"] == []


def test_every_pool_encrypts_at_host_sets_max_pods_and_has_no_ssh(plan):
    ml = one(plan, CLUSTER, "ml-cluster").inputs["agentPoolProfiles"]
    pools = [*ml, *(p.inputs for p in in_component(plan, "ml", POOL))]
    for pool in pools:
        assert pool["enableEncryptionAtHost"] is True, pool["name"] if "name" in pool else pool["agentPoolName"]
        assert pool["maxPods"] == 110
        assert pool["securityProfile"] == {"sshAccess": "Disabled"}
    # A team whose sizes lack the capability turns it off explicitly.
    assert all(p.inputs["enableEncryptionAtHost"] is False for p in in_component(plan, "plain", POOL))


def test_azure_policy_and_defender_are_on_by_default(plan):
    ml = one(plan, CLUSTER, "ml-cluster").inputs
    assert ml["addonProfiles"]["azurepolicy"] == {"enabled": True}
    defender = ml["securityProfile"]["defender"]
    assert defender == {
        "logAnalyticsWorkspaceResourceId": ml["addonProfiles"]["omsagent"]["config"]["logAnalyticsWorkspaceResourceID"],
        "securityMonitoring": {"enabled": True},
    }
    assert "defender" not in one(plan, CLUSTER, "plain-cluster").inputs["securityProfile"]


def test_node_disks_use_the_customer_managed_key_through_a_disk_encryption_set(plan):
    des = one(plan, "azure-native:compute:DiskEncryptionSet")
    assert des.parent == one(plan, COMPONENT, "ml").urn
    assert (
        des.inputs["activeKey"]["keyUrl"]
        == "https://kv-acme.vault.azure.net/keys/disks/0123456789abcdef0123456789abcdef"
    )
    assert des.inputs["identity"]["type"] == "UserAssigned"
    assert des.inputs["identity"]["userAssignedIdentities"][0].endswith("/userAssignedIdentities/id-disks")
    assert des.inputs["encryptionType"] == "EncryptionAtRestWithCustomerKey"
    assert des.inputs["rotationToLatestKeyVersionEnabled"] is True
    assert one(plan, CLUSTER, "ml-cluster").inputs["diskEncryptionSetID"] == des.id
    assert "diskEncryptionSetID" not in one(plan, CLUSTER, "plain-cluster").inputs
    # Learn, AKS BYOK: the cluster identity reads the DES; granted before the cluster is created.
    identity = one(plan, "azure-native:managedidentity:UserAssignedIdentity", "ml-id")
    [reader] = [r for r in in_component(plan, "ml", ROLE) if r.inputs["scope"] == des.id]
    assert role_of(reader) == "Reader" and reader.inputs["principalId"] == identity.outputs["principalId"]
    assert reader.urn in one(plan, CLUSTER, "ml-cluster").dependencies


def test_tiers_upgrades_and_maintenance_windows(plan):
    cluster = one(plan, CLUSTER, "ml-cluster").inputs
    assert cluster["sku"] == {"name": "Base", "tier": "Standard"}
    assert one(plan, CLUSTER, "plain-cluster").inputs["sku"]["tier"] == "Free"
    assert cluster["autoUpgradeProfile"] == {"upgradeChannel": "patch", "nodeOSUpgradeChannel": "NodeImage"}
    assert cluster["autoScalerProfile"]["scaleDownUnneededTime"] == "10m"
    windows = {
        m.inputs["configName"]: m.inputs
        for m in in_component(plan, "ml", "azure-native:containerservice:MaintenanceConfiguration")
    }
    assert set(windows) == {"aksManagedAutoUpgradeSchedule", "aksManagedNodeOSUpgradeSchedule"}
    window = windows["aksManagedAutoUpgradeSchedule"]["maintenanceWindow"]
    assert window["schedule"] == {"weekly": {"dayOfWeek": "Sunday", "intervalWeeks": 1}}
    assert window["durationHours"] >= 4


def test_control_plane_logs_and_container_insights_go_to_log_analytics(plan):
    cluster = one(plan, CLUSTER, "ml-cluster")
    [diag] = [d for d in in_component(plan, "ml", "azure-native:monitor:DiagnosticSetting")]
    assert diag.inputs["resourceUri"] == cluster.id
    assert [log["category"] for log in diag.inputs["logs"]] == list(CONTROL_PLANE_LOG_CATEGORIES)
    assert {"kube-apiserver", "kube-audit-admin", "cluster-autoscaler", "guard"} <= set(CONTROL_PLANE_LOG_CATEGORIES)
    oms = cluster.inputs["addonProfiles"]["omsagent"]
    assert oms["config"]["useAADAuth"] == "true"
    [rule] = in_component(plan, "ml", "azure-native:monitor:DataCollectionRule")
    assert rule.inputs["dataFlows"] == [
        {"streams": ["Microsoft-ContainerInsights-Group-Default"], "destinations": ["ciworkspace"]}
    ]
    [association] = in_component(plan, "ml", "azure-native:monitor:DataCollectionRuleAssociation")
    assert (association.inputs["resourceUri"], association.inputs["dataCollectionRuleId"]) == (cluster.id, rule.id)


def test_kubelet_pulls_from_the_shared_registry(plan):
    cluster = one(plan, CLUSTER, "ml-cluster")
    kubelet = cluster.outputs["identityProfile"]["kubeletidentity"]["objectId"]
    [pull] = [r for r in in_component(plan, "ml", ROLE) if r.inputs["principalId"] == kubelet]
    assert role_of(pull) == "AcrPull" and pull.inputs["scope"].endswith("/registries/cracme")


def test_azure_ml_extension_and_attachment_to_a_workspace_by_name(plan):
    cluster = one(plan, CLUSTER, "ml-cluster")
    extension = one(plan, "azure-native:kubernetesconfiguration:Extension")
    assert extension.inputs["extensionType"] == "Microsoft.AzureML.Kubernetes"
    assert (extension.inputs["clusterRp"], extension.inputs["clusterResourceName"]) == (
        "Microsoft.ContainerService",
        "managedClusters",
    )
    assert extension.inputs["clusterName"] == cluster.inputs["resourceName"]
    assert cluster.urn in extension.property_dependencies["clusterName"]
    assert extension.inputs["scope"] == {"cluster": {"releaseNamespace": "azureml"}}
    settings = extension.inputs["configurationSettings"]
    assert (settings["enableTraining"], settings["enableInference"]) == ("true", "true")
    assert settings["internalLoadBalancerProvider"] == "azure" and settings["allowInsecureConnections"] == "false"
    # Installed once the pools exist: its services need nodes.
    assert {p.urn for p in in_component(plan, "ml", POOL)} <= set(extension.dependencies)

    compute = one(plan, "azure-native:machinelearningservices:Compute")
    assert (compute.inputs["workspaceName"], compute.inputs["resourceGroupName"]) == ("mlw-shared", "rg-ml-platform")
    assert compute.inputs["computeName"] == "acme-aks"
    properties = compute.inputs["properties"]
    assert properties["computeType"] == "Kubernetes" and properties["resourceId"] == cluster.id
    assert properties["properties"]["namespace"] == "azureml-workloads"
    assert set(properties["properties"]["instanceTypes"]) == {"a100mig", "t4spot"}
    assert extension.urn in compute.dependencies
    # Azure AD only, and replaced (never updated in place, name kept) when its properties change.
    assert properties["disableLocalAuth"] is True
    assert (compute.replace_on_changes, compute.delete_before_replace) == (["properties"], True)
    # The namespace exists before the attach (an AKS managed namespace, open to the router in `azureml`).
    namespace = one(plan, "azure-native:containerservice:ManagedNamespace")
    assert namespace.inputs["managedNamespaceName"] == "azureml-workloads"
    assert namespace.inputs["resourceName"] == cluster.inputs["resourceName"]
    assert namespace.inputs["properties"]["defaultNetworkPolicy"] == {"ingress": "AllowAll", "egress": "AllowAll"}
    assert namespace.urn in compute.dependencies
    # Learn, attach prerequisites: the workspace's user-assigned identity holds these roles on the cluster first.
    attach_roles = [
        r for r in in_component(plan, "ml", ROLE) if r.inputs["principalId"] == "2c9d7e10-4b3a-4f5e-8a6b-1d2c3e4f5a6b"
    ]
    assert {role_of(r) for r in attach_roles} == {
        "Reader",
        "Kubernetes Extension Contributor",
        "Azure Kubernetes Service Cluster Admin Role",
    }
    assert all(r.inputs["scope"] == cluster.id and r.urn in compute.dependencies for r in attach_roles)
    principal = compute.outputs["identity"]["principalId"]
    grants = {
        role_of(r): r.inputs["scope"] for r in in_component(plan, "ml", ROLE) if r.inputs["principalId"] == principal
    }
    assert grants == {
        "AcrPull": f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/rg-net/providers/"
        "Microsoft.ContainerRegistry/registries/cracme",
        "Storage Blob Data Contributor": f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/rg-net/"
        "providers/Microsoft.Storage/storageAccounts/stacme",
    }


def test_router_certificate_and_key_are_protected_settings_and_secret(plan):
    extension = one(plan, "azure-native:kubernetesconfiguration:Extension")
    settings = extension.inputs["configurationSettings"]
    assert not any("sslSecret" in key for key in settings)  # no Kubernetes secret the new cluster cannot hold
    assert settings["sslCname"] == "ml.acme.internal"
    # The whole protected map is a secret: recorded as `[secret]`, as `pulumi preview` shows it.
    assert extension.secret_inputs == ["configurationProtectedSettings"]
    assert extension.inputs["configurationProtectedSettings"] == "[secret]"


def test_local_accounts_trade_off_setting_and_warning(plan):
    assert one(plan, CLUSTER, "ml-cluster").inputs["disableLocalAccounts"] is False
    assert one(plan, CLUSTER, "plain-cluster").inputs["disableLocalAccounts"] is True
    [warning] = [w for w in plan.warnings if "local accounts" in w]
    assert "'aks-acme-ml-eus' keeps local accounts ENABLED" in warning
    assert "Azure ML extension" in warning and "listClusterAdminCredential" in warning
    assert "aks-acme-plain-eus" not in " ".join(plan.warnings)


def test_component_outputs(plan):
    outputs = plan.component_outputs[one(plan, COMPONENT, "ml").urn]
    cluster = one(plan, CLUSTER, "ml-cluster")
    assert outputs["clusterId"] == cluster.id
    assert outputs["oidcIssuerUrl"].startswith("https://")
    assert outputs["gpuPoolNames"] == ["a100mig", "t4spot"]
    assert outputs["amlComputeId"] == one(plan, "azure-native:machinelearningservices:Compute").id
    assert plan.component_outputs[one(plan, COMPONENT, "plain").urn].get("diskEncryptionSetId") is None


def _ref(**overrides: Any) -> SharedServicesRef:
    zone = "privatelink.eastus.azmk8s.io"
    return fake_shared_ref(
        "eastus", **{"aks_subnet_id": "/aks", "private_dns_zone_ids": {zone: f"/zones/{zone}"}, **overrides}
    )


@pytest.fixture
def no_registration(monkeypatch):
    """Any resource registration (component or cloud resource) fails the test."""

    def register(self, *args, **kwargs):
        raise AssertionError(f"{type(self).__name__} was registered")

    monkeypatch.setattr(pulumi.ComponentResource, "__init__", register)
    monkeypatch.setattr(pulumi.CustomResource, "__init__", register)


@pytest.mark.parametrize(
    "overrides, expected",
    [
        ({"aks_subnet_id": None}, "shared.aks_subnet_id is required"),
        ({"private_dns_zone_ids": {}}, "no private DNS zone privatelink.eastus.azmk8s.io"),
    ],
)
def test_unusable_shared_services_fail_before_anything_is_registered(no_registration, overrides, expected):
    shared = _ref(**overrides)
    args = AksGpuClusterArgs(
        naming=shared.naming,
        resource_group_name="rg",
        shared=shared,
        defender=False,
        admin_group_object_ids=["5b6f0c1e-0d8a-4a51-9a57-3c2f8e1b7d44"],
    )
    with pytest.raises(ComponentArgsError, match=expected):
        AksGpuCluster("broken", args)


def test_attachment_without_the_extension_is_rejected():
    shared = _ref()
    with pytest.raises(ComponentArgsError, match="amlAttachment needs azureMlExtension"):
        AksGpuClusterArgs(
            naming=shared.naming,
            resource_group_name="rg",
            shared=shared,
            admin_group_object_ids=["5b6f0c1e-0d8a-4a51-9a57-3c2f8e1b7d44"],
            aml_attachment=AmlAttachment(workspace_name="w", workspace_resource_group_name="rg"),
        )
