"""Identity and hygiene: Azure AD (Entra ID) instead of keys and local accounts, RBAC on Key Vault, TLS >= 1.2."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, PolicyResource, Severity

from ._props import (
    AKS_CLUSTER,
    APP_CONFIGURATION,
    BATCH_ACCOUNT,
    COGNITIVE_ACCOUNT,
    CONTAINER_APP,
    CONTAINER_REGISTRY,
    COSMOS_ACCOUNT,
    EVENT_HUBS,
    K8S_EXTENSION,
    KEY_VAULT,
    ML_COMPUTE,
    ML_WORKSPACE,
    SEARCH_SERVICE,
    SERVICE_BUS,
    STORAGE_ACCOUNT,
    canonical_type,
    get,
    is_false,
    is_true,
    items,
    same,
    text,
)
from ._rule import UNKNOWN, Resource, Rule, known

CONCERN = "identity"
AZURE_ML_EXTENSION = "Microsoft.AzureML.Kubernetes"


def check_key_vault_rbac(resource: Resource, _config: Mapping[str, Any]) -> Iterator[str]:
    value = get(resource.props, "properties", "enableRbacAuthorization")
    if not is_true(value):
        yield f"properties.enableRbacAuthorization is {text(value)}; it must be true (no access policies)."


def check_storage_shared_key(resource: Resource, _config: Mapping[str, Any]) -> Iterator[str]:
    value = resource.props.get("allowSharedKeyAccess")
    if not is_false(value):
        default = " (Azure treats unset as true)" if value is None else ""
        yield f"allowSharedKeyAccess is {text(value)}{default}; it must be false."


def check_registry_admin(resource: Resource, _config: Mapping[str, Any]) -> Iterator[str]:
    if is_true(resource.props.get("adminUserEnabled")):
        yield "adminUserEnabled is true; it must be false."
    if is_true(resource.props.get("anonymousPullEnabled")):
        yield "anonymousPullEnabled is true; it must be false."


# Data services whose keys/SAS/connection strings are switched off by one top-level `disableLocalAuth` (absent means
# keys are accepted: each API documents the default as false).
DISABLE_LOCAL_AUTH: dict[str, tuple[str, ...]] = {
    COGNITIVE_ACCOUNT: ("properties", "disableLocalAuth"),
    ML_COMPUTE: ("properties", "disableLocalAuth"),  # every compute type (AmlCompute, ComputeInstance, Kubernetes, ...)
    COSMOS_ACCOUNT: ("disableLocalAuth",),
    SERVICE_BUS: ("disableLocalAuth",),
    EVENT_HUBS: ("disableLocalAuth",),
    APP_CONFIGURATION: ("disableLocalAuth",),
    SEARCH_SERVICE: ("disableLocalAuth",),
}


def check_local_auth(resource: Resource, _config: Mapping[str, Any]) -> Iterator[str]:
    props = resource.props
    if resource.type == ML_WORKSPACE:
        value = props.get("systemDatastoresAuthMode")
        if not same(value, "identity"):
            yield (
                f"systemDatastoresAuthMode is {text(value)}; set it to 'identity' so the default datastores use "
                "the workspace identity instead of storage account keys."
            )
        return
    path = DISABLE_LOCAL_AUTH[resource.type]
    value = get(props, *path)
    if not is_true(value):
        default = " (Azure's default: keys accepted)" if value is None else ""
        kind = get(props, "properties", "computeType") if resource.type == ML_COMPUTE else None
        what = f" on this {kind} compute" if isinstance(kind, str) else ""
        yield f"{'.'.join(path)} is {text(value)}{default}{what}; it must be true (Entra ID only, no keys)."


def check_batch_aad_only(resource: Resource, _config: Mapping[str, Any]) -> Iterator[str]:
    modes = resource.props.get("allowedAuthenticationModes")
    listed = [str(mode) for mode in items(modes)]
    if [mode.lower() for mode in listed] != ["aad"]:
        shown = "not set (Azure allows SharedKey, AAD and TaskAuthenticationToken)" if modes is None else str(listed)
        yield f"allowedAuthenticationModes is {shown}; it must be exactly ['AAD']."


def check_tls(resource: Resource, _config: Mapping[str, Any]) -> Iterator[str]:
    props = resource.props
    if resource.type == STORAGE_ACCOUNT:
        version = props.get("minimumTlsVersion")
        if not (same(version, "TLS1_2") or same(version, "TLS1_3")):
            yield f"minimumTlsVersion is {text(version)}; it must be 'TLS1_2' or newer."
        if is_false(props.get("enableHttpsTrafficOnly")):
            yield "enableHttpsTrafficOnly is false; it must be true."
    elif resource.type == CONTAINER_APP and is_true(get(props, "configuration", "ingress", "allowInsecure")):
        yield "configuration.ingress.allowInsecure is true; it must be false (HTTPS only)."


def _extension_targets(extension: PolicyResource, cluster: PolicyResource) -> bool:
    """Does this Kubernetes extension install into this cluster? By Azure name, or by the program's wiring."""
    if extension.parent is cluster or cluster in extension.dependencies:
        return True
    if any(dep is cluster for deps in extension.property_dependencies.values() for dep in deps):
        return True
    cluster_name = known(lambda: cluster.props.get("resourceName"))
    target = known(lambda: extension.props.get("clusterName"))
    return isinstance(cluster_name, str) and isinstance(target, str) and cluster_name.lower() == target.lower()


