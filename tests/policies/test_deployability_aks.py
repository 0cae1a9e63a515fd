"""Deployability of Azure ML on AKS through the pack's gRPC server (AnalyzeStack), as the engine drives it: a
Kubernetes compute on a managed-network workspace, without the workspace identity's roles on the cluster, in a
namespace nobody creates; an extension whose HTTPS certificate cannot exist or sits in plain text. Programs in other
styles: matched by ARM ids and names, or only by the program's wiring (preview-time unknown ids)."""

from __future__ import annotations

from typing import Any

import pytest
from pack_client import ENVIRONMENTS, Pack, StackResource, of

from aiinfra.policies import rule

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
RG = "rg-ml"
SUB = "/subscriptions/00000000-0000-0000-0000-000000000000"
WS = "azure-native:machinelearningservices:Workspace"
COMPUTE = "azure-native:machinelearningservices:Compute"
AKS = "azure-native:containerservice:ManagedCluster"
EXT = "azure-native:kubernetesconfiguration:Extension"
ROLE = "azure-native:authorization:RoleAssignment"
NS = "azure-native:containerservice:ManagedNamespace"
CLUSTER_ID = f"{SUB}/resourceGroups/{RG}/providers/Microsoft.ContainerService/managedClusters/aks-gpu"
ROLES = {
    "Reader": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
    "Kubernetes Extension Contributor": "85cb6faf-e071-4c9b-8136-154b5a04f717",
    "Azure Kubernetes Service Cluster Admin Role": "0ab0b1a8-8aac-4efd-b8c2-3ee1fb270be8",
}
RULES = (
    "aks-compute-no-managed-network",
    "aks-compute-attach-roles",
    "aks-compute-namespace-exists",
    "azureml-extension-inference-tls",
)


@pytest.fixture(autouse=True)
def _prd(pack: Pack) -> None:
    pack.configure("prd")


def workspace(isolation: str = "Disabled", identity: str = "SystemAssigned,UserAssigned") -> StackResource:
    return StackResource(
        WS,
        "ws",
        {
            "workspaceName": "mlw-aks",
            "resourceGroupName": RG,
            "identity": {"type": identity},
            "managedNetwork": {"isolationMode": isolation},
        },
    )


def cluster(known_id: bool = True) -> StackResource:
    props: dict[str, Any] = {"resourceName": "aks-gpu", "resourceGroupName": RG}
    if known_id:
        props["id"] = CLUSTER_ID
    return StackResource(AKS, "aks", props)


def grant(role: str, scope: Any = CLUSTER_ID, wired_to: StackResource | None = None) -> StackResource:
    return StackResource(
        ROLE,
        f"grant-{ROLES[role][:8]}",
        {
            "scope": scope,
            "principalId": UNKNOWN,
            "roleDefinitionId": f"{SUB}/providers/Microsoft.Authorization/roleDefinitions/{ROLES[role]}",
        },
        property_dependencies={"scope": [wired_to.urn]} if wired_to else None,
    )


def namespace(name: str = "azureml-workloads") -> StackResource:
    return StackResource(
        NS, f"ns-{name}", {"managedNamespaceName": name, "resourceName": "aks-gpu", "resourceGroupName": RG}
    )


def compute(
    resource_id: Any = CLUSTER_ID,
    ns: str | None = "azureml-workloads",
    deps: tuple[str, ...] = (),
    property_deps: dict[str, list[str]] | None = None,
) -> StackResource:
    inner: dict[str, Any] = {"instanceTypes": {}}
    if ns is not None:
        inner["namespace"] = ns
    return StackResource(
        COMPUTE,
        "aks-compute",
        {
            "computeName": "aks-gpu",
            "workspaceName": "mlw-aks",
            "resourceGroupName": RG,
            "properties": {"computeType": "Kubernetes", "resourceId": resource_id, "properties": inner},
        },
        dependencies=deps,
        property_dependencies=property_deps,
    )


def supported_stack() -> list[StackResource]:
    """Everything Learn asks for: a workspace without managed network, the roles, the namespace, waited for."""
    grants = [grant(role) for role in ROLES]
    ns = namespace()
    return [workspace(), cluster(), *grants, ns, compute(deps=tuple(g.urn for g in grants) + (ns.urn,))]


