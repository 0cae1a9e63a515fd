"""Network exposure: nothing reachable from the internet — public access off, firewalls default-deny, private
AKS API server, internal Container Apps, no public IPs on nodes, Batch pools in a VNet, no management ports open to
the internet, no anonymous blob access, no auto-approval bypass on private endpoints."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from ._props import (
    AKS_AGENT_POOL,
    AKS_CLUSTER,
    BATCH_ACCOUNT,
    BATCH_POOL,
    BLOB_CONTAINER,
    COGNITIVE_ACCOUNT,
    CONTAINER_APP,
    CONTAINER_APPS_ENV,
    CONTAINER_REGISTRY,
    KEY_VAULT,
    ML_COMPUTE,
    ML_WORKSPACE,
    NSG,
    NSG_RULE,
    PRIVATE_ENDPOINT,
    STORAGE_ACCOUNT,
    get,
    is_false,
    is_true,
    items,
    mapping,
    number,
    same,
    text,
)
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
    if (
        resource.type == CONTAINER_REGISTRY
        and value is None
        and same(resource.props.get("publicNetworkAccess"), "Disabled")
    ):
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
            yield (
                "configuration.ingress.external is true without IP rules; set it to false (internal ingress only), "
                "or, in an internal environment, restrict it to the callers' ranges with Allow "
                "ipSecurityRestrictions."
            )


def _restricted_to_callers(ingress: Any) -> bool:
    """VNet-wide ingress limited by Allow IP rules (all-Allow rules deny every other address), none of them
    0.0.0.0/0: the documented pattern for callers in the VNet of an internal environment (PSRule for Azure
    Azure.ContainerApp.RestrictIngress). The environment's own check still catches a public environment."""
    rules = items(get(ingress, "ipSecurityRestrictions"))
    return bool(rules) and all(
        same(get(r, "action"), "Allow")
        and str(get(r, "ipAddressRange") or "").strip() not in ("", "0.0.0.0/0", "0.0.0.0", "*", "Internet")
        for r in rules
    )


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
        if same(kind, "AmlCompute") and (
            same(ssh, "Enabled") or (same(ssh, "NotSpecified") and not get(inner, "subnet", "id"))
        ):
            yield (
                f"properties.properties.remoteLoginPortPublicAccess is {text(ssh)} without a subnet, which opens "
                "SSH on public node IPs; set it to 'Disabled'."
            )
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
            yield (
                f"networkConfiguration.publicIPAddressConfiguration.provision is {text(provision)}{default}; "
                "it must be 'NoPublicIPAddresses'."
            )


def check_no_public_blob_access(resource: Resource, _config: Mapping[str, Any]) -> Iterator[str]:
    if resource.type == BLOB_CONTAINER:
        access = resource.props.get("publicAccess")
        if access is not None and not same(access, "None"):
            yield (
                f"publicAccess is {text(access)}: anyone on the internet can read this container's blobs; set "
                "public_access 'None' (or leave it unset)."
            )
        return
    # Unset is compliant: "The default interpretation is false for this property" (Microsoft.Storage 2023-01-01 and
    # later; azure-native 3.x uses 2024-01-01, see the SDK's StorageAccount.allow_blob_public_access doc).
    value = resource.props.get("allowBlobPublicAccess")
    if is_true(value):
        yield "allowBlobPublicAccess is true; set allow_blob_public_access False (or leave it unset: off by default)."


def check_batch_pool_vnet(resource: Resource, _config: Mapping[str, Any]) -> Iterator[str]:
    if not get(resource.props, "networkConfiguration", "subnetId"):
        yield (
            "networkConfiguration.subnetId is not set, so the pool's nodes live outside your network; set "
            "network_configuration={'subnet_id': <subnet id>, 'public_ip_address_configuration': "
            "{'provision': 'NoPublicIPAddresses'}}."
        )


_OPEN_SOURCES = ("*", "internet", "any", "0.0.0.0/0", "0.0.0.0", "::/0")


def _port_ranges(rule: Mapping[str, Any]) -> list[tuple[float, float]]:
    ranges: list[tuple[float, float]] = []
    for raw in [rule.get("destinationPortRange"), *items(rule.get("destinationPortRanges"))]:
        if not isinstance(raw, (str, int, float)) or isinstance(raw, bool):
            continue
        value = str(raw).strip()
        if value == "*":
            ranges.append((0, 65535))
        elif "-" in value:
            low, high = (number(part) for part in value.split("-", 1))
            if low is not None and high is not None:
                ranges.append((low, high))
        elif (port := number(value)) is not None:
            ranges.append((port, port))
    return ranges


def _open_management_ports(rule: Mapping[str, Any], ports: list[float]) -> list[int]:
    if not (same(rule.get("direction"), "Inbound") and same(rule.get("access"), "Allow")):
        return []
    sources = [rule.get("sourceAddressPrefix"), *items(rule.get("sourceAddressPrefixes"))]
    if not any(isinstance(s, str) and s.strip().lower() in _OPEN_SOURCES for s in sources):
        return []
    ranges = _port_ranges(rule)
    return [int(p) for p in ports if any(low <= p <= high for low, high in ranges)]


