"""Deterministic, ARM-shaped fake identifiers and computed outputs for the mock runtime.

Nothing here knows aiinfra's components: it maps any azure-native (or azuread) type token to the
Azure resource type it stands for and fabricates what Azure would compute on create (ids,
principal ids, endpoints), so that a program's `Output`s resolve the way they would in a real
`pulumi up`, only with fixed values.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000000"
TENANT_ID = "11111111-1111-1111-1111-111111111111"
CLIENT_OBJECT_ID = "22222222-2222-2222-2222-222222222222"
_NAMESPACE_UUID = uuid.UUID("6b1f8a50-9f39-4c73-9d43-5e1a2f4b7c10")

# azure-native module -> ARM namespace, where the namespace is not simply "Microsoft.<Module>".
_NAMESPACES = {
    "app": "Microsoft.App",
    "applicationinsights": "Microsoft.Insights",
    "authorization": "Microsoft.Authorization",
    "batch": "Microsoft.Batch",
    "cognitiveservices": "Microsoft.CognitiveServices",
    "compute": "Microsoft.Compute",
    "consumption": "Microsoft.Consumption",
    "containerregistry": "Microsoft.ContainerRegistry",
    "containerservice": "Microsoft.ContainerService",
    "insights": "Microsoft.Insights",
    "keyvault": "Microsoft.KeyVault",
    "kubernetesconfiguration": "Microsoft.KubernetesConfiguration",
    "machinelearningservices": "Microsoft.MachineLearningServices",
    "managedidentity": "Microsoft.ManagedIdentity",
    "monitor": "Microsoft.Insights",
    "network": "Microsoft.Network",
    "operationalinsights": "Microsoft.OperationalInsights",
    "privatedns": "Microsoft.Network",
    "resources": "Microsoft.Resources",
    "storage": "Microsoft.Storage",
}

# azuread resources whose provider id is `/<collection>/<objectId>` (a service principal's is the bare object id).
_AZUREAD_ID_PATHS = {
    "azuread:index/application:Application": "applications",
    "azuread:index/applicationRegistration:ApplicationRegistration": "applications",
    "azuread:index/group:Group": "groups",
}

# Inputs that carry a resource's own Azure name, most specific first.
_NAME_KEYS = re.compile(r"^[a-z][A-Za-z]*Name$")

# Types whose SDK input for the ARM name is not `<resource>Name` (a role definition's name is its GUID; its
# `roleName` is only the display name).
_NAME_INPUTS = {"azure-native:authorization:RoleDefinition": "roleDefinitionId"}


def deterministic_uuid(*parts: str) -> str:
    """A UUID that depends only on its inputs: same program, same ids, every run."""
    return str(uuid.uuid5(_NAMESPACE_UUID, "/".join(parts)))


def arm_type(type_token: str) -> str | None:
    """`azure-native:network:PrivateEndpoint` -> `Microsoft.Network/privateEndpoints`."""
    parts = type_token.split(":")
    if len(parts) != 3 or parts[0] != "azure-native":
        return None
    module, resource = parts[1], parts[2]
    namespace = _NAMESPACES.get(module, "Microsoft." + module[:1].upper() + module[1:])
    plural = resource[:1].lower() + resource[1:]
    if plural.endswith("y") and not plural.endswith("ey"):
        plural = plural[:-1] + "ies"
    elif not plural.endswith("s"):
        plural += "s"
    return f"{namespace}/{plural}"


def azure_name(type_token: str, logical_name: str, inputs: dict[str, Any]) -> str:
    """The name Azure would give the resource: the `<resource>Name` input when the program sets one."""
    resource = type_token.split(":")[-1]
    own_key = _NAME_INPUTS.get(type_token, resource[:1].lower() + resource[1:] + "Name")
    candidates = [own_key, "name"]
    candidates += sorted(k for k in inputs if _NAME_KEYS.match(k) and k != "resourceGroupName")
    for key in candidates:
        value = inputs.get(key)
        if isinstance(value, str) and value:
            return value
    return logical_name


def resource_id(type_token: str, logical_name: str, inputs: dict[str, Any]) -> str:
    """An ARM-shaped id: /subscriptions/<fixed>/resourceGroups/<rg>/providers/<ARM type>/<name>."""
    name = azure_name(type_token, logical_name, inputs)
    if type_token == "azure-native:resources:ResourceGroup":
        return f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{name}"
    scope = inputs.get("scope")
    arm = arm_type(type_token)
    if arm is None:
        object_id = deterministic_uuid(type_token, logical_name, "object")
        if type_token in _AZUREAD_ID_PATHS:
            return f"/{_AZUREAD_ID_PATHS[type_token]}/{object_id}"
        if type_token == "azuread:index/servicePrincipal:ServicePrincipal":
            return object_id
        # Not an Azure resource (random, a provider...): a stable opaque id.
        return deterministic_uuid(type_token, logical_name)
    if isinstance(scope, str) and scope.startswith("/"):
        return f"{scope}/providers/{arm}/{name}"
    group = inputs.get("resourceGroupName")
    prefix = f"/subscriptions/{SUBSCRIPTION_ID}"
    if isinstance(group, str) and group:
        prefix += f"/resourceGroups/{group}"
    return f"{prefix}/providers/{arm}/{name}"


def computed_outputs(type_token: str, logical_name: str, inputs: dict[str, Any], rid: str) -> dict[str, Any]:
    """Inputs echoed back, plus what Azure computes on create for common types."""
    state: dict[str, Any] = dict(inputs)
    name = azure_name(type_token, logical_name, inputs)
    state.setdefault("name", name)
    token = type_token.split(":")[-1]
    seed = (type_token, logical_name)

    identity = inputs.get("identity")
    if isinstance(identity, dict):
        identity = dict(identity)
        kind = str(identity.get("type", "")).lower()
        if "systemassigned" in kind.replace(" ", "").replace(",", ""):
            identity.setdefault("principalId", deterministic_uuid(*seed, "principal"))
            identity.setdefault("tenantId", TENANT_ID)
        # ARM always answers userAssignedIdentities as a map {id: {principalId, clientId}}, whether the
        # SDK took a list (azure-native v3 flattens some) or a map.
        assigned = identity.get("userAssignedIdentities")
        if isinstance(assigned, (list, dict)):
            identity["userAssignedIdentities"] = {
                str(i): {"principalId": deterministic_uuid(str(i), "principal"),
                         "clientId": deterministic_uuid(str(i), "client")}
                for i in assigned
            }
        state["identity"] = identity

    if type_token == "azure-native:managedidentity:UserAssignedIdentity":
        state.update(principalId=deterministic_uuid(*seed, "principal"),
                     clientId=deterministic_uuid(*seed, "client"), tenantId=TENANT_ID)
    elif type_token == "azure-native:keyvault:Vault":
        props = dict(inputs.get("properties") or {})
        props.setdefault("vaultUri", f"https://{name}.vault.azure.net/")
        state["properties"] = props
    elif type_token == "azure-native:keyvault:Key":
        vault = inputs.get("vaultName", "vault")
        state["keyUri"] = f"https://{vault}.vault.azure.net/keys/{name}"
        state["keyUriWithVersion"] = state["keyUri"] + "/" + deterministic_uuid(*seed).replace("-", "")
    elif type_token == "azure-native:containerregistry:Registry":
        state["loginServer"] = f"{name}.azurecr.io"
    elif type_token == "azure-native:storage:StorageAccount":
        # Storage Accounts - Get Properties: a StorageV2 account answers blob, dfs, file, queue, table and web
        # (the static website endpoint, `<name>.z<N>.web.core.windows.net`; the zone digit varies, 13 here)
        # (https://learn.microsoft.com/rest/api/storagerp/storage-accounts/get-properties).
        state["primaryEndpoints"] = {svc: f"https://{name}.{svc}.core.windows.net/"
                                     for svc in ("blob", "file", "dfs", "queue", "table")}
        state["primaryEndpoints"]["web"] = f"https://{name}.z13.web.core.windows.net/"
    elif type_token == "azure-native:operationalinsights:Workspace":
        state["customerId"] = deterministic_uuid(*seed, "customer")
    elif type_token == "azure-native:applicationinsights:Component":
        key = deterministic_uuid(*seed, "ikey")
        state.update(instrumentationKey=key, connectionString=f"InstrumentationKey={key}")
    elif type_token == "azure-native:containerservice:ManagedCluster":
        state["fqdn"] = f"{name}.privatelink.mock.azmk8s.io"
        state["privateFQDN"] = state["fqdn"]
        state["oidcIssuerProfile"] = {**dict(inputs.get("oidcIssuerProfile") or {}),
                                      "issuerURL": f"https://oidc.mock/{deterministic_uuid(*seed)}/"}
        state["identityProfile"] = {"kubeletidentity": {
            "objectId": deterministic_uuid(*seed, "kubelet"),
            "clientId": deterministic_uuid(*seed, "kubelet-client"),
            "resourceId": rid + "-kubelet"}}
        state["nodeResourceGroup"] = f"MC_{inputs.get('resourceGroupName', 'rg')}_{name}"
    elif type_token == "azure-native:machinelearningservices:Workspace":
        state["workspaceId"] = deterministic_uuid(*seed, "workspace")
        state["discoveryUrl"] = "https://mock.api.azureml.ms/discovery"
    elif type_token == "azure-native:app:ManagedEnvironment":
        state["defaultDomain"] = f"{name}.mock.azurecontainerapps.io"
        state["staticIp"] = "10.0.0.4"
    elif type_token == "azure-native:batch:BatchAccount":
        state["accountEndpoint"] = f"{name}.mock.batch.azure.com"
    elif token == "Group" and type_token.startswith("azuread:"):
        state["objectId"] = deterministic_uuid(*seed, "object")
    elif token in ("Application", "ApplicationRegistration", "ServicePrincipal") and type_token.startswith("azuread:"):
        state["objectId"] = deterministic_uuid(*seed, "object")
        # A service principal takes its application's client id as input; an application is given one.
        state.setdefault("clientId", deterministic_uuid(*seed, "client"))
    return state
