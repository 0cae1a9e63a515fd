"""Which input changes make azure-native replace a resource, or make Azure refuse the update: one table.

What `pulumi up` does with a changed input of an azure-native resource:
- a URL path parameter of the resource's PUT (its name, resource group, parent names, scope) names *another* resource:
  the provider deletes the old one and creates the new one (replace);
- a property whose `x-ms-mutability` in the azure-rest-api-specs lacks "update" is create-only: the provider replaces
  the resource (pulumi/pulumi-azure-native#71, "Use x-ms-mutability to force replacements", implemented in #137);
- a property the spec documents as unchangeable but does not mark with `x-ms-mutability` is sent as an update, and ARM
  refuses it: `pulumi up` fails on that resource (Azure/azure-rest-api-specs#11083 is the storage account's `location`,
  filed by the azure-native maintainers for exactly this reason).

`location` of a tracked resource is create-only by ARM's rule RPC-Put-V1-14 (Azure/azure-openapi-validator,
docs/location-must-have-xms-mutability.md); common-types v5 `TrackedResource.location` carries
`"x-ms-mutability": ["read", "create"]` (specification/common-types/resource-management/v5/types.json), so a type
whose spec builds on it is replaced when `location` changes. Specs that declare their own `location` without the
marking (ML workspaces, storage accounts, Key Vaults: read in the spec) get the refused update instead; for the types
whose spec we have not read on this point the row says so (see `_location`).

Paths are wire-format input paths as the plan records them (`properties.properties.vmSize`); `path_params` are the
PUT's URL parameters (checked against the SDK's `get_*` functions by tests/review/test_create_only_table.py).
Rows name the spec file they were read from (Azure/azure-rest-api-specs at the API version the installed
pulumi-azure-native v3 uses for the type).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SPECS = "https://github.com/Azure/azure-rest-api-specs/blob/main/specification/"
LOCATION_RULE = (
    "ARM RPC-Put-V1-14: a tracked resource's location is set once (Azure/azure-openapi-validator "
    "docs/location-must-have-xms-mutability.md; common-types v5 TrackedResource.location "
    "x-ms-mutability [read, create])"
)
AZURE_NATIVE_REPLACES = "pulumi/pulumi-azure-native#71: a property without 'update' in x-ms-mutability is replaced"


@dataclass(frozen=True)
class Immutable:
    """An input Azure does not let an existing resource change."""

    path: str
    replaces: bool
    """True: azure-native itself replaces the resource (x-ms-mutability without update, or the provider's own
    forced-replacement list). False: it sends an update that Azure does not apply in place (see `outcome`)."""
    source: str
    transitions: tuple[tuple[Any, Any], ...] = ()
    """The (old, new) values Azure refuses or replaces on, when only some changes are; empty: every change."""
    outcome: str = "Azure refuses this update, so `pulumi up` fails on it"
    """What happens to the update when `replaces` is False (the spec documents the property as fixed but does not
    mark it)."""

    def applies(self, old: Any, new: Any) -> bool:
        """Whether changing the property from `old` to `new` is fixed (not an update in place)."""
        return not self.transitions or (old, new) in self.transitions


@dataclass(frozen=True)
class ResourceFacts:
    type: str
    api_version: str
    spec: str
    path_params: tuple[str, ...]
    immutable: tuple[Immutable, ...] = ()
    holds: str | None = None
    """What replacing (deleting) the resource destroys, for resources that hold data; None for the rest."""


def _location(spec: str, marking: str) -> Immutable:
    """`location` of a tracked resource, by what its spec says: "marked" (x-ms-mutability [read, create], usually through
    common-types TrackedResource: azure-native replaces), "unmarked" (declared without it, read in the spec: azure-native
    sends an update and ARM refuses it, as pulumi/pulumi-azure-native#3053 shows), or "unchecked" (we have not read the
    spec's marking: reported as a replacement, the worse of the two, with that said)."""
    if marking == "marked":
        return Immutable("location", True, f"{spec}: {LOCATION_RULE}")
    if marking == "unmarked":
        return Immutable(
            "location",
            False,
            f"{spec}: location is declared without x-ms-mutability, so azure-native "
            "sends an update and ARM refuses a new region (Azure/azure-rest-api-specs"
            "#11083, pulumi/pulumi-azure-native#3053)",
        )
    return Immutable(
        "location",
        True,
        f"{LOCATION_RULE}; whether azure-native replaces the resource or ARM refuses the "
        f"update depends on {spec}'s marking, not checked here: either way not in place",
    )


_FORCE_NEW_REPORT = (
    "pulumi/pulumi-azure-native reports/forceNewTypes.json (the provider's create-only properties, "
    "from x-ms-mutability)"
)
_ML = "machinelearningservices/resource-manager/Microsoft.MachineLearningServices/stable/2025-12-01/"
_APP = "app/resource-manager/Microsoft.App/ContainerApps/preview/2025-02-02-preview/"
_WORKSPACE_RP = _ML + "workspaceRP.json"
_ML_COMPUTE = _ML + "machineLearningServices.json"
_AML_CMK = "Microsoft Learn, 'Customer-managed keys for Azure Machine Learning'"
_AML_MANAGED_NETWORK = "Microsoft Learn, 'Workspace managed virtual network isolation'"
# An AmlCompute cluster: the spec's Compute_Update (PATCH) takes only `properties.properties.scaleSettings`, and the
# azurerm provider documents the cluster as create-and-delete only ("cannot be updated"); Learn's `az ml compute
# update` changes only the scale settings and the identity. The spec gives these properties no x-ms-mutability marking
# (and has a PUT example "Update a AML Compute"), so azure-native does NOT replace the cluster: it sends a PUT
# (Compute_CreateOrUpdate) that Azure refuses or accepts while keeping the old value (related: Azure/azure-rest-api-specs
# #18889, a same-name delete-and-re-create that kept the old vmSize because the delete only detached). Our components declare them as `replace_on_changes` (components/_aml.py, from this
# table via `fixed_paths`), and the old cluster is deleted first (its name is fixed: job specs use it); the diff
# command reads that option before this table, so our pools show as replaced and others' programs as not applied.
_AML_CLUSTER_CREATE_ONLY = (
    "properties.properties.vmSize",
    "properties.properties.vmPriority",
    "properties.properties.subnet",
    "properties.properties.enableNodePublicIp",
    "properties.properties.osType",
    "properties.computeLocation",
)
_STORAGE = "storage/resource-manager/Microsoft.Storage/stable/2024-01-01/storage.json"

_ROWS = (
    ResourceFacts(
        "azure-native:machinelearningservices:Workspace",
        "2025-12-01",
        _WORKSPACE_RP,
        ("resourceGroupName", "workspaceName"),
        (
            _location(_WORKSPACE_RP, "unmarked"),
            Immutable(
                "storageAccount",
                False,
                f"{_WORKSPACE_RP}: WorkspaceProperties.storageAccount, 'This cannot be "
                "changed once the workspace has been created'",
            ),
            Immutable(
                "keyVault",
                False,
                f"{_WORKSPACE_RP}: WorkspaceProperties.keyVault, 'This cannot be changed once "
                "the workspace has been created'",
            ),
            # Not marked in the spec (no x-ms-mutability on WorkspaceProperties), documented as fixed by Learn. A
            # replacement is no way out either: a deleted workspace is soft-deleted and its name cannot be reused
            # until the retention period ends or it is purged (Learn, 'Workspace soft deletion'), and the name is
            # fixed here. So these are refused updates: a new value needs a new workspace (a new name).
            Immutable(
                "hbiWorkspace",
                False,
                f"{_AML_CMK}: the hbi_workspace flag can be set only when a workspace is created",
            ),
            Immutable(
                "encryption.status",
                False,
                f"{_AML_CMK} / 'Use customer-managed keys with Azure Machine Learning': the key is provided when the "
                "workspace is created (encryption cannot be turned on or off later)",
            ),
            Immutable(
                "encryption.keyVaultProperties.keyVaultArmId",
                False,
                f"{_AML_CMK}, Limitations: after creation the key can only be updated to another key in the "
                "original Azure Key Vault",
            ),
            Immutable(
                "encryption.identity",
                False,
                f"{_AML_CMK} / 'Use customer-managed keys with Azure Machine Learning': the key and its identity are "
                "given at creation; the Workspaces_Update body (EncryptionUpdateProperties) carries only the key "
                "identifier",
            ),
            Immutable(
                "enableDataIsolation",
                False,
                "Microsoft Learn, 'Set up authentication between Azure Machine Learning and other services' (data "
                "isolation): it can only be configured when creating a workspace (the spec's Workspaces_Update body "
                "lists it, Azure does not apply it)",
            ),
            Immutable(
                "managedNetwork.isolationMode",
                False,
                f"{_AML_MANAGED_NETWORK}: a managed network cannot be disabled once enabled, and "
                "AllowOnlyApprovedOutbound cannot go back to AllowInternetOutbound",
                transitions=(
                    ("AllowOnlyApprovedOutbound", "AllowInternetOutbound"),
                    ("AllowOnlyApprovedOutbound", "Disabled"),
                    ("AllowInternetOutbound", "Disabled"),
                ),
            ),
        ),
        holds="experiments, models, datastore registrations and the workspace's managed network",
    ),
    ResourceFacts(
        "azure-native:machinelearningservices:Compute",
        "2025-12-01",
        _ML_COMPUTE,
        ("resourceGroupName", "workspaceName", "computeName"),
        tuple(
            Immutable(
                path,
                False,
                f"{_ML_COMPUTE}: Compute_Update takes only scaleSettings (AmlCompute), no x-ms-mutability marking; "
                "related: Azure/azure-rest-api-specs#18889 (a same-name re-create kept the old vmSize)",
                outcome="Azure does not apply this change to an existing cluster (it refuses the PUT or keeps the "
                "old value); declare replace_on_changes (and delete_before_replace) to get a new cluster",
            )
            for path in _AML_CLUSTER_CREATE_ONLY
        ),
    ),
    # pulumi-azure-native's own forced replacements (provider/pkg/gen/replacement.go, forceNewMap: Authorization
    # RoleAssignment "principalId", "scope"; pulumi/pulumi-azure-native#771, fixed by PR #1010): ARM refuses to
    # change who or where a role assignment grants. `scope` is also a URL path parameter.
    ResourceFacts(
        "azure-native:authorization:RoleAssignment",
        "2022-04-01",
        "authorization/resource-manager/Microsoft.Authorization/stable/2022-04-01/authorization-RoleAssignmentsCalls.json",
        ("scope", "roleAssignmentName"),
        (
            Immutable(
                "principalId",
                True,
                "pulumi-azure-native forces replacement (provider/pkg/gen/replacement.go forceNewMap "
                "Authorization/RoleAssignment; pulumi/pulumi-azure-native#771, PR #1010)",
            ),
        ),
    ),
    ResourceFacts(
        "azure-native:storage:StorageAccount",
        "2024-01-01",
        _STORAGE,
        ("resourceGroupName", "accountName"),
        (_location(_STORAGE, "unmarked"),),
        holds="every blob, queue, table and file share in the account",
    ),
    ResourceFacts(
        "azure-native:storage:BlobContainer",
        "2024-01-01",
        _STORAGE.replace("storage.json", "blob.json"),
        ("resourceGroupName", "accountName", "containerName"),
        holds="every blob in the container",
    ),
    ResourceFacts(
        "azure-native:keyvault:Vault",
        "2024-11-01",
        "keyvault/resource-manager/Microsoft.KeyVault/stable/2024-11-01/keyvault.json",
        ("resourceGroupName", "vaultName"),
        (_location("keyvault.json (VaultCreateOrUpdateParameters)", "unmarked"),),
        holds="its keys (the customer-managed key other resources encrypt with), secrets and certificates; the name "
        "stays reserved while the deleted vault is retained",
    ),
    ResourceFacts(
        "azure-native:keyvault:Key",
        "2024-11-01",
        "keyvault/resource-manager/Microsoft.KeyVault/stable/2024-11-01/keys.json",
        ("resourceGroupName", "vaultName", "keyName"),
        holds="the key material: data encrypted with it cannot be read after it is replaced",
    ),
    ResourceFacts(
        "azure-native:containerregistry:Registry",
        "2023-01-01-preview",
        "containerregistry/resource-manager/Microsoft.ContainerRegistry/preview/2023-01-01-preview/"
        "containerregistry.json",
        ("resourceGroupName", "registryName"),
        (_location("containerregistry.json", "unchecked"),),
        holds="every image and artifact pushed to it",
    ),
    ResourceFacts(
        "azure-native:containerservice:ManagedCluster",
        "2025-09-01",
        "containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2025-09-01/managedClusters.json",
        ("resourceGroupName", "resourceName"),
        (
            _location("managedClusters.json", "unchecked"),
            Immutable(
                "apiServerAccessProfile.privateDNSZone",
                False,
                "Microsoft Learn, 'Create a private AKS cluster': the private DNS zone and its records cannot be "
                "changed or deleted after the cluster is created (the only supported change: to 'none')",
                outcome="Azure refuses this update: the private DNS zone is chosen when the cluster is created",
            ),
        ),
        holds="every workload, persistent volume claim and secret in the cluster",
    ),
    ResourceFacts(
        "azure-native:containerservice:AgentPool",
        "2025-09-01",
        "containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2025-09-01/managedClusters.json",
        ("resourceGroupName", "resourceName", "agentPoolName"),
        (
            Immutable(
                "vmSize",
                False,
                "Microsoft Learn, 'Resize node pools in Azure Kubernetes Service (AKS)': a node "
                "pool's VM size cannot be changed; create a new pool and move the workloads",
            ),
        ),
    ),
    ResourceFacts(
        "azure-native:batch:BatchAccount",
        "2024-07-01",
        "batch/resource-manager/Microsoft.Batch/stable/2024-07-01/BatchManagement.json",
        ("resourceGroupName", "accountName"),
        (_location("BatchManagement.json", "unchecked"),),
        holds="its pools, jobs, tasks and application packages",
    ),
    ResourceFacts(
        "azure-native:batch:Pool",
        "2024-07-01",
        "batch/resource-manager/Microsoft.Batch/stable/2024-07-01/BatchManagement.json",
        ("resourceGroupName", "accountName", "poolName"),
    ),
    ResourceFacts(
        "azure-native:app:ManagedEnvironment",
        "2025-02-02-preview",
        _APP + "ManagedEnvironments.json",
        ("resourceGroupName", "environmentName"),
        (
            _location(_APP + "ManagedEnvironments.json", "marked"),
            *(
                Immutable(
                    f"vnetConfiguration.{name}",
                    True,
                    f"{_FORCE_NEW_REPORT}: ManagedEnvironment VnetConfiguration.{name}",
                )
                for name in (
                    "infrastructureSubnetId",
                    "internal",
                    "dockerBridgeCidr",
                    "platformReservedCidr",
                    "platformReservedDnsIP",
                )
            ),
            Immutable(
                "customDomainConfiguration.dnsSuffix",
                True,
                f"{_FORCE_NEW_REPORT}: ManagedEnvironment CustomDomainConfiguration.dnsSuffix",
            ),
        ),
    ),
    ResourceFacts(
        "azure-native:app:ContainerApp",
        "2025-02-02-preview",
        _APP + "ContainerApps.json",
        ("resourceGroupName", "containerAppName"),
        (
            _location(_APP + "ContainerApps.json (TrackedResource, common-types v5)", "marked"),
            Immutable(
                "managedEnvironmentId",
                True,
                f"{_APP}ContainerApps.json: ContainerApp.properties."
                "managedEnvironmentId, x-ms-mutability [create, read]",
            ),
        ),
    ),
    ResourceFacts(
        "azure-native:cognitiveservices:Account",
        "2025-06-01",
        "cognitiveservices/resource-manager/Microsoft.CognitiveServices/stable/2025-06-01/cognitiveservices.json",
        ("resourceGroupName", "accountName"),
        (_location("cognitiveservices.json", "unchecked"),),
        holds="its model deployments (and the quota they hold), fine-tuned models and uploaded files",
    ),
    ResourceFacts(
        "azure-native:operationalinsights:Workspace",
        "2023-09-01",
        "operationalinsights/resource-manager/Microsoft.OperationalInsights/stable/2023-09-01/Workspaces.json",
        ("resourceGroupName", "workspaceName"),
        (_location("Workspaces.json", "unchecked"),),
        holds="the logs and metrics it retains",
    ),
)

CATALOGUE: dict[str, ResourceFacts] = {row.type: row for row in _ROWS}

# Path parameters of types not in the table above, by the SDK's input names (see tests/review): scope-based
# extension resources and the common child resources of our plans.
PATH_PARAMS: dict[str, tuple[str, ...]] = {
    "azure-native:app:Job": ("resourceGroupName", "jobName"),
    "azure-native:applicationinsights:Component": ("resourceGroupName", "resourceName"),
    "azure-native:authorization:ManagementLockByScope": ("scope", "lockName"),
    "azure-native:authorization:RoleDefinition": ("scope", "roleDefinitionId"),
    "azure-native:cognitiveservices:Deployment": ("resourceGroupName", "accountName", "deploymentName"),
    "azure-native:cognitiveservices:RaiPolicy": ("resourceGroupName", "accountName", "raiPolicyName"),
    "azure-native:compute:DiskEncryptionSet": ("resourceGroupName", "diskEncryptionSetName"),
    "azure-native:consumption:Budget": ("scope", "budgetName"),
    "azure-native:containerservice:MaintenanceConfiguration": ("resourceGroupName", "resourceName", "configName"),
    "azure-native:containerservice:ManagedNamespace": ("resourceGroupName", "resourceName", "managedNamespaceName"),
    "azure-native:kubernetesconfiguration:Extension": (
        "resourceGroupName",
        "clusterRp",
        "clusterResourceName",
        "clusterName",
        "extensionName",
    ),
    "azure-native:machinelearningservices:WorkspaceConnection": (
        "resourceGroupName",
        "workspaceName",
        "connectionName",
    ),
    "azure-native:managedidentity:UserAssignedIdentity": ("resourceGroupName", "resourceName"),
    "azure-native:monitor:DataCollectionRule": ("resourceGroupName", "dataCollectionRuleName"),
    "azure-native:monitor:DataCollectionRuleAssociation": ("resourceUri", "associationName"),
    "azure-native:monitor:DiagnosticSetting": ("resourceUri", "name"),
    # issue 20 (REST paths: actionGroups/{actionGroupName}, metricAlerts/{ruleName}, scheduledQueryRules/{ruleName},
    # workspaces/{workspaceName}/datastores/{name}, {scope}/policyAssignments/{name}, {scope}/scheduledActions/{name})
    "azure-native:monitor:ActionGroup": ("resourceGroupName", "actionGroupName"),
    "azure-native:monitor:MetricAlert": ("resourceGroupName", "ruleName"),
    "azure-native:monitor:ScheduledQueryRule": ("resourceGroupName", "ruleName"),
    "azure-native:machinelearningservices:Datastore": ("resourceGroupName", "workspaceName", "name"),
    "azure-native:authorization:PolicyAssignment": ("scope", "policyAssignmentName"),
    "azure-native:costmanagement:ScheduledActionByScope": ("scope", "name"),
    "azure-native:monitor:PrivateLinkScope": ("resourceGroupName", "scopeName"),
    "azure-native:monitor:PrivateLinkScopedResource": ("resourceGroupName", "scopeName", "name"),
    "azure-native:keyvault:Secret": ("resourceGroupName", "vaultName", "secretName"),
    "azure-native:network:NatGateway": ("resourceGroupName", "natGatewayName"),
    "azure-native:network:NetworkSecurityGroup": ("resourceGroupName", "networkSecurityGroupName"),
    "azure-native:network:PrivateDnsZoneGroup": ("resourceGroupName", "privateEndpointName", "privateDnsZoneGroupName"),
    "azure-native:network:PrivateEndpoint": ("resourceGroupName", "privateEndpointName"),
    "azure-native:network:PublicIPAddress": ("resourceGroupName", "publicIpAddressName"),
    "azure-native:network:SecurityRule": ("resourceGroupName", "networkSecurityGroupName", "securityRuleName"),
    "azure-native:network:Subnet": ("resourceGroupName", "virtualNetworkName", "subnetName"),
    "azure-native:network:VirtualNetwork": ("resourceGroupName", "virtualNetworkName"),
    "azure-native:privatedns:PrivateRecordSet": (
        "resourceGroupName",
        "privateZoneName",
        "recordType",
        "relativeRecordSetName",
    ),
    "azure-native:privatedns:PrivateZone": ("resourceGroupName", "privateZoneName"),
    "azure-native:privatedns:VirtualNetworkLink": ("resourceGroupName", "privateZoneName", "virtualNetworkLinkName"),
    "azure-native:resources:ResourceGroup": ("resourceGroupName",),
    "azure-native:storage:BlobServiceProperties": ("resourceGroupName", "accountName", "blobServicesName"),
    "azure-native:storage:FileServiceProperties": ("resourceGroupName", "accountName", "fileServicesName"),
    "azure-native:storage:ManagementPolicy": ("resourceGroupName", "accountName", "managementPolicyName"),
    "azure-native:storage:Queue": ("resourceGroupName", "accountName", "queueName"),
    **{t: f.path_params for t, f in CATALOGUE.items()},
}


def path_params(type_token: str) -> tuple[str, ...]:
    """The PUT's URL parameters of `type_token`; for an azure-native type we have not catalogued, the usual ones
    (resource group, scope, resource URI, and `<type>Name`); none for other providers."""
    known = PATH_PARAMS.get(type_token)
    if known is not None:
        return known
    if not type_token.startswith("azure-native:"):
        return ()  # another provider's URL (an Entra ID object id, a random value ...) is not an input
    kind = type_token.rsplit(":", 1)[-1]
    return ("resourceGroupName", "scope", "resourceUri", kind[:1].lower() + kind[1:] + "Name")


def immutable(type_token: str) -> tuple[Immutable, ...]:
    facts = CATALOGUE.get(type_token)
    return facts.immutable if facts else ()


def replaced_paths(type_token: str) -> tuple[str, ...]:
    """The create-only input paths of `type_token` (a change replaces the resource): what a component declares as
    `replace_on_changes`, so the option and the diff read the same row."""
    return tuple(rule.path for rule in immutable(type_token) if rule.replaces)


def fixed_paths(type_token: str) -> tuple[str, ...]:
    """Every input path Azure does not update in place (replaced by azure-native, or not applied): what a component
    that must be able to change it declares as `replace_on_changes`."""
    return tuple(rule.path for rule in immutable(type_token) if not rule.transitions)


def holds_data(type_token: str) -> str | None:
    facts = CATALOGUE.get(type_token)
    return facts.holds if facts else None
