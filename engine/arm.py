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
_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the wire sentinel of a value not known during preview

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
# `roleName` is only the display name; a record set's zone is its parent, `relativeRecordSetName` its own name).
_NAME_INPUTS = {
    "azure-native:authorization:RoleDefinition": "roleDefinitionId",
    "azure-native:privatedns:PrivateRecordSet": "relativeRecordSetName",
}

# Types whose ARM name is a GUID: when the program gives none, the provider generates one (a role assignment's
# `roleAssignmentName` "can be any valid GUID", https://learn.microsoft.com/rest/api/authorization/role-assignments/create).
_GUID_NAMED = {"azure-native:authorization:RoleAssignment", "azure-native:authorization:RoleDefinition"}

# ARM paths (under the resource group, or under the `scope`/`resourceUri` of an extension resource) of the types
# whose id is not simply `<namespace>/<plural of the type>/{name}`: child resources nest under their parent's
# segment, and some collections are not the type's plural. `{name}` is the resource's own name, `{key}` an input.
# Each follows the id template of the service's REST API reference (learn.microsoft.com/rest/api/<service>/...).
_ARM_PATHS = {
    "azure-native:network:Subnet": "Microsoft.Network/virtualNetworks/{virtualNetworkName}/subnets/{name}",
    "azure-native:network:VirtualNetworkPeering": "Microsoft.Network/virtualNetworks/{virtualNetworkName}/virtualNetworkPeerings/{name}",
    "azure-native:network:SecurityRule": "Microsoft.Network/networkSecurityGroups/{networkSecurityGroupName}/securityRules/{name}",
    "azure-native:network:Route": "Microsoft.Network/routeTables/{routeTableName}/routes/{name}",
    "azure-native:network:PrivateDnsZoneGroup": "Microsoft.Network/privateEndpoints/{privateEndpointName}/privateDnsZoneGroups/{name}",
    "azure-native:network:PublicIPAddress": "Microsoft.Network/publicIPAddresses/{name}",
    "azure-native:network:PublicIPPrefix": "Microsoft.Network/publicIPPrefixes/{name}",
    "azure-native:privatedns:PrivateZone": "Microsoft.Network/privateDnsZones/{name}",
    "azure-native:privatedns:VirtualNetworkLink": "Microsoft.Network/privateDnsZones/{privateZoneName}/virtualNetworkLinks/{name}",
    "azure-native:privatedns:PrivateRecordSet": "Microsoft.Network/privateDnsZones/{privateZoneName}/{recordType}/{name}",
    "azure-native:containerservice:AgentPool": "Microsoft.ContainerService/managedClusters/{resourceName}/agentPools/{name}",
    "azure-native:containerservice:MaintenanceConfiguration": "Microsoft.ContainerService/managedClusters/{resourceName}/maintenanceConfigurations/{name}",
    "azure-native:machinelearningservices:Compute": "Microsoft.MachineLearningServices/workspaces/{workspaceName}/computes/{name}",
    "azure-native:machinelearningservices:Datastore": "Microsoft.MachineLearningServices/workspaces/{workspaceName}/datastores/{name}",
    "azure-native:machinelearningservices:OnlineEndpoint": "Microsoft.MachineLearningServices/workspaces/{workspaceName}/onlineEndpoints/{name}",
    "azure-native:machinelearningservices:OnlineDeployment": "Microsoft.MachineLearningServices/workspaces/{workspaceName}/onlineEndpoints/{endpointName}/deployments/{name}",
    "azure-native:keyvault:Key": "Microsoft.KeyVault/vaults/{vaultName}/keys/{name}",
    "azure-native:keyvault:Secret": "Microsoft.KeyVault/vaults/{vaultName}/secrets/{name}",
    "azure-native:batch:Pool": "Microsoft.Batch/batchAccounts/{accountName}/pools/{name}",
    "azure-native:storage:BlobContainer": "Microsoft.Storage/storageAccounts/{accountName}/blobServices/default/containers/{name}",
    "azure-native:storage:Queue": "Microsoft.Storage/storageAccounts/{accountName}/queueServices/default/queues/{name}",
    "azure-native:storage:FileShare": "Microsoft.Storage/storageAccounts/{accountName}/fileServices/default/shares/{name}",
    "azure-native:storage:Table": "Microsoft.Storage/storageAccounts/{accountName}/tableServices/default/tables/{name}",
    "azure-native:storage:ManagementPolicy": "Microsoft.Storage/storageAccounts/{accountName}/managementPolicies/default",
    "azure-native:storage:BlobServiceProperties": "Microsoft.Storage/storageAccounts/{accountName}/blobServices/default",
    "azure-native:containerregistry:Replication": "Microsoft.ContainerRegistry/registries/{registryName}/replications/{name}",
    "azure-native:containerregistry:Webhook": "Microsoft.ContainerRegistry/registries/{registryName}/webhooks/{name}",
    "azure-native:containerregistry:ScopeMap": "Microsoft.ContainerRegistry/registries/{registryName}/scopeMaps/{name}",
    "azure-native:sql:Database": "Microsoft.Sql/servers/{serverName}/databases/{name}",
    "azure-native:sql:FirewallRule": "Microsoft.Sql/servers/{serverName}/firewallRules/{name}",
    "azure-native:synapse:SqlPool": "Microsoft.Synapse/workspaces/{workspaceName}/sqlPools/{name}",
    "azure-native:cognitiveservices:Deployment": "Microsoft.CognitiveServices/accounts/{accountName}/deployments/{name}",
    "azure-native:cognitiveservices:RaiPolicy": "Microsoft.CognitiveServices/accounts/{accountName}/raiPolicies/{name}",
    "azure-native:machinelearningservices:WorkspaceConnection": "Microsoft.MachineLearningServices/workspaces/{workspaceName}/connections/{name}",
    "azure-native:compute:VirtualMachineExtension": "Microsoft.Compute/virtualMachines/{vmName}/extensions/{name}",
    "azure-native:web:WebApp": "Microsoft.Web/sites/{name}",
    "azure-native:web:WebAppSlot": "Microsoft.Web/sites/{name}/slots/{slot}",
    "azure-native:web:AppServicePlan": "Microsoft.Web/serverfarms/{name}",
    "azure-native:authorization:ManagementLockByScope": "Microsoft.Authorization/locks/{name}",
    "azure-native:authorization:ManagementLockAtResourceGroupLevel": "Microsoft.Authorization/locks/{name}",
    "azure-native:authorization:ManagementLockAtSubscriptionLevel": "Microsoft.Authorization/locks/{name}",
    # A cluster extension is an extension resource of the cluster its inputs name.
    "azure-native:kubernetesconfiguration:Extension": "{clusterRp}/{clusterResourceName}/{clusterName}/providers/Microsoft.KubernetesConfiguration/extensions/{name}",
}
_PLACEHOLDER = re.compile(r"\{([A-Za-z]+)\}")