def check_management_ports(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    ports = [float(p) for p in config["managementPorts"]]
    if resource.type == NSG_RULE:
        rules = [("", resource.props)]
    else:
        rules = [
            (f"securityRules[{i}] ('{get(r, 'name')}'): ", mapping(r))
            for i, r in enumerate(items(resource.props.get("securityRules")))
        ]
    for where, rule in rules:
        if open_ports := _open_management_ports(rule, ports):
            yield (
                f"{where}allows inbound {', '.join(map(str, open_ports))} from the internet "
                f"(sourceAddressPrefix {text(rule.get('sourceAddressPrefix'))}); restrict source_address_prefix "
                "to a bastion/VPN range or use Azure Bastion / just-in-time access."
            )


def check_manual_private_endpoint(resource: Resource, _config: Mapping[str, Any]) -> Iterator[str]:
    manual = items(resource.props.get("manualPrivateLinkServiceConnections"))
    if manual:
        names = ", ".join(str(get(c, "name") or i) for i, c in enumerate(manual))
        yield (
            f"manualPrivateLinkServiceConnections ({names}) wait for the target's owner to approve them; until "
            "then the endpoint carries no traffic. Use private_link_service_connections (auto-approved when you "
            "hold Microsoft.<service>/privateEndpointConnectionsApproval/action on the target), or exempt a "
            "cross-tenant endpoint with its reason."
        )


RULES = [
    Rule(
        name="public-network-access-disabled",
        concern=CONCERN,
        summary="Data-plane services (ML workspace, storage, Key Vault, ACR, Batch account, Cognitive Services) must "
        "have public network access disabled.",
        fix="public_network_access='Disabled' (Key Vault / Cognitive Services: properties={'public_network_access': "
        "'Disabled'}; ARM: properties.publicNetworkAccess) and reach the service through a private endpoint; on "
        "ML workspaces also leave allow_public_access_when_behind_vnet unset or False.",
        severity=Severity.HIGH,
        default_level=EnforcementLevel.MANDATORY,
        sources=(
            "Azure Policy: Azure Machine Learning Workspaces should disable public network access",
            "Azure Policy: Storage accounts should disable public network access",
            "Azure Policy: Azure Key Vault should disable public network access",
            "Azure Policy: Public network access should be disabled for Container registries",
            "Azure Policy: Cognitive Services accounts should disable public network access",
            "Checkov CKV_AZURE_144, CKV_AZURE_189, CKV_AZURE_139, CKV_AZURE_134",
        ),
        resource_types=tuple(PUBLIC_NETWORK_ACCESS),
        check=check_public_network_access,
    ),
    Rule(
        name="network-default-action-deny",
        concern=CONCERN,
        summary="Service firewalls (storage, Key Vault, Cognitive Services, ACR) must deny by default.",
        fix="Storage / ACR: network_rule_set={'default_action': 'Deny'}; Key Vault / Cognitive Services: "
        "properties={'network_acls': {'default_action': 'Deny'}} (ARM: properties.networkRuleSet.defaultAction / "
        "properties.networkAcls.defaultAction); allow only what must get through (trusted Azure services, "
        "specific subnets).",
        severity=Severity.MEDIUM,
        default_level=EnforcementLevel.MANDATORY,
        sources=(
            "Azure Policy: Storage accounts should restrict network access",
            "Azure Policy: Azure Key Vault should have firewall enabled",
            "Azure Policy: Cognitive Services accounts should restrict network access",
            "Azure Policy: Container registries should not allow unrestricted network access",
            "Checkov CKV_AZURE_109",
        ),
        resource_types=tuple(DEFAULT_ACTION),
        check=check_default_action,
    ),
    Rule(
        name="aks-private-cluster",
        concern=CONCERN,
        summary="AKS clusters must be private: the API server has no public endpoint.",
        fix="api_server_access_profile={'enable_private_cluster': True} (ARM: "
        "properties.apiServerAccessProfile.enablePrivateCluster) with a private DNS zone; reach the API server "
        "from the VNet, a jump host or `az aks command invoke`.",
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
        fix="ManagedEnvironment: vnet_configuration={'internal': True, 'infrastructure_subnet_id': ...} (ARM: "
        "properties.vnetConfiguration.internal / .infrastructureSubnetId); ContainerApp: "
        "configuration={'ingress': {'external': False}} (ARM: properties.configuration.ingress.external), or "
        "keep it true (VNet-wide in an internal environment) with Allow ip_security_restrictions for the "
        "callers' subnets (ARM: properties.configuration.ingress.ipSecurityRestrictions).",
        severity=Severity.HIGH,
        default_level=EnforcementLevel.MANDATORY,
        sources=(
            "Azure Policy: Container Apps environment should use network injection",
            "Azure Policy: Container Apps should disable external network access",
            "PSRule for Azure: Azure.ContainerApp.RestrictIngress",
        ),
        resource_types=(CONTAINER_APPS_ENV, CONTAINER_APP),
        check=check_container_apps_internal,
    ),
    Rule(
        name="no-node-public-ip",
        concern=CONCERN,
        summary="Compute nodes (AML compute clusters, AKS node pools, Batch pools) must not get public IP addresses.",
        fix="AML compute: AmlComputePropertiesArgs(enable_node_public_ip=False, "
        "remote_login_port_public_access='Disabled', subnet=...) (ARM: properties.properties.enableNodePublicIp "
        "/ .remoteLoginPortPublicAccess); AKS: enable_node_public_ip=False (ARM: "
        "properties.agentPoolProfiles[].enableNodePublicIP); Batch pool: "
        "network_configuration={'public_ip_address_configuration': {'provision': 'NoPublicIPAddresses'}, "
        "'subnet_id': ...} (ARM: properties.networkConfiguration.publicIPAddressConfiguration.provision).",
        severity=Severity.HIGH,
        default_level=EnforcementLevel.MANDATORY,
        sources=(
            "Checkov CKV_AZURE_143",
            "Azure Policy: Azure Machine Learning Computes should be in a virtual network",
            "aiinfra",
        ),
        resource_types=(ML_COMPUTE, AKS_AGENT_POOL, AKS_CLUSTER, BATCH_POOL),
        check=check_no_node_public_ip,
    ),
    Rule(
        name="storage-no-public-blob-access",
        concern=CONCERN,
        summary="Storage accounts must not allow anonymous (public) blob access and blob containers must not be "
        "public. Unset is compliant: off by default since Microsoft.Storage API 2023-01-01.",
        fix="StorageAccount: allow_blob_public_access False or unset (ARM: properties.allowBlobPublicAccess); "
        "BlobContainer: public_access 'None' or unset (ARM: properties.publicAccess).",
        severity=Severity.HIGH,
        default_level=EnforcementLevel.MANDATORY,
        sources=(
            "Azure Policy: Storage account public access should be disallowed",
            "Checkov CKV_AZURE_190, CKV_AZURE_34",
            "PSRule Azure.Storage.BlobPublicAccess, Azure.Storage.BlobAccessType",
        ),
        resource_types=(STORAGE_ACCOUNT, BLOB_CONTAINER),
        check=check_no_public_blob_access,
    ),
    Rule(
        name="batch-pool-in-vnet",
        concern=CONCERN,
        summary="Batch pools must be injected into a VNet subnet.",
        fix="batch.Pool(network_configuration={'subnet_id': <subnet id>, 'public_ip_address_configuration': "
        "{'provision': 'NoPublicIPAddresses'}}) (ARM: properties.networkConfiguration.subnetId); the subnet can "
        "only be set when the pool is created.",
        severity=Severity.HIGH,
        default_level=EnforcementLevel.MANDATORY,
        sources=(
            "Learn: Create an Azure Batch pool in a virtual network (learn.microsoft.com/azure/batch/"
            "batch-virtual-network)",
            "aiinfra",
        ),
        resource_types=(BATCH_POOL,),
        check=check_batch_pool_vnet,
    ),
    Rule(
        name="nsg-management-ports-closed",
        concern=CONCERN,
        summary="Network security groups must not allow inbound management ports (managementPorts: SSH, RDP, WinRM) "
        "from the internet (*, Internet, 0.0.0.0/0).",
        fix="Restrict source_address_prefix(es) of the Allow rule (ARM: securityRules[].properties."
        "sourceAddressPrefix) to a private range, or remove it and use Azure Bastion or just-in-time VM access.",
        severity=Severity.HIGH,
        default_level=EnforcementLevel.MANDATORY,
        sources=(
            "Checkov CKV_AZURE_9, CKV_AZURE_10",
            "PSRule Azure.NSG.AnyInboundSource",
            "Azure Policy: Management ports should be closed on your virtual machines "
            "(22730e10-96f6-4aac-ad84-9383d35b5917)",
        ),
        resource_types=(NSG, NSG_RULE),
        config={
            "managementPorts": {
                "type": "array",
                "items": {"type": "integer", "minimum": 0, "maximum": 65535},
                "uniqueItems": True,
                "default": [22, 3389, 5985, 5986],
                "description": "Ports that must never be open to the internet.",
            }
        },
        check=check_management_ports,
    ),
    Rule(
        name="private-endpoint-auto-approved",
        concern=CONCERN,
        summary="Private endpoints should use auto-approved connections; a manual connection carries no traffic "
        "until someone approves it on the target.",
        fix="Use private_link_service_connections instead of manual_private_link_service_connections (ARM: "
        "properties.privateLinkServiceConnections vs .manualPrivateLinkServiceConnections); exempt an endpoint "
        "into another tenant with the reason.",
        severity=Severity.LOW,
        default_level=EnforcementLevel.ADVISORY,
        sources=(
            "Learn: Manage Azure private endpoints — private endpoint connections and approval "
            "(learn.microsoft.com/azure/private-link/manage-private-endpoint)",
            "aiinfra",
        ),
        resource_types=(PRIVATE_ENDPOINT,),
        check=check_manual_private_endpoint,
    ),
]