def test_the_rules_are_deployability_rules_advisory_by_default_mandatory_in_our_envs(pack: Pack) -> None:
    for env in ENVIRONMENTS:
        pack.configure(env)
        for name in RULES:
            assert rule(name).concern == "deployability"
            assert rule(name).default_level.value == "advisory"
            assert pack.levels[name] == "mandatory", (env, name)


def test_a_supported_attach_passes_every_rule(pack: Pack) -> None:
    found = pack.analyze_stack(supported_stack())
    assert not [d for d in found if d.policy in RULES], found


@pytest.mark.parametrize("isolation", ["AllowInternetOutbound", "AllowOnlyApprovedOutbound"])
def test_kubernetes_compute_on_a_managed_network_workspace_is_refused(pack: Pack, isolation: str) -> None:
    stack = supported_stack()
    stack[0] = workspace(isolation)
    [found] = of("aks-compute-no-managed-network", pack.analyze_stack(stack))
    assert found.level == "mandatory" and found.urn == stack[-1].urn
    assert f"isolationMode {isolation}" in found.message and "'Disabled'" in found.message


def test_managed_network_found_through_the_wiring_when_names_are_unknown(pack: Pack) -> None:
    ws = workspace("AllowOnlyApprovedOutbound")
    attached = compute(property_deps={"workspaceName": [ws.urn]})
    attached.props["workspaceName"] = UNKNOWN
    assert of("aks-compute-no-managed-network", pack.analyze_stack([ws, cluster(), attached]))


def test_compute_without_the_attach_roles_is_flagged(pack: Pack) -> None:
    ns = namespace()
    stack = [workspace(), cluster(), grant("Reader"), ns, compute(deps=(ns.urn,))]
    [found] = of("aks-compute-attach-roles", pack.analyze_stack(stack))
    assert "Kubernetes Extension Contributor, Azure Kubernetes Service Cluster Admin Role" in found.message


def test_roles_granted_but_not_waited_for_are_flagged(pack: Pack) -> None:
    ns = namespace()
    grants = [grant(role) for role in ROLES]
    [found] = of(
        "aks-compute-attach-roles", pack.analyze_stack([workspace(), cluster(), *grants, ns, compute(deps=(ns.urn,))])
    )
    assert "does not wait for" in found.message


def test_roles_on_another_scope_do_not_count(pack: Pack) -> None:
    grants = [grant(role, scope=f"{SUB}/resourceGroups/{RG}") for role in ROLES]
    ns = namespace()
    stack = [workspace(), cluster(), *grants, ns, compute(deps=(*[g.urn for g in grants], ns.urn))]
    assert of("aks-compute-attach-roles", pack.analyze_stack(stack))


def test_roles_wired_to_a_cluster_whose_id_is_unknown_count(pack: Pack) -> None:
    aks = cluster(known_id=False)
    grants = [grant(role, scope=UNKNOWN, wired_to=aks) for role in ROLES]
    ns = namespace()
    attached = compute(
        resource_id=UNKNOWN, deps=(*[g.urn for g in grants], ns.urn), property_deps={"properties": [aks.urn]}
    )
    found = pack.analyze_stack([workspace(), aks, *grants, ns, attached])
    assert not of("aks-compute-attach-roles", found) and not of("aks-compute-namespace-exists", found)


def test_system_assigned_workspace_needs_no_explicit_grants(pack: Pack) -> None:
    ns = namespace()
    stack = [workspace(identity="SystemAssigned"), cluster(), ns, compute(deps=(ns.urn,))]
    assert not of("aks-compute-attach-roles", pack.analyze_stack(stack))


def test_namespace_nobody_creates_is_flagged_default_is_not(pack: Pack) -> None:
    grants = [grant(role) for role in ROLES]
    deps = tuple(g.urn for g in grants)
    [found] = of(
        "aks-compute-namespace-exists", pack.analyze_stack([workspace(), cluster(), *grants, compute(deps=deps)])
    )
    assert "namespace 'azureml-workloads' is not created" in found.message
    other = namespace("team-a")
    assert of(
        "aks-compute-namespace-exists",
        pack.analyze_stack([workspace(), cluster(), *grants, other, compute(deps=(*deps, other.urn))]),
    )
    assert not of(
        "aks-compute-namespace-exists",
        pack.analyze_stack([workspace(), cluster(), *grants, compute(ns=None, deps=deps)]),
    )


