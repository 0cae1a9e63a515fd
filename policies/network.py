"""Network exposure: nothing reachable from the internet — public access off, firewalls default-deny, private
AKS API server, internal Container Apps, no public IPs on nodes, no anonymous blob access."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from ._props import (AKS_AGENT_POOL, AKS_CLUSTER, BATCH_ACCOUNT, BATCH_POOL, COGNITIVE_ACCOUNT, CONTAINER_APP,
                     CONTAINER_APPS_ENV, CONTAINER_REGISTRY, KEY_VAULT, ML_COMPUTE, ML_WORKSPACE, STORAGE_ACCOUNT, get,
                     is_false, is_true, items, mapping, same, text)
from ._rule import Resource, Rule

CONCERN = "network"

# Where each service keeps its public-network switch (some azure-native resources nest ARM `properties`).
PUBLIC_NETWORK_ACCESS: dict[str, tuple[str, ...]] = {
    ML_WORKSPACE: ("publicNetworkAccess",),
    STORAGE_ACCOUNT: ("publicNetworkAccess",),
    KEY_VAULT: ("properties", "publicNetworkAccess"),
    CONTAINER_REGISTRY: ("publicNetworkAccess",),
    BATCH_ACCOUNT: ("publicNetworkAccess",),
    COGNITIVE_ACCOUNT: ("properties", "publicNetworkAccess"),
}

# Where each service keeps its firewall default action.
DEFAULT_ACTION: dict[str, tuple[str, ...]] = {
    STORAGE_ACCOUNT: ("networkRuleSet", "defaultAction"),
    KEY_VAULT: ("properties", "networkAcls", "defaultAction"),
    COGNITIVE_ACCOUNT: ("properties", "networkAcls", "defaultAction"),
    CONTAINER_REGISTRY: ("networkRuleSet", "defaultAction"),
}


def _path(path: tuple[str, ...]) -> str:
    return ".".join(path)


def check_public_network_access(resource: Resource, _config: Mapping[str, Any]) -> Iterator[str]:
    path = PUBLIC_NETWORK_ACCESS[resource.type]
    value = get(resource.props, *path)
    if not same(value, "Disabled"):
        default = " (Azure's default is Enabled)" if value is None else ""
        yield f"{_path(path)} is {text(value)}{default}; it must be 'Disabled'."
    if resource.type == ML_WORKSPACE and is_true(resource.props.get("allowPublicAccessWhenBehindVnet")):
        yield "allowPublicAccessWhenBehindVnet is true, which re-opens the workspace to the internet."


def check_default_action(resource: Resource, _config: Mapping[str, Any]) -> Iterator[str]:
    path = DEFAULT_ACTION[resource.type]
    value = get(resource.props, *path)
    if same(value, "Deny"):
        return
    if resource.type == CONTAINER_REGISTRY and value is None and same(resource.props.get("publicNetworkAccess"),
                                                                      "Disabled"):
        return  # registry network rules are Premium-only; with public access disabled there is nothing to allow
    default = " (Azure's default is Allow)" if value is None else ""
    yield f"{_path(path)} is {text(value)}{default}; it must be 'Deny'."


def check_private_cluster(resource: Resource, _config: Mapping[str, Any]) -> Iterator[str]:
    value = get(resource.props, "apiServerAccessProfile", "enablePrivateCluster")
    if not is_true(value):
        yield f"apiServerAccessProfile.enablePrivateCluster is {text(value)}; it must be true."


def check_container_apps_internal(resource: Resource, _config: Mapping[str, Any]) -> Iterator[str]:
    if resource.type == CONTAINER_APPS_ENV:
        vnet = mapping(resource.props.get("vnetConfiguration"))
        if not is_true(vnet.get("internal")):
            yield f"vnetConfiguration.internal is {text(vnet.get('internal'))}; it must be true."
        if not vnet.get("infrastructureSubnetId"):
            yield "vnetConfiguration.infrastructureSubnetId is not set; the environment must be injected into a subnet."
    else:
        ingress = get(resource.props, "configuration", "ingress")
        if ingress is not None and is_true(get(ingress, "external")) and not _restricted_to_callers(ingress):
            yield ("configuration.ingress.external is true without IP rules; set it to false (internal ingress only), "
                   "or, in an internal environment, restrict it to the callers' ranges with Allow "
                   "ipSecurityRestrictions.")


def _restricted_to_callers(ingress: Any) -> bool:
    """VNet-wide ingress limited by Allow IP rules (all-Allow rules deny every other address), none of them
    0.0.0.0/0: the documented pattern for callers in the VNet of an internal environment (PSRule for Azure
    Azure.ContainerApp.RestrictIngress). The environment's own check still catches a public environment."""
    rules = items(get(ingress, "ipSecurityRestrictions"))
    return bool(rules) and all(same(get(r, "action"), "Allow") and str(get(r, "ipAddressRange") or "").strip()
                               not in ("", "0.0.0.0/0", "0.0.0.0", "*", "Internet") for r in rules)