def deterministic_uuid(*parts: str) -> str:
    """A UUID that depends only on its inputs: same program, same ids, every run."""
    return str(uuid.uuid5(_NAMESPACE_UUID, "/".join(parts)))


def _plural(resource: str) -> str:
    plural = resource[:1].lower() + resource[1:]
    if plural.endswith("y") and plural[-2:-1] not in ("a", "e", "i", "o", "u"):
        return plural[:-1] + "ies"
    if plural.endswith("ss") or plural.endswith("x"):
        return plural + "es"
    return plural if plural.endswith("s") else plural + "s"


def _namespace(type_token: str) -> str | None:
    parts = type_token.split(":")
    if len(parts) != 3 or parts[0] != "azure-native":
        return None
    module = parts[1].split("/")[0]
    return _NAMESPACES.get(module, "Microsoft." + module[:1].upper() + module[1:])


def _provider_path(type_token: str, name: str, inputs: dict[str, Any]) -> str | None:
    """`Microsoft.Network/virtualNetworks/vnet/subnets/snet`: the id below `/providers/` (None: not azure-native,
    or a parent's name is missing or not yet known)."""
    namespace = _namespace(type_token)
    if namespace is None:
        return None
    template = _ARM_PATHS.get(type_token) or f"{namespace}/{_plural(type_token.split(':')[2])}/{{name}}"
    values = {**{k: v for k, v in inputs.items() if isinstance(v, str)}, "name": name}
    missing = [key for key in _PLACEHOLDER.findall(template) if not values.get(key) or values[key] == _UNKNOWN]
    if missing:
        return None
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)].strip("/"), template)


def arm_type(type_token: str, inputs: dict[str, Any] | None = None) -> str | None:
    """`azure-native:network:Subnet` -> `Microsoft.Network/virtualNetworks/subnets` (the resource's ARM `type`)."""
    template = _ARM_PATHS.get(type_token)
    namespace = _namespace(type_token)
    if namespace is None:
        return None
    if template is None:
        return f"{namespace}/{_plural(type_token.split(':')[2])}"
    path = _PLACEHOLDER.sub(lambda m: str((inputs or {}).get(m.group(1), m.group(0))), template)
    path = path.rsplit("/providers/", 1)[-1]
    segments = path.split("/")
    return "/".join([segments[0], *segments[1::2]])


def azure_name(type_token: str, logical_name: str, inputs: dict[str, Any]) -> str:
    """The name Azure would give the resource: the `<resource>Name` input when the program sets one."""
    resource = type_token.split(":")[-1]
    own_key = _NAME_INPUTS.get(type_token, resource[:1].lower() + resource[1:] + "Name")
    # Never a parent's name: the keys a type's ARM path uses for its parents are not its own.
    parents = set(_PLACEHOLDER.findall(_ARM_PATHS.get(type_token, ""))) | {"resourceGroupName"}
    candidates = [own_key, "name"] + sorted(k for k in inputs if _NAME_KEYS.match(k) and k not in parents)
    for key in candidates:
        value = inputs.get(key)
        if isinstance(value, str) and value and value != _UNKNOWN:
            return value
    if type_token in _GUID_NAMED:
        return deterministic_uuid(type_token, logical_name, "name")
    return logical_name