def _clusters_with_local_accounts(
    resources: list[PolicyResource], exempt: Callable[[PolicyResource], bool]
) -> Iterator[tuple[PolicyResource, Any, bool]]:
    """(cluster, disableLocalAccounts value, runs the Azure ML extension) for clusters that keep local accounts."""
    extensions = [
        r
        for r in resources
        if canonical_type(r.resource_type) == K8S_EXTENSION
        and known(lambda r=r: same(r.props.get("extensionType"), AZURE_ML_EXTENSION)) is True
    ]
    for cluster in resources:
        if canonical_type(cluster.resource_type) != AKS_CLUSTER or exempt(cluster):
            continue
        disabled = known(lambda c=cluster: c.props.get("disableLocalAccounts"))
        if disabled is UNKNOWN or is_true(disabled):
            continue
        yield cluster, disabled, any(_extension_targets(e, cluster) for e in extensions)


def check_aks_local_accounts(
    resources: list[PolicyResource], config: Mapping[str, Any], exempt: Callable[[PolicyResource], bool]
) -> Iterator[tuple[str, str | None]]:
    for cluster, disabled, has_azure_ml in _clusters_with_local_accounts(resources, exempt):
        if has_azure_ml and config.get("allowWithAzureMLExtension"):
            continue  # reported, visibly, by aks-local-accounts-azureml-exemption
        yield (
            f"disableLocalAccounts is {text(disabled)} (Azure's default: local accounts enabled); set "
            "disable_local_accounts=True so only Entra ID identities can get cluster credentials.",
            cluster.urn,
        )


def check_aks_local_accounts_exemption(
    resources: list[PolicyResource], _config: Mapping[str, Any], exempt: Callable[[PolicyResource], bool]
) -> Iterator[tuple[str, str | None]]:
    for cluster, disabled, has_azure_ml in _clusters_with_local_accounts(resources, exempt):
        if has_azure_ml:
            yield (
                f"exemption in effect: disableLocalAccounts is {text(disabled)} because this cluster runs the "
                f"{AZURE_ML_EXTENSION} extension, which does not support clusters with local accounts disabled; "
                "aks-local-accounts-disabled accepts it (allowWithAzureMLExtension). Keep "
                "Microsoft.ContainerService/managedClusters/listClusterAdminCredential/action to break-glass "
                "admins only.",
                cluster.urn,
            )


