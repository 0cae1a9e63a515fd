"""Every resource rule, through the pack's gRPC server, in every environment's configuration.

Each case is one resource's wire (camelCase) properties and whether the rule must flag it. A flagging case must be
reported at exactly the level the environment's config file sets (and not at all where it is disabled); a
compliant case must never be reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from pack_client import ENVIRONMENTS, Pack, of

from aiinfra.policies import RULES

ML_WORKSPACE = "azure-native:machinelearningservices:Workspace"
ML_COMPUTE = "azure-native:machinelearningservices:Compute"
STORAGE = "azure-native:storage:StorageAccount"
VAULT = "azure-native:keyvault:Vault"
REGISTRY = "azure-native:containerregistry:Registry"
AKS = "azure-native:containerservice:ManagedCluster"
AKS_POOL = "azure-native:containerservice:AgentPool"
BATCH = "azure-native:batch:BatchAccount"
BATCH_POOL = "azure-native:batch:Pool"
ACA_ENV = "azure-native:app:ManagedEnvironment"
ACA_APP = "azure-native:app:ContainerApp"
COGNITIVE = "azure-native:cognitiveservices:Account"
VM = "azure-native:compute:VirtualMachine"
KEY = "azure-native:keyvault:Key"
CONTAINER = "azure-native:storage:BlobContainer"
NSG = "azure-native:network:NetworkSecurityGroup"
NSG_RULE = "azure-native:network:SecurityRule"
PE = "azure-native:network:PrivateEndpoint"
COSMOS = "azure-native:cosmosdb:DatabaseAccount"
SERVICE_BUS = "azure-native:servicebus:Namespace"
VNET = "azure-native:network:VirtualNetwork"
RG = "azure-native:resources:ResourceGroup"
PIP = "azure-native:network:PublicIPAddress"


@dataclass(frozen=True)
class Case:
    policy: str
    type: str
    props: dict[str, Any]
    violates: bool
    why: str

    @property
    def id(self) -> str:
        return f"{self.policy}:{'bad' if self.violates else 'ok'}:{self.why}"


def aml(vm_size: str = "Standard_NC4as_T4_v3", **inner: Any) -> dict[str, Any]:
    """An AML compute cluster's wire properties (azure-native nests AmlCompute under properties.properties)."""
    return {
        "computeName": "gpu",
        "properties": {
            "computeType": "AmlCompute",
            "disableLocalAuth": True,
            "properties": {"vmSize": vm_size, **inner},
        },
    }


def aks_pool(vm_size: str = "Standard_NC4as_T4_v3", **props: Any) -> dict[str, Any]:
    return {"agentPoolName": "gpu", "vmSize": vm_size, **props}


def good(policy: str, type_token: str, props: dict[str, Any], why: str) -> Case:
    return Case(policy, type_token, props, False, why)


def bad(policy: str, type_token: str, props: dict[str, Any], why: str) -> Case:
    return Case(policy, type_token, props, True, why)


CMK_WORKSPACE = {
    "status": "Enabled",
    "keyVaultProperties": {
        "keyIdentifier": "https://kv.vault.azure.net/keys/k",
        "keyVaultArmId": "/subscriptions/s/kv",
    },
    "identity": {"userAssignedIdentity": "/subscriptions/s/uai"},
}
SPOT = {"scaleSetPriority": "Spot", "enableAutoScaling": True, "minCount": 0.0, "maxCount": 2.0}

