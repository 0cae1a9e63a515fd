"""Customer-managed keys where the service supports them, and Key Vaults that cannot lose those keys."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from ._props import (
    AKS_CLUSTER,
    BATCH_ACCOUNT,
    BATCH_POOL,
    COGNITIVE_ACCOUNT,
    CONTAINER_REGISTRY,
    KEY_VAULT,
    ML_WORKSPACE,
    STORAGE_ACCOUNT,
    get,
    is_false,
    is_true,
    items,
    mapping,
    same,
    text,
)
from ._rule import Check, Resource, Rule

CONCERN = "encryption"


def _has_identity(props: Mapping[str, Any]) -> bool:
    kind = get(props, "identity", "type")
    return isinstance(kind, str) and kind.strip().lower() not in ("", "none")


@dataclass(frozen=True)
class CmkShape:
    """Where a service keeps its customer-managed-key settings, relative to its `encryption` object."""

    encryption: tuple[str, ...]  # path to the encryption object
    switch: str  # the property that selects the key source
    expected: str  # its value when a Key Vault key is used
    default: str  # what Azure uses when it is not
    key_fields: tuple[str, ...]  # required under keyVaultProperties
    identity: tuple[str, ...] | None  # where the key-reading identity goes (else: the resource's identity)


CMK_SHAPES: dict[str, CmkShape] = {
    ML_WORKSPACE: CmkShape(
        ("encryption",),
        "status",
        "Enabled",
        "Microsoft-managed keys",
        ("keyIdentifier", "keyVaultArmId"),
        ("identity", "userAssignedIdentity"),
    ),
    STORAGE_ACCOUNT: CmkShape(
        ("encryption",),
        "keySource",
        "Microsoft.Keyvault",
        "Microsoft.Storage",
        ("keyName", "keyVaultUri"),
        ("encryptionIdentity", "encryptionUserAssignedIdentity"),
    ),
    CONTAINER_REGISTRY: CmkShape(
        ("encryption",),
        "status",
        "enabled",
        "Microsoft-managed keys",
        ("keyIdentifier",),
        ("keyVaultProperties", "identity"),
    ),
    BATCH_ACCOUNT: CmkShape(
        ("encryption",), "keySource", "Microsoft.KeyVault", "Microsoft.Batch", ("keyIdentifier",), None
    ),
    COGNITIVE_ACCOUNT: CmkShape(
        ("properties", "encryption"),
        "keySource",
        "Microsoft.KeyVault",
        "Microsoft-managed keys",
        ("keyName", "keyVaultUri"),
        ("keyVaultProperties", "identityClientId"),
    ),
}


def check_cmk(resource: Resource, _config: Mapping[str, Any]) -> Iterator[str]:
    shape = CMK_SHAPES[resource.type]
    where = ".".join(shape.encryption)
    encryption = mapping(get(resource.props, *shape.encryption))
    switch = encryption.get(shape.switch)
    if not same(switch, shape.expected):
        default = f" (Azure's default is {shape.default})" if switch is None else ""
        yield f"{where}.{shape.switch} is {text(switch)}{default}; it must be '{shape.expected}'."
        return
    key = mapping(encryption.get("keyVaultProperties"))
    missing = [f for f in shape.key_fields if not key.get(f)]
    if missing:
        yield f"{where}.keyVaultProperties needs {' and '.join(shape.key_fields)}; missing {', '.join(missing)}."
    if not (shape.identity and get(encryption, *shape.identity)) and not _has_identity(resource.props):
        named = f"{where}.{'.'.join(shape.identity)} is not set and " if shape.identity else ""
        yield f"{named}the resource has no managed identity to read the key with."


def check_aks_disk_cmk(resource: Resource, _config: Mapping[str, Any]) -> Iterator[str]:
    if not resource.props.get("diskEncryptionSetID"):
        yield "diskEncryptionSetID is not set; node OS and data disks use platform-managed keys."


def check_key_vault_recoverable(resource: Resource, _config: Mapping[str, Any]) -> Iterator[str]:
    properties = mapping(resource.props.get("properties"))
    if is_false(properties.get("enableSoftDelete")):
        yield "properties.enableSoftDelete is false; it must be true (or unset: Azure's default is true)."
    if not is_true(properties.get("enablePurgeProtection")):
        yield f"properties.enablePurgeProtection is {text(properties.get('enablePurgeProtection'))}; it must be true."


def _cmk_rule(
    name: str, service: str, resource_type: str, fix: str, sources: tuple[str, ...], check: Check = check_cmk
) -> Rule:
    return Rule(
        name=name,
        concern=CONCERN,
        summary=f"{service} must encrypt data at rest with a customer-managed key from Key Vault, read by a managed "
        "identity.",
        fix=fix,
        severity=Severity.HIGH,
        default_level=EnforcementLevel.MANDATORY,
        sources=sources,
        resource_types=(resource_type,),
        check=check,
    )


BATCH_DISK_TARGETS = ("OsDisk", "TemporaryDisk")
"""Targets a Windows pool must name. A Linux pool accepts TemporaryDisk only: the Batch API's
DiskEncryptionConfiguration says "On Linux pool, only 'TemporaryDisk' is supported; on Windows pool, 'OsDisk' and
'TemporaryDisk' must be specified" (azure-rest-api-specs, Microsoft.Batch BatchManagement.json), and its OS disk is a
managed disk encrypted at rest (Learn, "Create a pool with disk encryption enabled"). Asking a Linux pool for OsDisk
would make ARM reject it."""
BATCH_LINUX_DISK_TARGETS = ("TemporaryDisk",)


def _batch_pool_is_linux(props: Mapping[str, Any]) -> bool:
    """Linux unless the node agent is Windows (`batch.node.windows amd64`); the agent SKU names the OS."""
    agent = get(props, "deploymentConfiguration", "virtualMachineConfiguration", "nodeAgentSkuId")
    return not (isinstance(agent, str) and agent.lower().startswith("batch.node.windows"))


def check_batch_pool_disk_encryption(resource: Resource, _config: Mapping[str, Any]) -> Iterator[str]:
    where = "deploymentConfiguration.virtualMachineConfiguration.diskEncryptionConfiguration.targets"
    targets = get(resource.props, *where.split("."))
    present = {str(t).lower() for t in items(targets)}
    linux = _batch_pool_is_linux(resource.props)
    wanted = BATCH_LINUX_DISK_TARGETS if linux else BATCH_DISK_TARGETS
    missing = [t for t in wanted if t.lower() not in present]
    if missing:
        yield (
            f"{where} is {text(targets)}; add {', '.join(missing)} (disk_encryption_configuration={{'targets': "
            f"{list(wanted)!r}}}" + ("; a Linux pool accepts TemporaryDisk only)." if linux else ").")
        )
    elif linux and "osdisk" in present:
        yield (
            f"{where} is {text(targets)}: a Linux pool accepts TemporaryDisk only and ARM rejects OsDisk; "
            "use disk_encryption_configuration={'targets': ['TemporaryDisk']} (the OS disk is a managed disk, "
            "encrypted at rest)."
        )


RULES = [
    _cmk_rule(
        "cmk-ml-workspace",
        "Azure ML workspaces",
        ML_WORKSPACE,
        "encryption={'status': 'Enabled', 'key_vault_properties': {'key_identifier': ..., 'key_vault_arm_id': "
        "...}, 'identity': {'user_assigned_identity': ...}} (ARM: properties.encryption), an identity with Key "
        "Vault Crypto Service Encryption User on the key; CMK can only be chosen when the workspace is created.",
        ("Azure Policy: Azure Machine Learning workspaces should be encrypted with a customer-managed key",),
    ),
    _cmk_rule(
        "cmk-storage",
        "Storage accounts",
        STORAGE_ACCOUNT,
        "encryption={'key_source': 'Microsoft.Keyvault', 'key_vault_properties': {'key_name': ..., "
        "'key_vault_uri': ...}, 'encryption_identity': {'encryption_user_assigned_identity': ...}} (ARM: "
        "properties.encryption.keySource / .keyvaultproperties / .identity).",
        ("Azure Policy: Storage accounts should use customer-managed key for encryption", "Checkov CKV2_AZURE_1"),
    ),
    _cmk_rule(
        "cmk-container-registry",
        "Container registries",
        CONTAINER_REGISTRY,
        "Premium SKU with encryption={'status': 'enabled', 'key_vault_properties': {'key_identifier': ..., "
        "'identity': <client id of a user-assigned identity>}} (ARM: properties.encryption); only possible at "
        "creation.",
        ("Azure Policy: Container registries should be encrypted with a customer-managed key",),
    ),
    _cmk_rule(
        "cmk-batch-account",
        "Batch accounts",
        BATCH_ACCOUNT,
        "encryption={'key_source': 'Microsoft.KeyVault', 'key_vault_properties': {'key_identifier': ...}} "
        "(ARM: properties.encryption.keySource / .keyVaultProperties.keyIdentifier) and an identity= with "
        "access to the key.",
        ("Azure Policy: Azure Batch account should use customer-managed keys to encrypt data",),
    ),
    _cmk_rule(
        "cmk-aks-disks",
        "AKS node disks",
        AKS_CLUSTER,
        "Create a compute.DiskEncryptionSet over the Key Vault key and set disk_encryption_set_id on the "
        "ManagedCluster (ARM: properties.diskEncryptionSetID; only at creation).",
        (
            "Azure Policy: Both operating systems and data disks in Azure Kubernetes Service clusters should be "
            "encrypted by customer-managed keys",
            "Checkov CKV_AZURE_117",
        ),
        check_aks_disk_cmk,
    ),
    _cmk_rule(
        "cmk-cognitive-services",
        "Cognitive Services / Azure OpenAI accounts",
        COGNITIVE_ACCOUNT,
        "properties={'encryption': {'key_source': 'Microsoft.KeyVault', 'key_vault_properties': {'key_name': "
        "..., 'key_vault_uri': ..., 'identity_client_id': ...}}} (ARM: properties.encryption.keySource / "
        ".keyVaultProperties).",
        ("Azure Policy: Cognitive Services accounts should enable data encryption with a customer-managed key",),
    ),
    Rule(
        name="batch-pool-disk-encryption",
        concern=CONCERN,
        summary="Batch pools must encrypt their nodes' disks: the temporary disk on Linux (the only target Linux "
        "accepts), the OS and temporary disks on Windows.",
        fix="batch.Pool(deployment_configuration={'virtual_machine_configuration': {..., "
        "'disk_encryption_configuration': {'targets': ['TemporaryDisk']}}}) on Linux, ['OsDisk', "
        "'TemporaryDisk'] on Windows (ARM: properties."
        "deploymentConfiguration.virtualMachineConfiguration.diskEncryptionConfiguration.targets); set at "
        "pool creation.",
        severity=Severity.MEDIUM,
        default_level=EnforcementLevel.MANDATORY,
        sources=(
            "Azure Policy: Azure Batch pools should have disk encryption enabled (1760f9d4-7206-436e-a28f-d9f3a5c8a227)",
            "azure-rest-api-specs Microsoft.Batch DiskEncryptionConfiguration: on Linux only TemporaryDisk",
        ),
        resource_types=(BATCH_POOL,),
        check=check_batch_pool_disk_encryption,
    ),
    Rule(
        name="keyvault-soft-delete-purge-protection",
        concern=CONCERN,
        summary="Key Vaults must keep soft delete on and purge protection enabled, so keys (and the data they "
        "encrypt) cannot be destroyed by a single delete.",
        fix="properties={'enable_soft_delete': True (or unset), 'enable_purge_protection': True} (ARM: "
        "properties.enableSoftDelete / .enablePurgeProtection); purge protection cannot be turned off again.",
        severity=Severity.HIGH,
        default_level=EnforcementLevel.MANDATORY,
        sources=(
            "Azure Policy: Key vaults should have deletion protection enabled",
            "Azure Policy: Key vaults should have soft delete enabled",
            "Checkov CKV_AZURE_42, CKV_AZURE_110, CKV_AZURE_111",
        ),
        resource_types=(KEY_VAULT,),
        check=check_key_vault_recoverable,
    ),
]
