"""Deployability of Azure ML on AKS: what makes the extension install or the Kubernetes compute attach fail on real
Azure although every resource is valid on its own. Stack rules: they join a compute to its workspace and cluster,
and an extension to its cluster, by ARM id or name when known and by the program's wiring otherwise (ids of
resources still to be created are unknown during preview).

Sources (Microsoft Learn): "Workspace managed virtual network isolation" (Limitations), "Attach a Kubernetes
cluster to Azure Machine Learning workspace" (Prerequisites, namespace), "Deploy Azure Machine Learning extension on
AKS or Arc Kubernetes cluster" (sslSecret / sslCertPemFile, sslCname); Azure/azure-cli-extensions k8s-extension
AzureMLKubernetes.py (protected scoringFe.sslCert / scoringFe.sslKey).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, PolicyResource, Severity

from ._props import (
    AKS_CLUSTER,
    K8S_EXTENSION,
    ML_COMPUTE,
    ML_WORKSPACE,
    arm_id_parts,
    canonical_type,
    get,
    is_true,
    same,
)
from ._rule import UNKNOWN, Rule, known

CONCERN = "deployability"
AZURE_ML_EXTENSION = "Microsoft.AzureML.Kubernetes"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
MANAGED_NAMESPACE = "azure-native:containerservice:ManagedNamespace"
K8S_NAMESPACE = "kubernetes:core/v1:Namespace"
# Built-in roles Learn lists for the workspace's user-assigned identity on the cluster, by role definition GUID.
ATTACH_ROLES: dict[str, str] = {
    "acdd72a7-3385-48ef-bd42-f606fba81ae7": "Reader",
    "85cb6faf-e071-4c9b-8136-154b5a04f717": "Kubernetes Extension Contributor",
    "0ab0b1a8-8aac-4efd-b8c2-3ee1fb270be8": "Azure Kubernetes Service Cluster Admin Role",
}
_SSL_SECRET_KEYS = ("sslSecret", "scoringFe.sslSecret")
_PROTECTED_TLS_KEYS = ("scoringFe.sslCert", "scoringFe.sslKey")


def _type(resource: PolicyResource) -> str:
    return canonical_type(resource.resource_type)


def _value(resource: PolicyResource, *path: str) -> Any:
    return known(lambda: get(resource.props, *path))


def _text(resource: PolicyResource, *path: str) -> str | None:
    value = _value(resource, *path)
    return value if isinstance(value, str) and value else None


def _wired(resource: PolicyResource, prop: str, target: PolicyResource) -> bool:
    """The program passed `target` (or one of its outputs) into `resource`'s property `prop`."""
    return any(dep is target for dep in resource.property_dependencies.get(prop, []))


def _same_name(left: str | None, right: str | None) -> bool:
    return left is not None and right is not None and left.lower() == right.lower()


def _arm_id(resource: PolicyResource, arm_type: str, name_prop: str) -> tuple[str, str, str] | None:
    own = arm_id_parts(_text(resource, "id"))
    if own:
        return own
    name, group = _text(resource, name_prop), _text(resource, "resourceGroupName")
    return (group.lower(), arm_type, name.lower()) if name and group else None


def _kubernetes_computes(resources: list[PolicyResource]) -> list[PolicyResource]:
    return [
        r for r in resources if _type(r) == ML_COMPUTE and same(_value(r, "properties", "computeType"), "Kubernetes")
    ]


def _workspace_of(compute: PolicyResource, resources: list[PolicyResource]) -> PolicyResource | None:
    for workspace in (r for r in resources if _type(r) == ML_WORKSPACE):
        if _wired(compute, "workspaceName", workspace):
            return workspace
        if _same_name(_text(compute, "workspaceName"), _text(workspace, "workspaceName")) and _same_name(
            _text(compute, "resourceGroupName"), _text(workspace, "resourceGroupName")
        ):
            return workspace
    return None