CASES = [
    # network
    good("public-network-access-disabled", ML_WORKSPACE, {"publicNetworkAccess": "Disabled"}, "workspace disabled"),
    bad("public-network-access-disabled", ML_WORKSPACE, {"publicNetworkAccess": "Enabled"}, "workspace enabled"),
    bad("public-network-access-disabled", ML_WORKSPACE, {}, "workspace unset defaults to enabled"),
    bad(
        "public-network-access-disabled",
        ML_WORKSPACE,
        {"publicNetworkAccess": "Disabled", "allowPublicAccessWhenBehindVnet": True},
        "public behind vnet",
    ),
    good(
        "public-network-access-disabled",
        VAULT,
        {"properties": {"publicNetworkAccess": "disabled"}},
        "vault nested, lower-case enum",
    ),
    bad("public-network-access-disabled", VAULT, {"properties": {"publicNetworkAccess": "Enabled"}}, "vault enabled"),
    good("public-network-access-disabled", STORAGE, {"publicNetworkAccess": "Disabled"}, "storage disabled"),
    bad("public-network-access-disabled", STORAGE, {}, "storage unset"),
    good("public-network-access-disabled", REGISTRY, {"publicNetworkAccess": "Disabled"}, "registry disabled"),
    bad("public-network-access-disabled", BATCH, {"publicNetworkAccess": "Enabled"}, "batch enabled"),
    good(
        "public-network-access-disabled",
        COGNITIVE,
        {"properties": {"publicNetworkAccess": "Disabled"}},
        "cognitive disabled",
    ),
    bad("public-network-access-disabled", COGNITIVE, {"properties": {}}, "cognitive unset"),
    good("network-default-action-deny", STORAGE, {"networkRuleSet": {"defaultAction": "Deny"}}, "storage deny"),
    bad("network-default-action-deny", STORAGE, {"networkRuleSet": {"defaultAction": "Allow"}}, "storage allow"),
    good(
        "network-default-action-deny", VAULT, {"properties": {"networkAcls": {"defaultAction": "deny"}}}, "vault deny"
    ),
    bad("network-default-action-deny", VAULT, {"properties": {}}, "vault unset"),
    good("network-default-action-deny", REGISTRY, {"publicNetworkAccess": "Disabled"}, "registry without rules"),
    bad("network-default-action-deny", REGISTRY, {"publicNetworkAccess": "Enabled"}, "registry public, no rules"),
    good("aks-private-cluster", AKS, {"apiServerAccessProfile": {"enablePrivateCluster": True}}, "private"),
    bad("aks-private-cluster", AKS, {"apiServerAccessProfile": {"enablePrivateCluster": False}}, "public"),
    bad("aks-private-cluster", AKS, {}, "unset"),
    good(
        "container-apps-internal",
        ACA_ENV,
        {"vnetConfiguration": {"internal": True, "infrastructureSubnetId": "/subnets/aca"}},
        "internal env",
    ),
    bad(
        "container-apps-internal",
        ACA_ENV,
        {"vnetConfiguration": {"internal": False, "infrastructureSubnetId": "/subnets/aca"}},
        "external env",
    ),
    good("container-apps-internal", ACA_APP, {"configuration": {"ingress": {"external": False}}}, "internal app"),
    bad("container-apps-internal", ACA_APP, {"configuration": {"ingress": {"external": True}}}, "external app"),
    good(
        "no-node-public-ip",
        ML_COMPUTE,
        aml(enableNodePublicIp=False, remoteLoginPortPublicAccess="Disabled"),
        "aml private nodes",
    ),
    bad(
        "no-node-public-ip",
        ML_COMPUTE,
        aml(enableNodePublicIp=True, remoteLoginPortPublicAccess="Disabled"),
        "aml public ip",
    ),
    bad(
        "no-node-public-ip",
        ML_COMPUTE,
        aml(enableNodePublicIp=False, remoteLoginPortPublicAccess="Enabled"),
        "aml public ssh",
    ),
    good(
        "no-node-public-ip",
        ML_COMPUTE,
        {"properties": {"computeType": "Kubernetes", "properties": {}}},
        "attached aks compute",
    ),
    bad(
        "no-node-public-ip",
        ML_COMPUTE,
        {"properties": {"computeType": "ComputeInstance", "properties": {"enableNodePublicIp": True}}},
        "compute instance public ip",
    ),
    good("no-node-public-ip", AKS_POOL, aks_pool(enableNodePublicIP=False), "aks pool private"),
    bad("no-node-public-ip", AKS_POOL, aks_pool(enableNodePublicIP=True), "aks pool public"),
    bad(
        "no-node-public-ip",
        AKS,
        {"agentPoolProfiles": [{"name": "system", "enableNodePublicIP": True}]},
        "aks inline pool public",
    ),
    good(
        "no-node-public-ip",
        BATCH_POOL,
        {"networkConfiguration": {"publicIPAddressConfiguration": {"provision": "NoPublicIPAddresses"}}},
        "batch no public ip",
    ),
    bad("no-node-public-ip", BATCH_POOL, {}, "batch default public ip"),
    good("storage-no-public-blob-access", STORAGE, {"allowBlobPublicAccess": False}, "off"),
    bad("storage-no-public-blob-access", STORAGE, {"allowBlobPublicAccess": True}, "on"),
    good("storage-no-public-blob-access", STORAGE, {}, "unset is off since API 2023-01-01"),
    good("storage-no-public-blob-access", CONTAINER, {"containerName": "models"}, "container unset is private"),
    good("storage-no-public-blob-access", CONTAINER, {"publicAccess": "None"}, "container none"),
    bad("storage-no-public-blob-access", CONTAINER, {"publicAccess": "Blob"}, "container blob access"),
    good("batch-pool-in-vnet", BATCH_POOL, {"networkConfiguration": {"subnetId": "/subnets/batch"}}, "in a subnet"),
    bad("batch-pool-in-vnet", BATCH_POOL, {"vmSize": "Standard_D4ds_v5"}, "no subnet"),
    good(
        "nsg-management-ports-closed",
        NSG,
        {
            "securityRules": [
                {
                    "name": "ssh",
                    "direction": "Inbound",
                    "access": "Allow",
                    "sourceAddressPrefix": "10.0.0.0/24",
                    "destinationPortRange": "22",
                },
                {
                    "name": "https",
                    "direction": "Inbound",
                    "access": "Allow",
                    "sourceAddressPrefix": "Internet",
                    "destinationPortRange": "443",
                },
                {
                    "name": "deny-rdp",
                    "direction": "Inbound",
                    "access": "Deny",
                    "sourceAddressPrefix": "*",
                    "destinationPortRange": "3389",
                },
            ]
        },
        "private ssh, public https, denied rdp",
    ),
    bad(
        "nsg-management-ports-closed",
        NSG,
        {
            "securityRules": [
                {
                    "name": "ssh",
                    "direction": "Inbound",
                    "access": "Allow",
                    "sourceAddressPrefix": "*",
                    "destinationPortRange": "22",
                }
            ]
        },
        "ssh from anywhere",
    ),
    bad(
        "nsg-management-ports-closed",
        NSG_RULE,
        {
            "direction": "Inbound",
            "access": "Allow",
            "sourceAddressPrefixes": ["10.0.0.0/8", "0.0.0.0/0"],
            "destinationPortRanges": ["80", "3000-4000"],
        },
        "rdp in a range",
    ),
    good(
        "nsg-management-ports-closed",
        NSG_RULE,
        {"direction": "Outbound", "access": "Allow", "sourceAddressPrefix": "*", "destinationPortRange": "*"},
        "outbound any",
    ),
    good(
        "private-endpoint-auto-approved",
        PE,
        {"privateLinkServiceConnections": [{"name": "c", "groupIds": ["vault"]}]},
        "auto-approved",
    ),
    bad(
        "private-endpoint-auto-approved",
        PE,
        {"manualPrivateLinkServiceConnections": [{"name": "c", "groupIds": ["vault"]}]},
        "manual",
    ),
    good(
        "aks-network-policy", AKS, {"networkProfile": {"networkPlugin": "azure", "networkPolicy": "Cilium"}}, "cilium"
    ),
    bad("aks-network-policy", AKS, {"networkProfile": {"networkPlugin": "azure", "networkPolicy": "none"}}, "none"),
    bad("aks-network-policy", AKS, {}, "unset means none"),
    bad(
        "aks-network-policy",
        AKS,
        {"networkProfile": {"networkPlugin": "kubenet", "networkPolicy": "calico"}},
        "kubenet",
    ),
    good("aks-node-ssh-disabled", AKS_POOL, aks_pool(securityProfile={"sshAccess": "Disabled"}), "ssh off"),
    bad("aks-node-ssh-disabled", AKS_POOL, aks_pool(), "unset means LocalUser"),
    bad(
        "aks-node-ssh-disabled",
        AKS,
        {"agentPoolProfiles": [{"name": "sys", "securityProfile": {"sshAccess": "LocalUser"}}]},
        "inline pool ssh",
    ),
    good(
        "ml-managed-network-outbound",
        ML_WORKSPACE,
        {"managedNetwork": {"isolationMode": "AllowOnlyApprovedOutbound"}},
        "approved only",
    ),
    bad(
        "ml-managed-network-outbound",
        ML_WORKSPACE,
        {"managedNetwork": {"isolationMode": "AllowInternetOutbound"}},
        "internet outbound",
    ),
    good("ml-managed-network-outbound", ML_WORKSPACE, {"kind": "Project"}, "project inherits its hub"),
    good(
        "cognitive-outbound-restricted",
        COGNITIVE,
        {"properties": {"restrictOutboundNetworkAccess": True, "allowedFqdnList": ["st.blob.core.windows.net"]}},
        "allow-list",
    ),
    bad("cognitive-outbound-restricted", COGNITIVE, {"properties": {}}, "unset is unrestricted"),
    bad(
        "cognitive-outbound-restricted",
        COGNITIVE,
        {"properties": {"restrictOutboundNetworkAccess": True, "allowedFqdnList": []}},
        "restricted, empty list",
    ),
    # encryption
    good("cmk-ml-workspace", ML_WORKSPACE, {"encryption": CMK_WORKSPACE}, "cmk"),
    bad("cmk-ml-workspace", ML_WORKSPACE, {}, "microsoft-managed"),
    bad("cmk-ml-workspace", ML_WORKSPACE, {"encryption": {**CMK_WORKSPACE, "keyVaultProperties": {}}}, "no key"),
    good(
        "cmk-storage",
        STORAGE,
        {
            "encryption": {
                "keySource": "Microsoft.Keyvault",
                "keyVaultProperties": {"keyName": "k", "keyVaultUri": "https://kv"},
                "encryptionIdentity": {"encryptionUserAssignedIdentity": "/uai"},
            }
        },
        "cmk",
    ),
    bad("cmk-storage", STORAGE, {"encryption": {"keySource": "Microsoft.Storage"}}, "microsoft-managed"),
    good(
        "cmk-container-registry",
        REGISTRY,
        {
            "encryption": {
                "status": "enabled",
                "keyVaultProperties": {"keyIdentifier": "https://kv/keys/k", "identity": "client"},
            }
        },
        "cmk",
    ),
    bad("cmk-container-registry", REGISTRY, {"encryption": {"status": "disabled"}}, "disabled"),
    good(
        "cmk-batch-account",
        BATCH,
        {
            "identity": {"type": "UserAssigned"},
            "encryption": {
                "keySource": "Microsoft.KeyVault",
                "keyVaultProperties": {"keyIdentifier": "https://kv/keys/k"},
            },
        },
        "cmk",
    ),
    bad("cmk-batch-account", BATCH, {}, "microsoft-managed"),
    good("cmk-aks-disks", AKS, {"diskEncryptionSetID": "/subscriptions/s/diskEncryptionSets/des"}, "des"),
    bad("cmk-aks-disks", AKS, {}, "no des"),
    good(
        "cmk-cognitive-services",
        COGNITIVE,
        {
            "properties": {
                "encryption": {
                    "keySource": "Microsoft.KeyVault",
                    "keyVaultProperties": {"keyName": "k", "keyVaultUri": "https://kv", "identityClientId": "c"},
                }
            }
        },
        "cmk",
    ),
    bad(
        "cmk-cognitive-services",
        COGNITIVE,
        {"properties": {"encryption": {"keySource": "Microsoft.CognitiveServices"}}},
        "microsoft-managed",
    ),
    good(
        "batch-pool-disk-encryption",
        BATCH_POOL,
        {
            "deploymentConfiguration": {
                "virtualMachineConfiguration": {
                    "nodeAgentSkuId": "batch.node.windows amd64",
                    "diskEncryptionConfiguration": {"targets": ["TemporaryDisk", "osdisk"]},
                }
            }
        },
        "windows both disks",
    ),
    # Linux pools accept TemporaryDisk only (Batch API DiskEncryptionConfiguration); OsDisk there fails in ARM.
    good(
        "batch-pool-disk-encryption",
        BATCH_POOL,
        {
            "deploymentConfiguration": {
                "virtualMachineConfiguration": {
                    "nodeAgentSkuId": "batch.node.ubuntu 24.04",
                    "diskEncryptionConfiguration": {"targets": ["TemporaryDisk"]},
                }
            }
        },
        "linux temp disk",
    ),
    bad(
        "batch-pool-disk-encryption",
        BATCH_POOL,
        {
            "deploymentConfiguration": {
                "virtualMachineConfiguration": {
                    "nodeAgentSkuId": "batch.node.ubuntu 24.04",
                    "diskEncryptionConfiguration": {"targets": ["OsDisk", "TemporaryDisk"]},
                }
            }
        },
        "linux os disk rejected by arm",
    ),
    bad(
        "batch-pool-disk-encryption",
        BATCH_POOL,
        {
            "deploymentConfiguration": {
                "virtualMachineConfiguration": {
                    "nodeAgentSkuId": "batch.node.windows amd64",
                    "diskEncryptionConfiguration": {"targets": ["TemporaryDisk"]},
                }
            }
        },
        "windows os disk missing",
    ),
    bad(
        "batch-pool-disk-encryption",
        BATCH_POOL,
        {
            "deploymentConfiguration": {
                "virtualMachineConfiguration": {"diskEncryptionConfiguration": {"targets": ["OsDisk"]}}
            }
        },
        "temp disk missing",
    ),
    bad("batch-pool-disk-encryption", BATCH_POOL, {}, "unset"),
    good("aks-encryption-at-host", AKS_POOL, aks_pool(enableEncryptionAtHost=True), "pool"),
    bad("aks-encryption-at-host", AKS_POOL, aks_pool(), "pool unset"),
    bad(
        "aks-encryption-at-host",
        AKS,
        {"agentPoolProfiles": [{"name": "sys", "enableEncryptionAtHost": False}]},
        "inline pool",
    ),
    good(
        "aks-kms-etcd-encryption",
        AKS,
        {"securityProfile": {"azureKeyVaultKms": {"enabled": True, "keyId": "https://kv.vault.azure.net/keys/etcd/1"}}},
        "kms",
    ),
    bad("aks-kms-etcd-encryption", AKS, {}, "no kms"),
    bad("aks-kms-etcd-encryption", AKS, {"securityProfile": {"azureKeyVaultKms": {"enabled": True}}}, "no key id"),
    good("keyvault-key-hsm", KEY, {"properties": {"kty": "RSA-HSM"}}, "rsa-hsm"),
    bad("keyvault-key-hsm", KEY, {"properties": {"kty": "RSA"}}, "software rsa"),
    bad("keyvault-key-hsm", KEY, {"properties": {}}, "unset is software"),
    good(
        "keyvault-key-expiry-rotation",
        KEY,
        {
            "properties": {
                "rotationPolicy": {
                    "attributes": {"expiryTime": "P1Y"},
                    "lifetimeActions": [{"action": {"type": "Rotate"}, "trigger": {"timeBeforeExpiry": "P30D"}}],
                }
            }
        },
        "rotation policy with expiry",
    ),
    good(
        "keyvault-key-expiry-rotation",
        KEY,
        {
            "properties": {
                "attributes": {"expires": 1893456000.0},
                "rotationPolicy": {"lifetimeActions": [{"action": {"type": "rotate"}}]},
            }
        },
        "expiry attribute and rotation",
    ),
    bad("keyvault-key-expiry-rotation", KEY, {"properties": {"kty": "RSA-HSM"}}, "neither"),
    bad(
        "keyvault-key-expiry-rotation",
        KEY,
        {"properties": {"rotationPolicy": {"lifetimeActions": [{"action": {"type": "notify"}}]}}},
        "notify only",
    ),
    good("keyvault-soft-delete-purge-protection", VAULT, {"properties": {"enablePurgeProtection": True}}, "protected"),
    bad("keyvault-soft-delete-purge-protection", VAULT, {"properties": {}}, "no purge protection"),
    bad(
        "keyvault-soft-delete-purge-protection",
        VAULT,
        {"properties": {"enableSoftDelete": False, "enablePurgeProtection": True}},
        "soft delete off",
    ),
    # compute cost
    good("gpu-pool-low-priority", ML_COMPUTE, aml(vmPriority="LowPriority"), "aml low priority"),
    bad("gpu-pool-low-priority", ML_COMPUTE, aml(vmPriority="Dedicated"), "aml dedicated"),
    good("gpu-pool-low-priority", ML_COMPUTE, aml("Standard_D4s_v5", vmPriority="Dedicated"), "cpu pool"),
    good("gpu-pool-low-priority", AKS_POOL, aks_pool(**SPOT), "aks spot"),
    bad("gpu-pool-low-priority", AKS_POOL, aks_pool(scaleSetPriority="Regular"), "aks regular"),
    good(
        "gpu-pool-low-priority",
        BATCH_POOL,
        {
            "vmSize": "Standard_NC4as_T4_v3",
            "scaleSettings": {
                "autoScale": {
                    "formula": "$TargetLowPriorityNodes = min(4, $PendingTasks.GetSample(1)); $TargetDedicatedNodes = 0;"
                }
            },
        },
        "batch low-priority formula",
    ),
    bad(
        "gpu-pool-low-priority",
        BATCH_POOL,
        {"vmSize": "Standard_NC4as_T4_v3", "scaleSettings": {"fixedScale": {"targetDedicatedNodes": 1.0}}},
        "batch dedicated",
    ),
    good("gpu-pool-scale-to-zero", ML_COMPUTE, aml(scaleSettings={"minNodeCount": 0.0, "maxNodeCount": 2.0}), "min 0"),
    good("gpu-pool-scale-to-zero", ML_COMPUTE, aml(scaleSettings={"maxNodeCount": 2.0}), "min unset is 0"),
    bad("gpu-pool-scale-to-zero", ML_COMPUTE, aml(scaleSettings={"minNodeCount": 2.0, "maxNodeCount": 4.0}), "min 2"),
    good("gpu-pool-scale-to-zero", AKS_POOL, aks_pool(**SPOT), "aks min 0"),
    bad("gpu-pool-scale-to-zero", AKS_POOL, aks_pool(enableAutoScaling=True, minCount=1.0, maxCount=2.0), "aks min 1"),
    bad("gpu-pool-scale-to-zero", AKS_POOL, aks_pool(count=2.0), "aks fixed 2"),
    bad(
        "gpu-pool-scale-to-zero",
        BATCH_POOL,
        {"vmSize": "Standard_NC4as_T4_v3", "scaleSettings": {"fixedScale": {"targetLowPriorityNodes": 2.0}}},
        "batch fixed 2",
    ),
    good("gpu-pool-idle-scale-down", ML_COMPUTE, aml(scaleSettings={"nodeIdleTimeBeforeScaleDown": "PT5M"}), "5 min"),
    bad("gpu-pool-idle-scale-down", ML_COMPUTE, aml(scaleSettings={"nodeIdleTimeBeforeScaleDown": "PT2H"}), "2 h"),
    good("gpu-pool-idle-scale-down", AKS, {"autoScalerProfile": {"scaleDownUnneededTime": "10m"}}, "aks 10m"),
    bad(
        "gpu-pool-idle-scale-down",
        AKS,
        {
            "autoScalerProfile": {"scaleDownUnneededTime": "90m"},
            "agentPoolProfiles": [{"name": "gpu", "vmSize": "Standard_NC4as_T4_v3", "enableAutoScaling": True}],
        },
        "aks 90m, GPU pool inline",
    ),
    good(
        "gpu-pool-idle-scale-down",
        AKS,
        {"autoScalerProfile": {"scaleDownUnneededTime": "90m"}},
        "aks 90m without a GPU pool: idle GPU nodes only",
    ),
    good("gpu-pool-max-nodes", ML_COMPUTE, aml(scaleSettings={"maxNodeCount": 2.0}), "2 nodes"),
    bad("gpu-pool-max-nodes", ML_COMPUTE, aml(scaleSettings={"maxNodeCount": 100.0}), "100 nodes"),
    bad("gpu-pool-max-nodes", AKS_POOL, aks_pool(enableAutoScaling=True, minCount=0.0, maxCount=100.0), "aks 100"),
    good(
        "gpu-pool-max-nodes",
        BATCH_POOL,
        {
            "vmSize": "Standard_NC4as_T4_v3",
            "scaleSettings": {
                "autoScale": {"formula": "$cap = 2; $TargetLowPriorityNodes = min($cap, $PendingTasks.GetSample(1));"}
            },
        },
        "batch capped 2",
    ),
    bad(
        "gpu-pool-max-nodes",
        BATCH_POOL,
        {
            "vmSize": "Standard_NC4as_T4_v3",
            "scaleSettings": {
                "autoScale": {"formula": "$TargetLowPriorityNodes = min(40, $p); $TargetDedicatedNodes = min(60, $p);"}
            },
        },
        "batch 100",
    ),
    good("gpu-sku-allowed", ML_COMPUTE, aml("standard_nc4as_t4_v3"), "t4, any casing"),
    bad("gpu-sku-allowed", ML_COMPUTE, aml("Standard_NV36ads_A10_v5"), "a10 not listed"),
    good("gpu-sku-allowed", AKS_POOL, aks_pool("Standard_D8s_v5"), "cpu pool out of scope"),
    good("gpu-sku-not-retired", ML_COMPUTE, aml("Standard_NC4as_T4_v3"), "t4"),
    bad("gpu-sku-not-retired", ML_COMPUTE, aml("Standard_NC6s_v3"), "ncv3"),
    bad("gpu-sku-not-retired", AKS_POOL, aks_pool("Standard_NC24rs_v3"), "ncv3 aks"),
    bad("gpu-sku-not-retired", VM, {"hardwareProfile": {"vmSize": "Standard_ND40rs_v2"}}, "ndv2 vm"),
    good("aks-gpu-pool-shape", AKS_POOL, aks_pool(mode="User", scaleSetEvictionPolicy="Delete", **SPOT), "user spot"),
    good("aks-gpu-pool-shape", AKS_POOL, aks_pool("Standard_D8ds_v5", mode="System"), "cpu system pool"),
    bad(
        "aks-gpu-pool-shape",
        AKS_POOL,
        aks_pool(mode="User", scaleSetEvictionPolicy="Deallocate", **SPOT),
        "spot deallocate",
    ),
    bad("aks-gpu-pool-shape", AKS_POOL, aks_pool(mode="User", count=0.0), "no autoscale"),
    bad(
        "aks-gpu-pool-shape",
        AKS,
        {"agentPoolProfiles": [{"name": "gpu", "vmSize": "Standard_NC4as_T4_v3", "mode": "System", **SPOT}]},
        "inline gpu system pool",
    ),
    good(
        "aks-gpu-pool-shape",
        AKS,
        {"agentPoolProfiles": [{"name": "gpu", "vmSize": "Standard_NC4as_T4_v3", **SPOT}]},
        "inline gpu pool, mode unset: not judged",
    ),
    good(
        "container-apps-dedicated-profile-scale",
        ACA_ENV,
        {
            "workloadProfiles": [
                {"name": "Consumption", "workloadProfileType": "Consumption"},
                {"name": "gpu", "workloadProfileType": "Consumption-GPU-NC8as-T4"},
                {"name": "a100", "workloadProfileType": "NC24-A100", "minimumCount": 0.0, "maximumCount": 2.0},
            ]
        },
        "serverless and a capped dedicated profile",
    ),
    bad(
        "container-apps-dedicated-profile-scale",
        ACA_ENV,
        {
            "workloadProfiles": [
                {"name": "a100", "workloadProfileType": "NC24-A100", "minimumCount": 1.0, "maximumCount": 2.0}
            ]
        },
        "min 1",
    ),
    bad(
        "container-apps-dedicated-profile-scale",
        ACA_ENV,
        {"workloadProfiles": [{"name": "d4", "workloadProfileType": "D4", "minimumCount": 0.0}]},
        "no max",
    ),
    good(
        "ml-compute-instance-hardening",
        ML_COMPUTE,
        {
            "properties": {
                "computeType": "ComputeInstance",
                "properties": {"idleTimeBeforeShutdown": "PT15M", "sshSettings": {"sshPublicAccess": "Disabled"}},
            }
        },
        "15 min",
    ),
    good("ml-compute-instance-hardening", ML_COMPUTE, aml(), "clusters are not instances"),
    bad(
        "ml-compute-instance-hardening",
        ML_COMPUTE,
        {"properties": {"computeType": "ComputeInstance", "properties": {}}},
        "never shuts down",
    ),
    bad(
        "ml-compute-instance-hardening",
        ML_COMPUTE,
        {"properties": {"computeType": "ComputeInstance", "properties": {"idleTimeBeforeShutdown": "P3D"}}},
        "3 days",
    ),
    bad(
        "ml-compute-instance-hardening",
        ML_COMPUTE,
        {
            "properties": {
                "computeType": "ComputeInstance",
                "properties": {"idleTimeBeforeShutdown": "PT15M", "sshSettings": {"sshPublicAccess": "Enabled"}},
            }
        },
        "public ssh",
    ),
    good("inference-pool-no-spot", AKS_POOL, aks_pool(nodeLabels={"workload": "inference"}), "regular inference"),
    good("inference-pool-no-spot", AKS_POOL, aks_pool(nodeLabels={"workload": "training"}, **SPOT), "spot training"),
    bad("inference-pool-no-spot", AKS_POOL, aks_pool(nodeLabels={"workload": "Inference"}, **SPOT), "spot by label"),
    bad("inference-pool-no-spot", AKS_POOL, {**aks_pool(**SPOT), "agentPoolName": "infergpu"}, "spot by name"),
    # identity
    good("keyvault-rbac-authorization", VAULT, {"properties": {"enableRbacAuthorization": True}}, "rbac"),
    bad("keyvault-rbac-authorization", VAULT, {"properties": {}}, "access policies"),
    good("storage-shared-key-disabled", STORAGE, {"allowSharedKeyAccess": False}, "off"),
    bad("storage-shared-key-disabled", STORAGE, {}, "unset means on"),
    good("acr-admin-user-disabled", REGISTRY, {"adminUserEnabled": False}, "off"),
    bad("acr-admin-user-disabled", REGISTRY, {"adminUserEnabled": True}, "admin on"),
    bad("acr-admin-user-disabled", REGISTRY, {"anonymousPullEnabled": True}, "anonymous pull"),
    good("local-auth-disabled", COGNITIVE, {"properties": {"disableLocalAuth": True}}, "cognitive keys off"),
    bad("local-auth-disabled", COGNITIVE, {"properties": {"disableLocalAuth": False}}, "cognitive keys on"),
    good("local-auth-disabled", ML_COMPUTE, aml(), "aml local auth off"),
    bad(
        "local-auth-disabled",
        ML_COMPUTE,
        {"properties": {"computeType": "AmlCompute", "properties": {}}},
        "aml local auth unset",
    ),
    good("local-auth-disabled", ML_WORKSPACE, {"systemDatastoresAuthMode": "Identity"}, "identity datastores"),
    bad("local-auth-disabled", ML_WORKSPACE, {"systemDatastoresAuthMode": "accessKey"}, "key datastores"),
    good(
        "local-auth-disabled",
        ML_COMPUTE,
        {"properties": {"computeType": "Kubernetes", "disableLocalAuth": True}},
        "attached kubernetes keys off",
    ),
    bad("local-auth-disabled", ML_COMPUTE, {"properties": {"computeType": "Kubernetes"}}, "attached kubernetes"),
    bad(
        "local-auth-disabled",
        ML_COMPUTE,
        {"properties": {"computeType": "ComputeInstance", "properties": {}}},
        "compute instance",
    ),
    good("local-auth-disabled", COSMOS, {"disableLocalAuth": True}, "cosmos keys off"),
    bad("local-auth-disabled", COSMOS, {}, "cosmos unset accepts keys"),
    bad("local-auth-disabled", SERVICE_BUS, {"disableLocalAuth": False}, "service bus keys"),
    good("aks-entra-id-rbac", AKS, {"aadProfile": {"managed": True, "enableAzureRBAC": True}}, "entra + azure rbac"),
    bad("aks-entra-id-rbac", AKS, {}, "no aad"),
    bad("aks-entra-id-rbac", AKS, {"aadProfile": {"managed": True}}, "kubernetes rbac only"),
    bad(
        "aks-entra-id-rbac",
        AKS,
        {"enableRBAC": False, "aadProfile": {"managed": True, "enableAzureRBAC": True}},
        "rbac off",
    ),
    good("aad-only-auth", BATCH, {"allowedAuthenticationModes": ["AAD"]}, "aad"),
    bad("aad-only-auth", BATCH, {"allowedAuthenticationModes": ["AAD", "SharedKey"]}, "shared key"),
    bad("aad-only-auth", BATCH, {}, "unset allows all"),
    good("tls-1-2-minimum", STORAGE, {"minimumTlsVersion": "TLS1_2"}, "tls 1.2"),
    bad("tls-1-2-minimum", STORAGE, {"minimumTlsVersion": "TLS1_0"}, "tls 1.0"),
    bad("tls-1-2-minimum", STORAGE, {"minimumTlsVersion": "TLS1_2", "enableHttpsTrafficOnly": False}, "http"),
    bad("tls-1-2-minimum", ACA_APP, {"configuration": {"ingress": {"allowInsecure": True}}}, "insecure ingress"),
    # governance
    good(
        "required-tags",
        STORAGE,
        {"tags": {"environment": "dev", "Owner": "a@b", "costcenter": "CC-1"}},
        "tags, names case-insensitive",
    ),
    bad("required-tags", STORAGE, {"tags": {"environment": "dev", "owner": ""}}, "empty and missing"),
    good("required-tags", VNET, {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}}, "free vnet"),
    good("required-tags", RG, {}, "free resource group"),
    bad("required-tags", VM, {"hardwareProfile": {"vmSize": "Standard_D4s_v5"}}, "billed vm"),
    bad("required-tags", "azure-native:sql/v20230801:Database", {}, "versioned token, billed database"),
    good("allowed-locations", STORAGE, {"location": "West US 3"}, "display name of the allowed region"),
    good("allowed-locations", "azure-native:privatedns:PrivateZone", {"location": "global"}, "global"),
    good("allowed-locations", STORAGE, {}, "provider default"),
    bad("allowed-locations", PIP, {"location": "northeurope"}, "other region"),
    good("aks-azure-policy-addon", AKS, {"addonProfiles": {"azurepolicy": {"enabled": True}}}, "addon"),
    good("aks-azure-policy-addon", AKS, {"addonProfiles": {"azurePolicy": {"enabled": True}}}, "camel-case key"),
    bad("aks-azure-policy-addon", AKS, {"addonProfiles": {"azurepolicy": {"enabled": False}}}, "off"),
    good(
        "aks-defender-profile",
        AKS,
        {
            "securityProfile": {
                "defender": {
                    "securityMonitoring": {"enabled": True},
                    "logAnalyticsWorkspaceResourceId": "/subscriptions/s/log",
                }
            }
        },
        "defender",
    ),
    bad("aks-defender-profile", AKS, {}, "no defender"),
    # deployability (issue 12; more in test_deployability_ml.py)
    good(
        "budget-start-date-current-month",
        "azure-native:consumption:Budget",
        {"timePeriod": {"startDate": "2099-01-01T00:00:00Z"}},
        "first of a future month",
    ),
    bad(
        "budget-start-date-current-month",
        "azure-native:consumption:Budget",
        {"timePeriod": {"startDate": "2020-01-01T00:00:00Z"}},
        "past month",
    ),
    # operations (more cases in test_operations_rules.py)
    good(
        "datastore-credentials",
        "azure-native:machinelearningservices:Datastore",
        {"properties": {"datastoreType": "AzureBlob", "credentials": {"credentialsType": "None"}}},
        "identity",
    ),
    bad(
        "datastore-credentials",
        "azure-native:machinelearningservices:Datastore",
        {"properties": {"datastoreType": "AzureBlob", "credentials": {"credentialsType": "AccountKey"}}},
        "key",
    ),
]