RULES = [
    Rule(
        name="keyvault-rbac-authorization",
        concern=CONCERN,
        summary="Key Vaults must use the Azure RBAC permission model, not access policies.",
        fix="properties={'enable_rbac_authorization': True} (ARM: properties.enableRbacAuthorization) and grant "
        "data-plane roles (e.g. Key Vault Crypto Service Encryption User) with authorization.RoleAssignment.",
        severity=Severity.MEDIUM,
        default_level=EnforcementLevel.MANDATORY,
        sources=("Azure Policy: Azure Key Vault should use RBAC permission model",),
        resource_types=(KEY_VAULT,),
        check=check_key_vault_rbac,
    ),
    Rule(
        name="storage-shared-key-disabled",
        concern=CONCERN,
        summary="Storage accounts must not accept Shared Key (account key / key-signed SAS) authorization.",
        fix="allow_shared_key_access=False (ARM: properties.allowSharedKeyAccess) and grant Storage Blob/File Data "
        "roles to managed identities; on ML workspaces also system_datastores_auth_mode='identity'.",
        severity=Severity.HIGH,
        default_level=EnforcementLevel.MANDATORY,
        sources=("Azure Policy: Storage accounts should prevent shared key access", "Checkov CKV2_AZURE_40"),
        resource_types=(STORAGE_ACCOUNT,),
        check=check_storage_shared_key,
    ),
    Rule(
        name="acr-admin-user-disabled",
        concern=CONCERN,
        summary="Container registries must not have the admin user or anonymous pull enabled.",
        fix="admin_user_enabled=False and anonymous_pull_enabled=False (ARM: properties.adminUserEnabled / "
        ".anonymousPullEnabled); pull with a managed identity holding AcrPull.",
        severity=Severity.HIGH,
        default_level=EnforcementLevel.MANDATORY,
        sources=(
            "Azure Policy: Container registries should have local admin account disabled",
            "Azure Policy: Container registries should have anonymous authentication disabled",
            "Checkov CKV_AZURE_137, CKV_AZURE_138",
        ),
        resource_types=(CONTAINER_REGISTRY,),
        check=check_registry_admin,
    ),
    Rule(
        name="local-auth-disabled",
        concern=CONCERN,
        summary="Data services must have local (key-based) authentication disabled: Cognitive Services / Azure "
        "OpenAI, every AML compute type, Cosmos DB, Service Bus, Event Hubs, App Configuration, AI Search; "
        "ML workspaces must reach their default datastores with their identity, not account keys.",
        fix="disable_local_auth=True (ARM: properties.disableLocalAuth; Cognitive Services: "
        "properties={'disable_local_auth': True}; AML compute: properties=ml.AmlComputeArgs(disable_local_auth="
        "True, ...) or the matching args of the other compute types); ML workspace: "
        "system_datastores_auth_mode 'identity'.",
        severity=Severity.HIGH,
        default_level=EnforcementLevel.MANDATORY,
        sources=(
            "Azure Policy: Cognitive Services accounts should have local authentication methods disabled",
            "Azure Policy: Azure Machine Learning Computes should have local authentication methods disabled",
            "PSRule Azure.ML.DisableLocalAuth, Azure.Cognitive.DisableLocalAuth, Azure.AppConfig.DisableLocalAuth",
            "Checkov CKV_AZURE_142, CKV_AZURE_236, CKV_AZURE_140, CKV_AZURE_203, CKV_AZURE_184",
        ),
        resource_types=(*DISABLE_LOCAL_AUTH, ML_WORKSPACE),
        check=check_local_auth,
    ),
    Rule(
        name="aad-only-auth",
        concern=CONCERN,
        summary="Batch accounts must accept Azure AD authentication only (no shared keys, no task tokens).",
        fix="allowed_authentication_modes=['AAD'] (ARM: properties.allowedAuthenticationModes) and give callers the "
        "Azure Batch roles they need.",
        severity=Severity.HIGH,
        default_level=EnforcementLevel.MANDATORY,
        sources=("Azure Policy: Batch accounts should have local authentication methods disabled",),
        resource_types=(BATCH_ACCOUNT,),
        check=check_batch_aad_only,
    ),
    Rule(
        name="aks-local-accounts-disabled",
        concern=CONCERN,
        summary="AKS clusters must have local accounts disabled — except, when allowWithAzureMLExtension is on, "
        "clusters running the Azure ML extension, which needs local accounts (that exemption is reported "
        "by aks-local-accounts-azureml-exemption, never silent).",
        fix="disable_local_accounts=True on the ManagedCluster (ARM: properties.disableLocalAccounts) with "
        "aad_profile set (see aks-entra-id-rbac); if the cluster hosts the Azure ML extension, keep local "
        "accounts and restrict who may call listClusterAdminCredential.",
        severity=Severity.HIGH,
        default_level=EnforcementLevel.MANDATORY,
        sources=(
            "Azure Policy: Azure Kubernetes Service Clusters should have local authentication methods disabled",
            "Checkov CKV_AZURE_141",
        ),
        config={
            "allowWithAzureMLExtension": {
                "type": "boolean",
                "description": "Accept local accounts on clusters that run the Microsoft.AzureML.Kubernetes extension.",
                "default": True,
            }
        },
        stack_check=check_aks_local_accounts,
    ),
    Rule(
        name="aks-local-accounts-azureml-exemption",
        concern=CONCERN,
        summary="Reports every AKS cluster that keeps local accounts because it runs the Azure ML extension, so the "
        "exemption aks-local-accounts-disabled grants is visible in each preview and CI report.",
        fix="Nothing to change while the cluster needs the Azure ML extension; restrict listClusterAdminCredential "
        "and listClusterUserCredential to break-glass admins. Once the extension supports it, set "
        "disable_local_accounts=True (ARM: properties.disableLocalAccounts).",
        severity=Severity.LOW,
        default_level=EnforcementLevel.ADVISORY,
        sources=(
            "Learn: Azure Machine Learning Kubernetes compute — limitations (AKS clusters with local accounts "
            "disabled are not supported)",
            "Azure Policy: Azure Kubernetes Service Clusters should have local authentication methods disabled",
            "aiinfra",
        ),
        stack_check=check_aks_local_accounts_exemption,
    ),
    Rule(
        name="tls-1-2-minimum",
        concern=CONCERN,
        summary="Endpoints must require TLS 1.2 or newer and HTTPS (storage accounts, container app ingress).",
        fix="Storage: minimum_tls_version='TLS1_2' and enable_https_traffic_only unset or True (ARM: "
        "properties.minimumTlsVersion / .supportsHttpsTrafficOnly); container apps: configuration={'ingress': "
        "{'allow_insecure': False}} (ARM: properties.configuration.ingress.allowInsecure).",
        severity=Severity.MEDIUM,
        default_level=EnforcementLevel.MANDATORY,
        sources=(
            "Azure Policy: Storage accounts should have the specified minimum TLS version",
            "Azure Policy: Secure transfer to storage accounts should be enabled",
        ),
        resource_types=(STORAGE_ACCOUNT, CONTAINER_APP),
        check=check_tls,
    ),
]