def _cluster_of(compute: PolicyResource, resources: list[PolicyResource]) -> PolicyResource | None:
    target = arm_id_parts(_text(compute, "properties", "resourceId"))
    clusters = [r for r in resources if _type(r) == AKS_CLUSTER]
    for cluster in clusters:
        own = _arm_id(cluster, "microsoft.containerservice/managedclusters", "resourceName")
        if target is not None and own == target:
            return cluster
    wired = [c for c in clusters if _wired(compute, "properties", c)]
    return wired[0] if target is None and len(wired) == 1 else None


def _extension_cluster(extension: PolicyResource, resources: list[PolicyResource]) -> PolicyResource | None:
    for cluster in (r for r in resources if _type(r) == AKS_CLUSTER):
        if _wired(extension, "clusterName", cluster) or _same_name(
            _text(extension, "clusterName"), _text(cluster, "resourceName")
        ):
            return cluster
    return None


def _scoped_to(assignment: PolicyResource, cluster: PolicyResource) -> bool:
    if _wired(assignment, "scope", cluster):
        return True
    scope = arm_id_parts(_text(assignment, "scope"))
    return scope is not None and scope == _arm_id(cluster, "microsoft.containerservice/managedclusters", "resourceName")


def check_no_managed_network(
    resources: list[PolicyResource], _config: Mapping[str, Any], exempt: Callable[[PolicyResource], bool]
) -> Iterator[tuple[str, str | None]]:
    for compute in _kubernetes_computes(resources):
        workspace = _workspace_of(compute, resources)
        if workspace is None or exempt(compute):
            continue
        mode = _value(workspace, "managedNetwork", "isolationMode")
        if mode is UNKNOWN or mode is None or same(mode, "Disabled"):
            continue
        yield (
            f"Kubernetes compute is attached to workspace '{workspace.name}', whose managed network "
            f"(isolationMode {mode}) does not support Kubernetes compute; attach it to a workspace with "
            "managedNetwork.isolationMode 'Disabled' (isolated by its private endpoint in your VNet).",
            compute.urn,
        )


def check_attach_roles(
    resources: list[PolicyResource], _config: Mapping[str, Any], exempt: Callable[[PolicyResource], bool]
) -> Iterator[tuple[str, str | None]]:
    assignments = [r for r in resources if _type(r) == ROLE_ASSIGNMENT]
    for compute in _kubernetes_computes(resources):
        workspace, cluster = _workspace_of(compute, resources), _cluster_of(compute, resources)
        if workspace is None or cluster is None or exempt(compute):
            continue
        identity_type = _value(workspace, "identity", "type")
        if (
            not isinstance(identity_type, str)
            or "userassigned" not in identity_type.replace(",", "").replace(" ", "").lower()
        ):
            continue  # a system-assigned workspace identity is granted by Azure ML itself
        granted: dict[str, list[PolicyResource]] = {guid: [] for guid in ATTACH_ROLES}
        for assignment in assignments:
            role = _text(assignment, "roleDefinitionId")
            guid = role.rsplit("/", 1)[-1].lower() if role else None
            if guid in granted and _scoped_to(assignment, cluster):
                granted[guid].append(assignment)
        missing = [ATTACH_ROLES[g] for g, found in granted.items() if not found]
        if missing:
            yield (
                f"the workspace's user-assigned identity needs {', '.join(missing)} on cluster "
                f"'{cluster.name}' before the attach (Azure ML fails it with 'extension not installed' or "
                "'internal server error'); add those role assignments scoped to the cluster.",
                compute.urn,
            )
            continue
        waits = [
            ATTACH_ROLES[g]
            for g, found in granted.items()
            if not any(any(dep is a for dep in compute.dependencies) for a in found)
        ]
        if waits:
            yield (
                f"the compute does not wait for the {', '.join(waits)} assignment(s) on cluster "
                f"'{cluster.name}'; add them to its depends_on so the attach runs after the grants.",
                compute.urn,
            )


