"""Customer-managed keys where the service supports them, and Key Vaults that cannot lose those keys."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from ._props import (AKS_CLUSTER, BATCH_ACCOUNT, COGNITIVE_ACCOUNT, CONTAINER_REGISTRY, KEY_VAULT, ML_WORKSPACE,
                     STORAGE_ACCOUNT, get, is_false, is_true, mapping, same, text)
from ._rule import Resource, Rule

CONCERN = "encryption"


def _has_identity(props: Mapping[str, Any]) -> bool:
    kind = get(props, "identity", "type")
    return isinstance(kind, str) and kind.strip().lower() not in ("", "none")


def check_ml_workspace_cmk(resource: Resource, _config: Mapping[str, Any]) -> Iterator[str]:
    encryption = mapping(resource.props.get("encryption"))
    if not encryption:
        yield "encryption is not set; the workspace uses Microsoft-managed keys."
        return
    if not same(encryption.get("status"), "Enabled"):
        yield f"encryption.status is {text(encryption.get('status'))}; it must be 'Enabled'."
    key = mapping(encryption.get("keyVaultProperties"))
    if not key.get("keyIdentifier") or not key.get("keyVaultArmId"):
        yield "encryption.keyVaultProperties needs both keyIdentifier and keyVaultArmId."
    if not get(encryption, "identity", "userAssignedIdentity") and not _has_identity(resource.props):
        yield "encryption.identity.userAssignedIdentity is not set and the workspace has no managed identity."


def check_storage_cmk(resource: Resource, _config: Mapping[str, Any]) -> Iterator[str]:
    encryption = mapping(resource.props.get("encryption"))
    if not same(encryption.get("keySource"), "Microsoft.Keyvault"):
        yield (f"encryption.keySource is {text(encryption.get('keySource'))}; it must be 'Microsoft.Keyvault' "
               "(Azure's default is Microsoft.Storage, a Microsoft-managed key).")
        return
    key = mapping(encryption.get("keyVaultProperties"))
    if not key.get("keyName") or not key.get("keyVaultUri"):
        yield "encryption.keyVaultProperties needs both keyName and keyVaultUri."
    if not get(encryption, "encryptionIdentity", "encryptionUserAssignedIdentity") and not _has_identity(
            resource.props):
        yield "encryption.encryptionIdentity.encryptionUserAssignedIdentity is not set and the account has no identity."


def check_registry_cmk(resource: Resource, _config: Mapping[str, Any]) -> Iterator[str]:
    encryption = mapping(resource.props.get("encryption"))
    if not same(encryption.get("status"), "enabled"):
        yield f"encryption.status is {text(encryption.get('status'))}; it must be 'enabled'."
        return
    key = mapping(encryption.get("keyVaultProperties"))
    if not key.get("keyIdentifier"):
        yield "encryption.keyVaultProperties.keyIdentifier is not set."
    if not key.get("identity"):
        yield "encryption.keyVaultProperties.identity (client id of the identity that reads the key) is not set."


def check_batch_cmk(resource: Resource, _config: Mapping[str, Any]) -> Iterator[str]:
    encryption = mapping(resource.props.get("encryption"))
    if not same(encryption.get("keySource"), "Microsoft.KeyVault"):
        yield (f"encryption.keySource is {text(encryption.get('keySource'))}; it must be 'Microsoft.KeyVault' "
               "(Azure's default is Microsoft.Batch).")
        return
    if not get(encryption, "keyVaultProperties", "keyIdentifier"):
        yield "encryption.keyVaultProperties.keyIdentifier is not set."
    if not _has_identity(resource.props):
        yield "the account has no managed identity to read the key with."


def check_aks_disk_cmk(resource: Resource, _config: Mapping[str, Any]) -> Iterator[str]:
    if not resource.props.get("diskEncryptionSetID"):
        yield "diskEncryptionSetID is not set; node OS and data disks use platform-managed keys."


def check_cognitive_cmk(resource: Resource, _config: Mapping[str, Any]) -> Iterator[str]:
    encryption = mapping(get(resource.props, "properties", "encryption"))
    if not same(encryption.get("keySource"), "Microsoft.KeyVault"):
        yield (f"properties.encryption.keySource is {text(encryption.get('keySource'))}; it must be "
               "'Microsoft.KeyVault'.")
        return
    key = mapping(encryption.get("keyVaultProperties"))
    if not key.get("keyName") or not key.get("keyVaultUri"):
        yield "properties.encryption.keyVaultProperties needs both keyName and keyVaultUri."
    if not key.get("identityClientId") and not _has_identity(resource.props):
        yield "properties.encryption.keyVaultProperties.identityClientId is not set and the account has no identity."


def check_key_vault_recoverable(resource: Resource, _config: Mapping[str, Any]) -> Iterator[str]:
    properties = mapping(resource.props.get("properties"))
    if is_false(properties.get("enableSoftDelete")):
        yield "properties.enableSoftDelete is false; it must be true (or unset: Azure's default is true)."
    if not is_true(properties.get("enablePurgeProtection")):
        yield f"properties.enablePurgeProtection is {text(properties.get('enablePurgeProtection'))}; it must be true."


def _cmk_rule(name: str, service: str, resource_type: str, fix: str, sources: tuple[str, ...], check: Any) -> Rule:
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


RULES = [
    _cmk_rule("cmk-ml-workspace", "Azure ML workspaces", ML_WORKSPACE,
              "Set encryption.status 'Enabled', encryption.keyVaultProperties (keyIdentifier, keyVaultArmId) and "
              "encryption.identity.userAssignedIdentity (an identity with Key Vault Crypto Service Encryption User "
              "on the key). CMK can only be chosen when the workspace is created.",
              ("Azure Policy: Azure Machine Learning workspaces should be encrypted with a customer-managed key",),
              check_ml_workspace_cmk),
    _cmk_rule("cmk-storage", "Storage accounts", STORAGE_ACCOUNT,
              "Set encryption.keySource 'Microsoft.Keyvault', encryption.keyVaultProperties (keyName, keyVaultUri) "
              "and encryption.encryptionIdentity.encryptionUserAssignedIdentity.",
              ("Azure Policy: Storage accounts should use customer-managed key for encryption", "Checkov CKV2_AZURE_1"),
              check_storage_cmk),
    _cmk_rule("cmk-container-registry", "Container registries", CONTAINER_REGISTRY,
              "Use the Premium SKU and set encryption.status 'enabled' with encryption.keyVaultProperties "
              "(keyIdentifier, identity = client id of a user-assigned identity); only possible at creation.",
              ("Azure Policy: Container registries should be encrypted with a customer-managed key",),
              check_registry_cmk),
    _cmk_rule("cmk-batch-account", "Batch accounts", BATCH_ACCOUNT,
              "Set encryption.keySource 'Microsoft.KeyVault' and encryption.keyVaultProperties.keyIdentifier, and "
              "give the account a managed identity with access to the key.",
              ("Azure Policy: Azure Batch account should use customer-managed keys to encrypt data",),
              check_batch_cmk),
    _cmk_rule("cmk-aks-disks", "AKS node disks", AKS_CLUSTER,
              "Create a Disk Encryption Set over the Key Vault key and set the cluster's diskEncryptionSetID "
              "(only at creation).",
              ("Azure Policy: Both operating systems and data disks in Azure Kubernetes Service clusters should be "
               "encrypted by customer-managed keys", "Checkov CKV_AZURE_117"),
              check_aks_disk_cmk),
    _cmk_rule("cmk-cognitive-services", "Cognitive Services / Azure OpenAI accounts", COGNITIVE_ACCOUNT,
              "Set properties.encryption.keySource 'Microsoft.KeyVault' with properties.encryption.keyVaultProperties "
              "(keyName, keyVaultUri, identityClientId).",
              ("Azure Policy: Cognitive Services accounts should enable data encryption with a customer-managed key",),
              check_cognitive_cmk),
    Rule(
        name="keyvault-soft-delete-purge-protection",
        concern=CONCERN,
        summary="Key Vaults must keep soft delete on and purge protection enabled, so keys (and the data they "
                "encrypt) cannot be destroyed by a single delete.",
        fix="Leave properties.enableSoftDelete unset or true and set properties.enablePurgeProtection to true "
            "(it cannot be turned off again).",
        severity=Severity.HIGH,
        default_level=EnforcementLevel.MANDATORY,
        sources=("Azure Policy: Key vaults should have deletion protection enabled",
                 "Azure Policy: Key vaults should have soft delete enabled",
                 "Checkov CKV_AZURE_42, CKV_AZURE_110, CKV_AZURE_111"),
        resource_types=(KEY_VAULT,),
        check=check_key_vault_recoverable,
    ),
]
