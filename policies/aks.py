"""AKS cluster and node-pool baseline: Entra ID with Azure RBAC, a real network policy, encryption at host, no SSH
to nodes, KMS etcd encryption, the Azure Policy add-on and the Defender profile, and GPU pools shaped to cost nothing
when idle.

Pools can be written inline (`ManagedCluster.agentPoolProfiles[i]`) or as separate `AgentPool` resources; every pool
rule reads both. Unset properties are judged by the AKS API version azure-native 3.x uses (2025-09-01): its enum
docs say an unset `networkPolicy` means `none`, an unset `sshAccess` means `LocalUser`, an unset
`scaleSetEvictionPolicy` means `Delete`, and `enableEncryptionAtHost` / `azureKeyVaultKms.enabled` default to false.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from aiinfra.catalog.pools import agent_pools, pools

from ._props import AKS_AGENT_POOL, AKS_CLUSTER, get, is_false, is_true, mapping, same, text
from ._rule import Resource, Rule

ACCEPTED_NETWORK_POLICIES = ("azure", "calico", "cilium")


def node_pools(resource: Resource) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    """(label for messages, property-path prefix, wire properties) of each pool the resource defines."""
    for name, where, pool in agent_pools(resource.type, resource.name, resource.props):
        yield f"node pool '{name}'", where, pool


def check_entra_id_rbac(resource: Resource, _config: Mapping[str, Any]) -> Iterator[str]:
    props = resource.props
    if is_false(props.get("enableRBAC")):
        yield "enableRBAC is false; Kubernetes RBAC must stay on (enable_rbac / enableRBAC true, Azure's default)."
    aad = props.get("aadProfile")
    if aad is None:
        yield (
            "aadProfile is not set; integrate the cluster with Entra ID: aad_profile={'managed': True, "
            "'enable_azure_rbac': True} (ARM: properties.aadProfile.managed, .enableAzureRBAC)."
        )
        return
    if is_false(get(aad, "managed")):
        yield "aadProfile.managed is false; legacy (unmanaged) Entra ID integration is deprecated; set it to true."
    if not is_true(get(aad, "enableAzureRBAC")):
        yield (
            f"aadProfile.enableAzureRBAC is {text(get(aad, 'enableAzureRBAC'))}; set aad_profile.enable_azure_rbac "
            "true so Kubernetes authorization is granted with Azure role assignments."
        )


def check_network_policy(resource: Resource, _config: Mapping[str, Any]) -> Iterator[str]:
    network = mapping(resource.props.get("networkProfile"))
    plugin, policy = network.get("networkPlugin"), network.get("networkPolicy")
    if same(plugin, "kubenet"):
        yield (
            "networkProfile.networkPlugin is 'kubenet' (retiring, no Azure network policy); use network_plugin "
            "'azure' with network_plugin_mode 'overlay'."
        )
    if not any(same(policy, accepted) for accepted in ACCEPTED_NETWORK_POLICIES):
        default = " (Azure's default: no network policy)" if policy is None else ""
        yield (
            f"networkProfile.networkPolicy is {text(policy)}{default}; set network_profile.network_policy to "
            f"one of {', '.join(ACCEPTED_NETWORK_POLICIES)} so pod traffic can be restricted."
        )


def check_encryption_at_host(resource: Resource, _config: Mapping[str, Any]) -> Iterator[str]:
    for label, where, pool in node_pools(resource):
        if not is_true(pool.get("enableEncryptionAtHost")):
            yield (
                f"{label}: {where}enableEncryptionAtHost is {text(pool.get('enableEncryptionAtHost'))} (Azure's "
                "default: false, so temp disks and caches are not encrypted); set enable_encryption_at_host true."
            )


def check_ssh_disabled(resource: Resource, _config: Mapping[str, Any]) -> Iterator[str]:
    for label, where, pool in node_pools(resource):
        access = get(pool, "securityProfile", "sshAccess")
        if not same(access, "Disabled"):
            default = " (Azure's default: LocalUser)" if access is None else ""
            yield (
                f"{label}: {where}securityProfile.sshAccess is {text(access)}{default}; set "
                "security_profile={'ssh_access': 'Disabled'} (debug nodes with `kubectl debug node/...`)."
            )


def check_kms(resource: Resource, _config: Mapping[str, Any]) -> Iterator[str]:
    kms = mapping(get(resource.props, "securityProfile", "azureKeyVaultKms"))
    if not is_true(kms.get("enabled")):
        yield (
            f"securityProfile.azureKeyVaultKms.enabled is {text(kms.get('enabled'))}; set "
            "security_profile.azure_key_vault_kms={'enabled': True, 'key_id': <key URI with version>, "
            "'key_vault_network_access': 'Private', 'key_vault_resource_id': <vault id>} so etcd secrets are "
            "encrypted with your key."
        )
    elif not kms.get("keyId"):
        yield "securityProfile.azureKeyVaultKms.keyId is not set; it must name the Key Vault key (with its version)."


def _addon(props: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    for key, value in mapping(props.get("addonProfiles")).items():
        if str(key).lower() == name:
            return mapping(value)
    return {}


def check_policy_addon(resource: Resource, _config: Mapping[str, Any]) -> Iterator[str]:
    enabled = _addon(resource.props, "azurepolicy").get("enabled")
    if not is_true(enabled):
        yield (
            f"addonProfiles.azurepolicy.enabled is {text(enabled)}; set addon_profiles={{'azurepolicy': "
            "{'enabled': True}} so Azure Policy can audit and enforce in-cluster rules."
        )


def check_defender(resource: Resource, _config: Mapping[str, Any]) -> Iterator[str]:
    defender = mapping(get(resource.props, "securityProfile", "defender"))
    enabled = get(defender, "securityMonitoring", "enabled")
    if not is_true(enabled):
        yield (
            f"securityProfile.defender.securityMonitoring.enabled is {text(enabled)}; set "
            "security_profile.defender={'security_monitoring': {'enabled': True}, "
            "'log_analytics_workspace_resource_id': <workspace id>}."
        )
    elif not defender.get("logAnalyticsWorkspaceResourceId"):
        yield "securityProfile.defender.logAnalyticsWorkspaceResourceId is not set; Defender needs a workspace."


def check_gpu_pool_shape(resource: Resource, _config: Mapping[str, Any]) -> Iterator[str]:
    for pool in pools(resource.type, resource.name, resource.props):
        if not pool.gpu:
            continue
        label, where = f"node pool '{pool.name}'", pool.where
        if same(pool.props.get("mode"), "System"):
            yield (
                f"{label} is a System pool on a GPU size; system pods would keep a GPU node running. Put GPUs in "
                f"a pool with {where}mode 'User'."
            )
        if not pool.autoscale:
            yield (
                f"{label}: {where}enableAutoScaling is {text(pool.props.get('enableAutoScaling'))}; set "
                "enable_auto_scaling true with min_count 0 so the GPU pool can empty itself."
            )
        if pool.spot and same(pool.props.get("scaleSetEvictionPolicy"), "Deallocate"):
            yield (
                f"{label}: {where}scaleSetEvictionPolicy is 'Deallocate', which keeps every evicted node's disks "
                "(billed) and counts them against quota; set scale_set_eviction_policy 'Delete' (Azure's default)."
            )


_POOL_TYPES = (AKS_CLUSTER, AKS_AGENT_POOL)

RULES = [
    Rule(
        name="aks-entra-id-rbac",
        concern="identity",
        summary="AKS clusters must keep Kubernetes RBAC on and use managed Entra ID integration with Azure RBAC for "
        "Kubernetes authorization.",
        fix="aad_profile={'managed': True, 'enable_azure_rbac': True} and leave enable_rbac unset or true (ARM: "
        "properties.aadProfile.managed, properties.aadProfile.enableAzureRBAC, properties.enableRBAC).",
        severity=Severity.HIGH,
        default_level=EnforcementLevel.MANDATORY,
        sources=(
            "PSRule Azure.AKS.ManagedAAD, Azure.AKS.AzureRBAC, Azure.AKS.UseRBAC",
            "Checkov CKV_AZURE_5",
            "Azure Policy: Azure Kubernetes Service Clusters should enable Microsoft Entra ID integration "
            "(450d2877-ebea-41e8-b00c-e286317d21bf)",
        ),
        resource_types=(AKS_CLUSTER,),
        check=check_entra_id_rbac,
    ),
    Rule(
        name="aks-network-policy",
        concern="network",
        summary="AKS clusters must enforce a network policy (azure, calico or cilium) and must not use kubenet.",
        fix="network_profile={'network_plugin': 'azure', 'network_plugin_mode': 'overlay', 'network_policy': "
        "'cilium', 'network_dataplane': 'cilium'} (ARM: properties.networkProfile.networkPlugin / "
        ".networkPolicy); the network policy engine can only be chosen at creation or by a migration.",
        severity=Severity.MEDIUM,
        default_level=EnforcementLevel.MANDATORY,
        sources=("PSRule Azure.AKS.NetworkPolicy", "Checkov CKV_AZURE_7"),
        resource_types=(AKS_CLUSTER,),
        check=check_network_policy,
    ),
    Rule(
        name="aks-encryption-at-host",
        concern="encryption",
        summary="AKS node pools must use encryption at host (temp disks, caches and data flows to storage encrypted).",
        fix="enable_encryption_at_host=True on every node pool (ARM: properties.agentPoolProfiles[].enableEncryption"
        "AtHost, or enableEncryptionAtHost on an agentPools resource); the subscription needs the "
        "Microsoft.Compute/EncryptionAtHost feature registered; existing pools must be recreated.",
        severity=Severity.MEDIUM,
        default_level=EnforcementLevel.MANDATORY,
        sources=(
            "Checkov CKV_AZURE_227",
            "Azure Policy: Temp disks and cache for agent node pools in Azure Kubernetes Service clusters "
            "should be encrypted at host",
        ),
        resource_types=_POOL_TYPES,
        check=check_encryption_at_host,
    ),
    Rule(
        name="aks-node-ssh-disabled",
        concern="network",
        summary="AKS node pools must have SSH to the nodes turned off (securityProfile.sshAccess 'Disabled', an "
        "option of the AKS API azure-native 3.x uses, 2025-09-01).",
        fix="security_profile={'ssh_access': 'Disabled'} on every node pool (ARM: properties.agentPoolProfiles[]."
        "securityProfile.sshAccess); use `kubectl debug node/<node>` for node access.",
        severity=Severity.MEDIUM,
        default_level=EnforcementLevel.ADVISORY,
        sources=(
            "Learn: Manage SSH access on Azure Kubernetes Service cluster nodes (learn.microsoft.com/azure/aks/"
            "manage-ssh-node-access)",
            "aiinfra",
        ),
        resource_types=_POOL_TYPES,
        check=check_ssh_disabled,
    ),
    Rule(
        name="aks-kms-etcd-encryption",
        concern="encryption",
        summary="AKS clusters must encrypt Kubernetes secrets in etcd with a Key Vault key (KMS).",
        fix="security_profile={'azure_key_vault_kms': {'enabled': True, 'key_id': <versioned key URI>, "
        "'key_vault_network_access': 'Private', 'key_vault_resource_id': <vault id>}} (ARM: "
        "properties.securityProfile.azureKeyVaultKms); the cluster identity needs Key Vault Crypto User.",
        severity=Severity.MEDIUM,
        default_level=EnforcementLevel.ADVISORY,
        sources=(
            "Learn: Add Key Management Service etcd encryption to an AKS cluster (learn.microsoft.com/azure/"
            "aks/use-kms-etcd-encryption)",
            "aiinfra",
        ),
        resource_types=(AKS_CLUSTER,),
        check=check_kms,
    ),
    Rule(
        name="aks-azure-policy-addon",
        concern="governance",
        summary="AKS clusters must run the Azure Policy add-on, so in-cluster guardrails are audited and enforced.",
        fix="addon_profiles={'azurepolicy': {'enabled': True}} (ARM: properties.addonProfiles.azurepolicy.enabled).",
        severity=Severity.MEDIUM,
        default_level=EnforcementLevel.MANDATORY,
        sources=(
            "PSRule Azure.AKS.AzurePolicyAddOn",
            "Checkov CKV_AZURE_116",
            "Azure Policy: Azure Policy Add-on for Kubernetes service (AKS) should be installed and enabled on "
            "your clusters",
        ),
        resource_types=(AKS_CLUSTER,),
        check=check_policy_addon,
    ),
    Rule(
        name="aks-defender-profile",
        concern="governance",
        summary="AKS clusters must enable the Microsoft Defender for Containers profile (runtime threat detection).",
        fix="security_profile={'defender': {'security_monitoring': {'enabled': True}, "
        "'log_analytics_workspace_resource_id': <workspace id>}} (ARM: properties.securityProfile.defender).",
        severity=Severity.MEDIUM,
        default_level=EnforcementLevel.ADVISORY,
        sources=(
            "PSRule Azure.AKS.DefenderProfile",
            "Azure Policy: Azure Kubernetes Service clusters should have Defender profile enabled "
            "(a1840de2-8088-4ea8-b153-b4c723e9cb01)",
        ),
        resource_types=(AKS_CLUSTER,),
        check=check_defender,
    ),
    Rule(
        name="aks-gpu-pool-shape",
        concern="compute-cost",
        summary="AKS GPU node pools must be User-mode and autoscaled, and Spot GPU pools must evict with Delete "
        "(Deallocate keeps billed disks, so the pool never reaches zero cost).",
        fix="On GPU pools: mode='User', enable_auto_scaling=True with min_count 0, and scale_set_eviction_policy "
        "'Delete' or unset on Spot (ARM: properties.mode, .enableAutoScaling, .minCount, "
        ".scaleSetEvictionPolicy).",
        severity=Severity.MEDIUM,
        default_level=EnforcementLevel.MANDATORY,
        sources=(
            "PSRule Azure.AKS.AutoScaling",
            "Learn: Add an Azure Spot node pool to an AKS cluster (eviction policy Delete vs Deallocate)",
            "aiinfra",
        ),
        resource_types=_POOL_TYPES,
        check=check_gpu_pool_shape,
    ),
]