def _namespace_created(
    namespace: str, cluster: PolicyResource, resources: list[PolicyResource]
) -> PolicyResource | None:
    for resource in resources:
        if (
            _type(resource) == MANAGED_NAMESPACE
            and _same_name(_text(resource, "managedNamespaceName"), namespace)
            and (
                _wired(resource, "resourceName", cluster)
                or _same_name(_text(resource, "resourceName"), _text(cluster, "resourceName"))
            )
        ):
            return resource
        if resource.resource_type == K8S_NAMESPACE and _same_name(_text(resource, "metadata", "name"), namespace):
            return resource
    return None


def check_namespace_exists(
    resources: list[PolicyResource], _config: Mapping[str, Any], exempt: Callable[[PolicyResource], bool]
) -> Iterator[tuple[str, str | None]]:
    for compute in _kubernetes_computes(resources):
        cluster = _cluster_of(compute, resources)
        if cluster is None or exempt(compute):
            continue  # a cluster made elsewhere may well have the namespace already
        namespace = _value(compute, "properties", "properties", "namespace")
        if namespace is UNKNOWN:
            continue
        namespace = namespace if isinstance(namespace, str) and namespace else "default"
        if namespace == "default":
            continue
        made = _namespace_created(namespace, cluster, resources)
        if made is None:
            yield (
                f"namespace '{namespace}' is not created in cluster '{cluster.name}', and the attach neither "
                "creates nor checks it (jobs sent there fail); create it in this program (an AKS managed "
                "namespace, azure-native:containerservice:ManagedNamespace) and make the compute depend on it.",
                compute.urn,
            )
        elif not any(dep is made for dep in compute.dependencies):
            yield (
                f"the compute does not wait for namespace '{namespace}'; add it to the compute's depends_on.",
                compute.urn,
            )


def check_inference_tls(
    resources: list[PolicyResource], _config: Mapping[str, Any], exempt: Callable[[PolicyResource], bool]
) -> Iterator[tuple[str, str | None]]:
    for extension in (r for r in resources if _type(r) == K8S_EXTENSION):
        if exempt(extension) or not same(_value(extension, "extensionType"), AZURE_ML_EXTENSION):
            continue
        settings = _value(extension, "configurationSettings")
        protected = _value(extension, "configurationProtectedSettings")
        if settings is UNKNOWN or protected is UNKNOWN:
            continue
        settings = settings if isinstance(settings, Mapping) else {}
        # A secret map arrives masked (e.g. `[secret]` from the offline engine): its keys cannot be read, so it
        # counts as carrying the material rather than as missing it.
        opaque = protected is not None and not isinstance(protected, Mapping)
        protected = protected if isinstance(protected, Mapping) else {}
        plain = [k for k in (*_PROTECTED_TLS_KEYS, "sslKeyPemFile", "sslCertPemFile") if k in settings]
        if plain:
            yield (
                f"configurationSettings carries {', '.join(plain)} in plain text (in the plan and state); move the "
                "certificate and key to configurationProtectedSettings, from secrets.",
                extension.urn,
            )
        if not is_true(settings.get("enableInference")) or is_true(settings.get("allowInsecureConnections")):
            continue
        has_material = opaque or all(k in protected for k in _PROTECTED_TLS_KEYS)
        secret_name = next((settings[k] for k in _SSL_SECRET_KEYS if settings.get(k)), None)
        cluster = _extension_cluster(extension, resources)
        if not has_material and secret_name is not None and cluster is not None:
            yield (
                f"HTTPS inference reads Kubernetes secret '{secret_name}' (sslSecret) from the azureml namespace "
                f"of cluster '{cluster.name}', which this program creates, so the secret cannot exist when the "
                "extension installs; pass the PEM certificate and key base64-encoded as "
                "configurationProtectedSettings scoringFe.sslCert and scoringFe.sslKey instead.",
                extension.urn,
            )
        elif not has_material and secret_name is None:
            yield (
                "HTTPS inference (enableInference true, allowInsecureConnections not true) has no certificate: "
                "the install fails; pass scoringFe.sslCert and scoringFe.sslKey (base64 PEM) as "
                "configurationProtectedSettings, or allowInsecureConnections 'true' for HTTP inside the VNet.",
                extension.urn,
            )
        if not settings.get("sslCname"):
            yield (
                "HTTPS inference needs sslCname (the host name on the router's certificate) in configurationSettings.",
                extension.urn,
            )


