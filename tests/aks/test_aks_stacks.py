"""The AKS GPU cluster in our environments: what a platform engineer relies on, per environment, from the plans."""

from __future__ import annotations

import pytest
import yaml
from helpers import one, run_here, waits_for

CLUSTER = "azure-native:containerservice:ManagedCluster"
POOL = "azure-native:containerservice:AgentPool"
DES = "azure-native:compute:DiskEncryptionSet"
ZONE = "azure-native:privatedns:PrivateZone"
VNET = "azure-native:network:VirtualNetwork"


def aks_config(repo, env: str) -> dict:
    return yaml.safe_load((repo / f"Pulumi.{env}.yaml").read_text())["config"]["aiinfra:platform"]["aks"]


def gpu_pools(plan) -> dict[str, dict]:
    return {
        p.inputs["agentPoolName"]: p.inputs for p in plan.of_type(POOL) if p.inputs["vmSize"].startswith("Standard_N")
    }


def test_every_environment_has_a_private_aad_cluster_in_the_shared_zone(plan, env, repo):
    cluster = one(plan, CLUSTER).inputs
    access = cluster["apiServerAccessProfile"]
    assert access["enablePrivateCluster"] is True and access["enablePrivateClusterPublicFQDN"] is False
    zone = one(plan, ZONE, "shared-dns-westus3-azmk8s-io")
    assert zone.inputs["privateZoneName"] == "privatelink.westus3.azmk8s.io"
    assert access["privateDNSZone"] == zone.id
    aad = cluster["aadProfile"]
    assert aad["managed"] is True and aad["enableAzureRBAC"] is True
    assert aad["adminGroupObjectIDs"] == aks_config(repo, env)["adminGroupObjectIds"]
    network = cluster["networkProfile"]
    assert (network["networkPluginMode"], network["networkPolicy"]) == ("overlay", "cilium")
    assert network["outboundType"] == "userAssignedNATGateway"
    subnet = one(plan, "azure-native:network:Subnet", "shared-snet-aks")
    assert subnet.inputs["natGateway"]["id"]  # the egress the outbound type relies on
    assert all(
        p["vnetSubnetID"] == subnet.id for p in (*cluster["agentPoolProfiles"], *(r.inputs for r in plan.of_type(POOL)))
    )


def test_cluster_is_created_after_the_shared_zone_is_linked_to_the_vnet(plan):
    # Learn, "Create a private AKS cluster": the nodes resolve the API server's private FQDN through the zone linked
    # to their VNet, and AKS links a custom zone itself when no link exists; Learn, "What is a virtual network link?":
    # one link per zone and VNet, so the cluster must not race the shared services' link.
    cluster = one(plan, CLUSTER)
    link = one(plan, "azure-native:privatedns:VirtualNetworkLink", "shared-dns-westus3-azmk8s-io-link")
    zone = one(plan, ZONE, "shared-dns-westus3-azmk8s-io")
    assert link.parent == zone.urn and link.inputs["virtualNetwork"]["id"] == one(plan, VNET).id
    assert link.urn in cluster.dependencies


def test_gpu_pools_are_tainted_labelled_and_scale_to_zero(plan):
    pools = gpu_pools(plan)
    assert pools
    for name, pool in pools.items():
        assert "sku=gpu:NoSchedule" in pool["nodeTaints"], name
        assert pool["nodeLabels"]["workload"] in ("gpu-training", "gpu-inference"), name
        assert (pool["enableAutoScaling"], pool["minCount"]) == (True, 0), name
        assert pool["maxCount"] > 0 and pool["enableNodePublicIP"] is False, name


def test_dev_gpus_are_spot_and_evicted_for_capacity_only(plan_of):
    [pool] = gpu_pools(plan_of("dev")).values()
    assert pool["scaleSetPriority"] == "Spot"
    assert (pool["scaleSetEvictionPolicy"], pool["spotMaxPrice"]) == ("Delete", -1)
    assert "kubernetes.azure.com/scalesetpriority=spot:NoSchedule" in pool["nodeTaints"]
    assert one(plan_of("dev"), CLUSTER).inputs["sku"]["tier"] == "Free"


def test_prd_inference_pools_never_run_on_spot(plan_of):
    pools = gpu_pools(plan_of("prd"))
    inference = [p for p in pools.values() if p["nodeLabels"]["workload"] == "gpu-inference"]
    training = [p for p in pools.values() if p["nodeLabels"]["workload"] == "gpu-training"]
    assert inference and training
    assert all(p["scaleSetPriority"] == "Regular" and "spotMaxPrice" not in p for p in inference)
    assert all(p["scaleSetPriority"] == "Spot" for p in training)