def check_no_node_public_ip(resource: Resource, _config: Mapping[str, Any]) -> Iterator[str]:
    props = resource.props
    if resource.type == ML_COMPUTE:
        kind = get(props, "properties", "computeType")
        if not (same(kind, "AmlCompute") or same(kind, "ComputeInstance")):
            return  # attached compute (Kubernetes, VirtualMachine, ...) has no nodes of its own here
        inner = mapping(get(props, "properties", "properties"))
        value = inner.get("enableNodePublicIp")
        if not is_false(value):
            default = " (Azure's default is true)" if value is None else ""
            yield f"properties.properties.enableNodePublicIp is {text(value)}{default}; it must be false."
        ssh = inner.get("remoteLoginPortPublicAccess")
        if same(kind, "AmlCompute") and (same(ssh, "Enabled") or (same(ssh, "NotSpecified")
                                                                 and not get(inner, "subnet", "id"))):
            yield (f"properties.properties.remoteLoginPortPublicAccess is {text(ssh)} without a subnet, which opens "
                   "SSH on public node IPs; set it to 'Disabled'.")
    elif resource.type == AKS_AGENT_POOL:
        if is_true(props.get("enableNodePublicIP")):
            yield "enableNodePublicIP is true; it must be false."
    elif resource.type == AKS_CLUSTER:
        for i, profile in enumerate(items(props.get("agentPoolProfiles"))):
            if is_true(get(profile, "enableNodePublicIP")):
                yield f"agentPoolProfiles[{i}] ('{get(profile, 'name')}') has enableNodePublicIP true; it must be false."
    elif resource.type == BATCH_POOL:
        provision = get(props, "networkConfiguration", "publicIPAddressConfiguration", "provision")
        if not same(provision, "NoPublicIPAddresses"):
            default = " (Azure's default is BatchManaged, a public IP per node)" if provision is None else ""
            yield (f"networkConfiguration.publicIPAddressConfiguration.provision is {text(provision)}{default}; "
                   "it must be 'NoPublicIPAddresses'.")


def check_no_public_blob_access(resource: Resource, _config: Mapping[str, Any]) -> Iterator[str]:
    value = resource.props.get("allowBlobPublicAccess")
    if not is_false(value):
        yield f"allowBlobPublicAccess is {text(value)}; it must be explicitly false."