def _scope(inputs: dict[str, Any]) -> str | None:
    """The ARM id an extension resource attaches to (`scope`, or `resourceUri` for diagnostics and DCR links)."""
    for key in ("scope", "resourceUri"):
        value = inputs.get(key)
        if isinstance(value, str) and value.startswith("/"):
            return value.rstrip("/")
    return None


def resource_id(type_token: str, logical_name: str, inputs: dict[str, Any]) -> str | None:
    """An id in ARM's grammar: `/subscriptions/<fixed>/resourceGroups/<rg>/providers/<namespace>/<type>/<name>`,
    child resources under their parent's segment, extension resources under the id of their scope.

    None when a part of the id is not known yet (a parent's name that is itself an unknown output).
    """
    name = azure_name(type_token, logical_name, inputs)
    if type_token == "azure-native:resources:ResourceGroup":
        return f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{name}"
    if _namespace(type_token) is None:
        object_id = deterministic_uuid(type_token, logical_name, "object")
        if type_token in _AZUREAD_ID_PATHS:
            return f"/{_AZUREAD_ID_PATHS[type_token]}/{object_id}"
        if type_token == "azuread:index/servicePrincipal:ServicePrincipal":
            return object_id
        # Not an Azure resource (random, a provider...): a stable opaque id.
        return deterministic_uuid(type_token, logical_name)
    path = _provider_path(type_token, name, inputs)
    if path is None:
        return None
    scope = _scope(inputs)
    if scope is not None and type_token != "azure-native:kubernetesconfiguration:Extension":
        return f"{scope}/providers/{path}"
    group = inputs.get("resourceGroupName")
    if group == _UNKNOWN:
        return None
    prefix = f"/subscriptions/{SUBSCRIPTION_ID}"
    if isinstance(group, str) and group:
        prefix += f"/resourceGroups/{group}"
    return f"{prefix}/providers/{path}"


def preview_outputs(up_state: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
    """What a preview of the create shows: the inputs, in the shape of the resource's outputs, and every value Azure
    computes (ids, principal ids, endpoints, nested ones like a vault's `properties.vaultUri`) unknown."""

    def known_only(computed: Any, given: Any) -> Any:
        if isinstance(computed, dict):
            if isinstance(given, dict):
                return {k: known_only(v, given[k]) if k in given else _UNKNOWN for k, v in computed.items()}
            # The output's shape differs from the input's (a list of identity ids becomes a map keyed by them):
            # the keys are known, what Azure fills in under them is not.
            return {k: known_only(v, None) for k, v in computed.items()}
        return _UNKNOWN if given is None else given

    return {k: known_only(v, inputs[k]) for k, v in up_state.items() if k in inputs}


def _computed_identity(identity: dict[str, Any], seed: tuple[str, str]) -> dict[str, Any]:
    """The `identity` block as ARM answers it: a system-assigned principal, and user-assigned ids as a map."""
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
            str(i): {
                "principalId": deterministic_uuid(str(i), "principal"),
                "clientId": deterministic_uuid(str(i), "client"),
            }
            for i in assigned
        }
    return identity


def computed_outputs(type_token: str, logical_name: str, inputs: dict[str, Any], rid: str) -> dict[str, Any]:
    """Inputs echoed back, plus what Azure computes on create for common types."""
    state: dict[str, Any] = dict(inputs)
    name = azure_name(type_token, logical_name, inputs)
    state.setdefault("name", name)
    token = type_token.split(":")[-1]
    seed = (type_token, logical_name)

    identity = inputs.get("identity")
    if isinstance(identity, dict):
        state["identity"] = _computed_identity(identity, seed)

    if type_token == "azure-native:managedidentity:UserAssignedIdentity":
        state.update(
            principalId=deterministic_uuid(*seed, "principal"),
            clientId=deterministic_uuid(*seed, "client"),
            tenantId=TENANT_ID,
        )
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
        state["primaryEndpoints"] = {
            svc: f"https://{name}.{svc}.core.windows.net/" for svc in ("blob", "file", "dfs", "queue", "table")
        }
        state["primaryEndpoints"]["web"] = f"https://{name}.z13.web.core.windows.net/"
    elif type_token == "azure-native:operationalinsights:Workspace":
        state["customerId"] = deterministic_uuid(*seed, "customer")
    elif type_token == "azure-native:applicationinsights:Component":
        key = deterministic_uuid(*seed, "ikey")
        state.update(instrumentationKey=key, connectionString=f"InstrumentationKey={key}")
    elif type_token == "azure-native:containerservice:ManagedCluster":
        state["fqdn"] = f"{name}.privatelink.mock.azmk8s.io"
        state["privateFQDN"] = state["fqdn"]
        state["oidcIssuerProfile"] = {
            **dict(inputs.get("oidcIssuerProfile") or {}),
            "issuerURL": f"https://oidc.mock/{deterministic_uuid(*seed)}/",
        }
        state["identityProfile"] = {
            "kubeletidentity": {
                "objectId": deterministic_uuid(*seed, "kubelet"),
                "clientId": deterministic_uuid(*seed, "kubelet-client"),
                "resourceId": rid + "-kubelet",
            }
        }
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