def test_prd_has_the_sla_tier_zones_and_cmk_disks(plan_of):
    plan = plan_of("prd")
    cluster = one(plan, CLUSTER).inputs
    assert cluster["sku"] == {"name": "Base", "tier": "Standard"}
    assert cluster["agentPoolProfiles"][0]["availabilityZones"] == ["1", "2", "3"]
    des = one(plan, DES)
    key = one(plan, "azure-native:keyvault:Key", "shared-cmk")
    assert des.inputs["activeKey"]["keyUrl"] == key.outputs["keyUriWithVersion"]
    cmk_identity = one(plan, "azure-native:managedidentity:UserAssignedIdentity", "shared-cmk-id")
    assert des.inputs["identity"]["userAssignedIdentities"] == [cmk_identity.id]
    grant = one(plan, "azure-native:authorization:RoleAssignment", "shared-cmk-crypto-user")
    # The key permission exists, and has had time to take effect (a time.Sleep after it), before the DES uses it.
    assert waits_for(plan, des, grant.urn)
    assert cluster["diskEncryptionSetID"] == des.id


def test_cmk_follows_the_environment(plan, env):
    cluster = one(plan, CLUSTER).inputs
    assert ("diskEncryptionSetID" in cluster) is (env != "dev")
    assert len(plan.of_type(DES)) == (0 if env == "dev" else 1)


def test_azure_ml_extension_keeps_local_accounts_and_says_so(plan):
    cluster = one(plan, CLUSTER)
    extension = one(plan, "azure-native:kubernetesconfiguration:Extension")
    assert extension.inputs["extensionType"] == "Microsoft.AzureML.Kubernetes"
    assert cluster.urn in extension.property_dependencies["clusterName"]
    assert cluster.inputs["disableLocalAccounts"] is False
    assert any(cluster.inputs["resourceName"] in w and "local accounts ENABLED" in w for w in plan.warnings)


def test_our_stacks_attach_the_cluster_to_a_workspace_without_a_managed_network(plan):
    compute = one(plan, "azure-native:machinelearningservices:Compute", "aks-aml-compute")
    workspace = one(plan, "azure-native:machinelearningservices:Workspace", "ml-aksml-workspace")
    # Learn, managed network limitations: Kubernetes compute is not supported in a managed virtual network.
    assert workspace.inputs["managedNetwork"]["isolationMode"] == "Disabled"
    assert workspace.inputs["publicNetworkAccess"] == "Disabled"
    endpoint = one(plan, "azure-native:network:PrivateEndpoint", "ml-aksml-pe")
    assert (
        endpoint.inputs["subnet"]["id"] == one(plan, "azure-native:network:Subnet", "shared-snet-private-endpoints").id
    )
    assert compute.inputs["workspaceName"] == workspace.inputs["workspaceName"]
    assert compute.inputs["resourceGroupName"] == workspace.inputs["resourceGroupName"]
    assert compute.inputs["properties"]["computeType"] == "Kubernetes"
    assert compute.inputs["properties"]["resourceId"] == one(plan, CLUSTER).id
    assert compute.inputs["properties"]["disableLocalAuth"] is True
    assert compute.inputs["computeName"] == "aks-gpu"
    # Runs as the workspace's compute identity, once the workspace and that identity's grants exist.
    identity = one(plan, "azure-native:managedidentity:UserAssignedIdentity", "ml-aksml-compute-id")
    assert compute.inputs["identity"] == {"type": "UserAssigned", "userAssignedIdentities": [identity.id]}
    assert workspace.urn in compute.dependencies
    assert one(plan, "azure-native:kubernetesconfiguration:Extension").urn in compute.dependencies
    # The workspace's own identity holds the attach roles on the cluster before the attach.
    workspace_identity = one(plan, "azure-native:managedidentity:UserAssignedIdentity", "ml-aksml-id")
    cluster = one(plan, CLUSTER)
    attach = [
        r
        for r in plan.of_type("azure-native:authorization:RoleAssignment")
        if r.inputs["principalId"] == workspace_identity.outputs["principalId"] and r.inputs["scope"] == cluster.id
    ]
    assert {r.inputs["roleDefinitionId"].rsplit("/", 1)[-1] for r in attach} == {
        "acdd72a7-3385-48ef-bd42-f606fba81ae7",
        "85cb6faf-e071-4c9b-8136-154b5a04f717",
        "0ab0b1a8-8aac-4efd-b8c2-3ee1fb270be8",
    }
    assert all(r.urn in compute.dependencies for r in attach)
    namespace = one(plan, "azure-native:containerservice:ManagedNamespace")
    assert namespace.inputs["managedNamespaceName"] == compute.inputs["properties"]["properties"]["namespace"]
    assert namespace.urn in compute.dependencies
    # Every GPU pool is offered to jobs as an instance type.
    gpu_pools = {
        p.inputs["agentPoolName"]
        for p in plan.of_type("azure-native:containerservice:AgentPool")
        if "sku=gpu:NoSchedule" in (p.inputs.get("nodeTaints") or [])
    }
    assert gpu_pools and set(compute.inputs["properties"]["properties"]["instanceTypes"]) == gpu_pools
    assert (compute.replace_on_changes, compute.delete_before_replace) == (["properties"], True)