@pytest.mark.parametrize("env", ENVIRONMENTS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule_verdict_and_level(pack: Pack, env: str, case: Case) -> None:
    pack.configure(env)
    found = of(case.policy, pack.analyze(case.type, case.props))
    level = pack.levels[case.policy]
    if case.violates and level != "disabled":
        assert found, f"{case.policy} should flag {case.why} in {env}"
        assert {d.level for d in found} == {level}
        assert all(d.message.strip() for d in found)
    else:
        assert not found, [d.message for d in found]


def test_every_resource_rule_has_a_flagging_and_a_compliant_case(pack: Pack) -> None:
    stack_policies = {p.name for p in pack.policies if p.kind == "stack"}
    # deployability_* modules are tested by their own tests/policies/test_deployability_*.py
    theirs = {r.name for r in RULES if r.check is not None and ".deployability_" in r.check.__module__}
    resource_policies = {p.name for p in pack.policies} - stack_policies - theirs
    assert resource_policies == {c.policy for c in CASES if c.violates} - theirs
    assert resource_policies == {c.policy for c in CASES if not c.violates} - theirs


def test_levels_follow_the_environment(pack: Pack) -> None:
    levels = {}
    for env in ENVIRONMENTS:
        pack.configure(env)
        levels[env] = dict(pack.levels)
    network_and_cmk = (
        "public-network-access-disabled",
        "no-node-public-ip",
        "aks-private-cluster",
        "cmk-ml-workspace",
        "cmk-storage",
        "cmk-aks-disks",
        "cmk-batch-account",
    )
    assert all(levels["prd"][p] == "mandatory" for p in network_and_cmk)
    assert levels["dev"]["gpu-pool-low-priority"] == "mandatory"
    assert levels["dev"]["gpu-pool-scale-to-zero"] == "mandatory"
    assert levels["prd"]["gpu-pool-low-priority"] == "disabled"
    assert levels["prd"]["inference-pool-no-spot"] == "mandatory"
    assert levels["dev"]["cmk-storage"] == "disabled"


def test_environment_thresholds_differ(pack: Pack) -> None:
    pool = aml("Standard_NC24ads_A100_v4", scaleSettings={"maxNodeCount": 6.0, "nodeIdleTimeBeforeScaleDown": "PT20M"})
    flagged = {}
    for env in ENVIRONMENTS:
        pack.configure(env)
        flagged[env] = {d.policy for d in pack.analyze(ML_COMPUTE, pool)}
    assert "gpu-pool-max-nodes" in flagged["dev"] and "gpu-pool-max-nodes" not in flagged["test"]
    assert "gpu-pool-idle-scale-down" in flagged["dev"] and "gpu-pool-idle-scale-down" not in flagged["prd"]
    assert "gpu-sku-allowed" not in flagged["dev"]


def test_exemptions_come_from_config(pack: Pack) -> None:
    pool = aml(scaleSettings={"minNodeCount": 1.0, "maxNodeCount": 2.0})
    pack.configure("prd")
    assert of("gpu-pool-scale-to-zero", pack.analyze(ML_COMPUTE, pool, name="serving"))
    pack.configure(
        "prd",
        **{"gpu-pool-scale-to-zero": {"exemptions": [{"resource": "serv*", "reason": "always-warm online endpoint"}]}},
    )
    assert not of("gpu-pool-scale-to-zero", pack.analyze(ML_COMPUTE, pool, name="serving"))
    assert of("gpu-pool-scale-to-zero", pack.analyze(ML_COMPUTE, pool, name="training"))


def test_retired_sizes_cannot_be_exempted(pack: Pack) -> None:
    schema = next(p for p in pack.policies if p.name == "gpu-sku-not-retired").config_schema
    assert "exemptions" not in schema


def test_unknown_values_are_reported_as_cannot_run_not_a_crash(pack: Pack) -> None:
    pack.configure("prd")
    unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
    found = pack.analyze(STORAGE, {"publicNetworkAccess": unknown, "allowSharedKeyAccess": False})
    cannot = of("public-network-access-disabled", found)
    assert len(cannot) == 1 and cannot[0].level == "advisory" and "during preview" in cannot[0].message
    assert not of("storage-shared-key-disabled", found)


def test_numbers_arrive_as_floats_and_wrong_shapes_do_not_crash(pack: Pack) -> None:
    pack.configure("dev")
    odd = {"properties": {"computeType": "AmlCompute", "properties": {"vmSize": 42, "scaleSettings": "oops"}}}
    found = pack.analyze(ML_COMPUTE, odd)
    assert all(d.policy for d in found)  # reported normally, no exception from the pack


def test_an_unknown_pool_count_does_not_hide_a_retired_size_over_grpc(pack: Pack) -> None:
    """`pulumi preview` of a cluster whose GPU pool count comes from an apply: the size rules still judge the size, only
    the rules that need the count say they cannot run."""
    pack.configure("prd")
    unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
    profile = {"name": "oldgpu", "mode": "User", "vmSize": "Standard_NC6s_v3", "count": unknown}
    found = pack.analyze(AKS, {"agentPoolProfiles": [profile]})
    retired = of("gpu-sku-not-retired", found)
    assert len(retired) == 1 and retired[0].level == "mandatory" and "has retired" in retired[0].message
    assert "not allowed here" in of("gpu-sku-allowed", found)[0].message
    assert "during preview" in of("gpu-pool-scale-to-zero", found)[0].message