_LEARN_ATTACH = "Microsoft Learn: Attach a Kubernetes cluster to Azure Machine Learning workspace"

RULES = [
    Rule(
        name="aks-compute-no-managed-network",
        concern=CONCERN,
        summary="Kubernetes compute cannot be attached to an Azure ML workspace that has a managed virtual network.",
        fix="Attach the cluster to a workspace with `managed_network=ml.ManagedNetworkSettingsArgs(isolation_mode='Disabled')` (ARM properties.managedNetwork.isolationMode 'Disabled') (public access off, "
        "isolated by its private endpoint in your VNet), or do not attach it.",
        severity=Severity.HIGH,
        default_level=EnforcementLevel.ADVISORY,
        sources=("Microsoft Learn: Workspace managed virtual network isolation (Limitations)",),
        stack_check=check_no_managed_network,
    ),
    Rule(
        name="aks-compute-attach-roles",
        concern=CONCERN,
        summary="Before Kubernetes compute is attached, a workspace with a user-assigned identity needs Reader, "
        "Kubernetes Extension Contributor and Azure Kubernetes Service Cluster Admin Role on the cluster.",
        fix=(
            "In Python: `authorization.RoleAssignment(scope=cluster.id, principal_id=...)` (ARM properties.principalId) and `depends_on` on the compute. "
            "Grant those roles to the workspace's user-assigned identity, scoped to the AKS cluster, and make the "
            "compute depend on the assignments."
        ),
        severity=Severity.HIGH,
        default_level=EnforcementLevel.ADVISORY,
        sources=(_LEARN_ATTACH + " (Prerequisites)",),
        stack_check=check_attach_roles,
    ),
    Rule(
        name="aks-compute-namespace-exists",
        concern=CONCERN,
        summary="The namespace of an attached Kubernetes compute must exist: the attach neither creates nor checks "
        "it, and jobs sent to a missing namespace fail.",
        fix=(
            "In Python: `containerservice.ManagedNamespace(managed_namespace_name=...)` (ARM properties of managedClusters/managedNamespaces), `depends_on` on the compute. "
            "Create the namespace in the same program (azure-native:containerservice:ManagedNamespace) and make the "
            "compute depend on it, or use an existing namespace."
        ),
        severity=Severity.MEDIUM,
        default_level=EnforcementLevel.ADVISORY,
        sources=(_LEARN_ATTACH,),
        stack_check=check_namespace_exists,
    ),
    Rule(
        name="azureml-extension-inference-tls",
        concern=CONCERN,
        summary="HTTPS inference through the Azure ML extension needs its certificate and key as protected settings "
        "(an sslSecret cannot exist in a cluster the same deployment creates) and an sslCname; TLS material "
        "never goes in plain configurationSettings.",
        fix=(
            "In Python: `configuration_protected_settings` (ARM properties.configurationProtectedSettings). "
            "Pass base64 PEM certificate and key as configurationProtectedSettings scoringFe.sslCert / "
            "scoringFe.sslKey from secrets, set sslCname, or allowInsecureConnections 'true' for HTTP in the VNet."
        ),
        severity=Severity.HIGH,
        default_level=EnforcementLevel.ADVISORY,
        sources=(
            "Microsoft Learn: Deploy Azure Machine Learning extension on AKS (configuration settings)",
            "Azure/azure-cli-extensions k8s-extension AzureMLKubernetes.py",
        ),
        stack_check=check_inference_tls,
    ),
]