RULES = [
    Rule(
        name="public-network-access-disabled",
        concern=CONCERN,
        summary="Data-plane services (ML workspace, storage, Key Vault, ACR, Batch account, Cognitive Services) must "
                "have public network access disabled.",
        fix="Set publicNetworkAccess (Key Vault / Cognitive Services: properties.publicNetworkAccess) to 'Disabled' "
            "and reach the service through a private endpoint; on ML workspaces also leave "
            "allowPublicAccessWhenBehindVnet unset or false.",
        severity=Severity.HIGH,
        default_level=EnforcementLevel.MANDATORY,
        sources=("Azure Policy: Azure Machine Learning Workspaces should disable public network access",
                 "Azure Policy: Storage accounts should disable public network access",
                 "Azure Policy: Azure Key Vault should disable public network access",
                 "Azure Policy: Public network access should be disabled for Container registries",
                 "Azure Policy: Cognitive Services accounts should disable public network access",
                 "Checkov CKV_AZURE_144, CKV_AZURE_189, CKV_AZURE_139, CKV_AZURE_134"),
        resource_types=tuple(PUBLIC_NETWORK_ACCESS),
        check=check_public_network_access,
    ),
    Rule(
        name="network-default-action-deny",
        concern=CONCERN,
        summary="Service firewalls (storage, Key Vault, Cognitive Services, ACR) must deny by default.",
        fix="Set networkRuleSet.defaultAction (Key Vault / Cognitive Services: properties.networkAcls.defaultAction) "
            "to 'Deny' and allow only what must get through (trusted Azure services, specific subnets).",
        severity=Severity.MEDIUM,
        default_level=EnforcementLevel.MANDATORY,
        sources=("Azure Policy: Storage accounts should restrict network access",
                 "Azure Policy: Azure Key Vault should have firewall enabled",
                 "Azure Policy: Cognitive Services accounts should restrict network access",
                 "Azure Policy: Container registries should not allow unrestricted network access",
                 "Checkov CKV_AZURE_109"),
        resource_types=tuple(DEFAULT_ACTION),
        check=check_default_action,
    ),
    Rule(
        name="aks-private-cluster",
        concern=CONCERN,
        summary="AKS clusters must be private: the API server has no public endpoint.",
        fix="Set apiServerAccessProfile.enablePrivateCluster to true (with a private DNS zone) and reach the API "
            "server from the VNet, a jump host or `az aks command invoke`.",
        severity=Severity.HIGH,
        default_level=EnforcementLevel.MANDATORY,
        sources=("Azure Policy: Azure Kubernetes Service Private Clusters should be enabled", "Checkov CKV_AZURE_115"),
        resource_types=(AKS_CLUSTER,),
        check=check_private_cluster,
    ),
    Rule(
        name="container-apps-internal",
        concern=CONCERN,
        summary="Container Apps environments must be internal (VNet-injected, no public load balancer) and apps "
                "must not enable external ingress unless IP rules restrict it to their callers.",
        fix="Set vnetConfiguration.internal to true with vnetConfiguration.infrastructureSubnetId on the "
            "ManagedEnvironment, and configuration.ingress.external to false on each ContainerApp, or keep it true "
            "(VNet-wide in an internal environment) with Allow ipSecurityRestrictions for the callers' subnets.",
        severity=Severity.HIGH,
        default_level=EnforcementLevel.MANDATORY,
        sources=("Azure Policy: Container Apps environment should use network injection",
                 "Azure Policy: Container Apps should disable external network access",
                 "PSRule for Azure: Azure.ContainerApp.RestrictIngress"),
        resource_types=(CONTAINER_APPS_ENV, CONTAINER_APP),
        check=check_container_apps_internal,
    ),
    Rule(
        name="no-node-public-ip",
        concern=CONCERN,
        summary="Compute nodes (AML compute clusters, AKS node pools, Batch pools) must not get public IP addresses.",
        fix="AML compute: properties.properties.enableNodePublicIp false and remoteLoginPortPublicAccess "
            "'Disabled' (in a subnet); AKS: enableNodePublicIP false; Batch pool: "
            "networkConfiguration.publicIPAddressConfiguration.provision 'NoPublicIPAddresses' (in a subnet).",
        severity=Severity.HIGH,
        default_level=EnforcementLevel.MANDATORY,
        sources=("Checkov CKV_AZURE_143",
                 "Azure Policy: Azure Machine Learning Computes should be in a virtual network", "aiinfra"),
        resource_types=(ML_COMPUTE, AKS_AGENT_POOL, AKS_CLUSTER, BATCH_POOL),
        check=check_no_node_public_ip,
    ),
    Rule(
        name="storage-no-public-blob-access",
        concern=CONCERN,
        summary="Storage accounts must not allow anonymous (public) blob access.",
        fix="Set allowBlobPublicAccess to false explicitly.",
        severity=Severity.HIGH,
        default_level=EnforcementLevel.MANDATORY,
        sources=("Azure Policy: Storage account public access should be disallowed",),
        resource_types=(STORAGE_ACCOUNT,),
        check=check_no_public_blob_access,
    ),
]