def test_namespace_created_but_not_waited_for_is_flagged(pack: Pack) -> None:
    grants = [grant(role) for role in ROLES]
    [found] = of(
        "aks-compute-namespace-exists",
        pack.analyze_stack([workspace(), cluster(), *grants, namespace(), compute(deps=tuple(g.urn for g in grants))]),
    )
    assert "does not wait for namespace" in found.message


def test_compute_on_a_cluster_made_elsewhere_is_not_judged_on_namespace_or_roles(pack: Pack) -> None:
    foreign = compute(
        resource_id=f"{SUB}/resourceGroups/rg-other/providers/Microsoft.ContainerService/managedClusters/shared-aks"
    )
    found = pack.analyze_stack([workspace(), foreign])
    assert not of("aks-compute-namespace-exists", found) and not of("aks-compute-attach-roles", found)


def extension(
    settings: dict[str, Any], protected: dict[str, Any] | str | None = None, wired_to: StackResource | None = None
) -> StackResource:
    props: dict[str, Any] = {
        "clusterName": "aks-gpu",
        "clusterRp": "Microsoft.ContainerService",
        "clusterResourceName": "managedClusters",
        "resourceGroupName": RG,
        "extensionType": "Microsoft.AzureML.Kubernetes",
        "configurationSettings": settings,
    }
    if protected is not None:
        props["configurationProtectedSettings"] = protected
    return StackResource(
        EXT, "azureml", props, property_dependencies={"clusterName": [wired_to.urn]} if wired_to else None
    )


HTTPS = {
    "enableTraining": "true",
    "enableInference": "true",
    "allowInsecureConnections": "false",
    "sslCname": "ml.contoso.internal",
}
MATERIAL = {"scoringFe.sslCert": "LS0tLS1CRUdJTg==", "scoringFe.sslKey": "LS0tLS1CRUdJTg=="}


def test_ssl_secret_on_a_cluster_this_program_creates_cannot_exist(pack: Pack) -> None:
    """What aiinfra's own component did before: `sslSecret=azureml-fe-tls` on a cluster made in the same run."""
    ext = extension({**HTTPS, "sslSecret": "azureml-fe-tls", "scoringFe.sslSecret": "azureml-fe-tls"})
    [found] = of("azureml-extension-inference-tls", pack.analyze_stack([cluster(), ext]))
    assert "Kubernetes secret 'azureml-fe-tls'" in found.message and "cannot exist" in found.message
    # The same setting on a cluster made elsewhere (whose secret may well exist) is the owner's call.
    assert not of("azureml-extension-inference-tls", pack.analyze_stack([ext]))


def test_protected_certificate_and_key_pass(pack: Pack) -> None:
    assert not of("azureml-extension-inference-tls", pack.analyze_stack([cluster(), extension(HTTPS, MATERIAL)]))


def test_protected_settings_masked_as_a_secret_count_as_present(pack: Pack) -> None:
    """A secret map's keys cannot be read (the engine records it as `[secret]`): trusted, not flagged."""
    assert not of("azureml-extension-inference-tls", pack.analyze_stack([cluster(), extension(HTTPS, "[secret]")]))


def test_https_without_any_certificate_or_host_name_is_flagged(pack: Pack) -> None:
    found = of(
        "azureml-extension-inference-tls",
        pack.analyze_stack([cluster(), extension({k: v for k, v in HTTPS.items() if k != "sslCname"})]),
    )
    messages = " ".join(d.message for d in found)
    assert "has no certificate" in messages and "needs sslCname" in messages


def test_tls_material_in_plain_settings_is_flagged(pack: Pack) -> None:
    [found] = of(
        "azureml-extension-inference-tls", pack.analyze_stack([cluster(), extension({**HTTPS, **MATERIAL}, MATERIAL)])
    )
    assert "scoringFe.sslCert, scoringFe.sslKey in plain text" in found.message


def test_http_inference_and_training_only_need_no_certificate(pack: Pack) -> None:
    for settings in (
        {**HTTPS, "allowInsecureConnections": "true"},
        {"enableTraining": "true", "enableInference": "false"},
    ):
        assert not of("azureml-extension-inference-tls", pack.analyze_stack([cluster(), extension(settings)]))


def test_extension_wired_to_a_cluster_by_output_is_matched(pack: Pack) -> None:
    aks = cluster()
    ext = extension({**HTTPS, "sslSecret": "fe"}, wired_to=aks)
    ext.props["clusterName"] = UNKNOWN
    assert of("azureml-extension-inference-tls", pack.analyze_stack([aks, ext]))