def test_https_inference_takes_its_certificate_from_pulumi_secrets(plan, env):
    extension = one(plan, "azure-native:kubernetesconfiguration:Extension")
    https = extension.inputs["configurationSettings"]["enableInference"] == "true"
    assert https is (env != "dev")
    assert not any("sslSecret" in key for key in extension.inputs["configurationSettings"])
    if https:
        assert extension.secret_inputs == ["configurationProtectedSettings"]
        assert extension.inputs["configurationProtectedSettings"] == "[secret]"
    else:
        assert "configurationProtectedSettings" not in extension.inputs


def test_baseline_on_every_pool_and_prd_system_pool_across_zones(plan, env):
    cluster = one(plan, CLUSTER).inputs
    assert cluster["addonProfiles"]["azurepolicy"] == {"enabled": True}
    assert cluster["securityProfile"]["defender"]["securityMonitoring"] == {"enabled": True}
    for pool in [*cluster["agentPoolProfiles"], *(p.inputs for p in plan.of_type(POOL))]:
        assert pool["enableEncryptionAtHost"] is True and pool["maxPods"] == 110
        assert pool["securityProfile"] == {"sshAccess": "Disabled"}
    if env == "prd":
        system = cluster["agentPoolProfiles"][0]
        assert system["minCount"] >= 3 and system["availabilityZones"] == ["1", "2", "3"]
    for pool in plan.of_type(POOL):
        if pool.inputs["scaleSetPriority"] == "Spot":
            assert pool.inputs["nodeLabels"]["kubernetes.azure.com/scalesetpriority"] == "spot"


def test_tls_secret_missing_or_in_plain_text_is_a_config_error(repo, tmp_path):
    text = (repo / "Pulumi.test.yaml").read_text()
    start = text.index("  aiinfra:aksInferenceTlsKey:")
    missing = tmp_path / "Pulumi.test.yaml"
    missing.write_text(text[:start])
    with pytest.raises(
        Exception,
        match=r"missing aiinfra:aksInferenceTlsKey: aiinfra:platform.aks.azureMlExtension "
        r"serves HTTPS inference.*pulumi config set --secret aiinfra:aksInferenceTlsKey",
    ):
        run_here(repo, "test", stack_file=missing)
    plain = tmp_path / "plain.yaml"
    plain.write_text(text[:start] + "  aiinfra:aksInferenceTlsKey: '-----BEGIN PRIVATE KEY-----'\n")
    with pytest.raises(Exception, match="aiinfra:aksInferenceTlsKey is stored in plain text; it must be a secret"):
        run_here(repo, "test", stack_file=plain)


def test_container_insights_and_control_plane_logs_reach_the_shared_workspace(plan):
    logs = one(plan, "azure-native:operationalinsights:Workspace")
    cluster = one(plan, CLUSTER)
    assert cluster.inputs["addonProfiles"]["omsagent"]["config"]["logAnalyticsWorkspaceResourceID"] == logs.id
    diagnostics = [
        d for d in plan.of_type("azure-native:monitor:DiagnosticSetting") if d.inputs["resourceUri"] == cluster.id
    ]
    assert [d.inputs["workspaceId"] for d in diagnostics] == [logs.id]
    rule = one(plan, "azure-native:monitor:DataCollectionRule")
    assert rule.inputs["destinations"]["logAnalytics"][0]["workspaceResourceId"] == logs.id
