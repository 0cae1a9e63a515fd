# pyright: reportArgumentType=false, reportMissingImports=false, reportAttributeAccessIssue=false, reportGeneralTypeIssues=false
# (another team's program, written as teams write them: plain dicts, its own venv's packages and modules)
"""A research team's style: a class per concern, outputs wired through apply()."""

import pulumi
from pulumi_azure_native import authorization, machinelearningservices as ml, managedidentity, resources, storage


class ResearchWorkspace:
    def __init__(self, team: str, gpu_size: str) -> None:
        self.group = resources.ResourceGroup(f"{team}-rg", resource_group_name=f"rg-{team}-research")
        self.identity = managedidentity.UserAssignedIdentity(
            f"{team}-id", resource_group_name=self.group.name, resource_name_=f"id-{team}")
        self.storage = storage.StorageAccount(
            f"{team}-st", resource_group_name=self.group.name, account_name=f"st{team}research",
            kind="StorageV2", sku={"name": "Standard_LRS"}, allow_blob_public_access=False)
        self.workspace = ml.Workspace(
            f"{team}-mlw", resource_group_name=self.group.name, workspace_name=f"mlw-{team}",
            identity={"type": "UserAssigned", "user_assigned_identities": [self.identity.id]},
            primary_user_assigned_identity=self.identity.id, storage_account=self.storage.id,
            public_network_access="Disabled", sku={"name": "Basic"})
        self.compute = ml.Compute(
            f"{team}-gpu", resource_group_name=self.group.name, workspace_name=self.workspace.name,
            compute_name="gpu", properties={
                "compute_type": "AmlCompute",
                "properties": {"vm_size": gpu_size, "vm_priority": "LowPriority",
                               "scale_settings": {"min_node_count": 0, "max_node_count": 2}}})
        # Grant the identity blob access on the account: the principal id exists only once Azure created it.
        authorization.RoleAssignment(
            f"{team}-blob", scope=self.storage.id, principal_type="ServicePrincipal",
            principal_id=self.identity.principal_id,
            role_definition_id="/providers/Microsoft.Authorization/roleDefinitions/"
                               "ba92f5b4-2d11-453d-a403-e96b0029c9fe")
        self.applied = self.identity.principal_id.apply(lambda pid: f"granted to {pid}")


config = pulumi.Config()
research = ResearchWorkspace(config.require("team"), config.require("gpuSize"))
pulumi.export("principal", research.identity.principal_id)
pulumi.export("grant", research.applied)
pulumi.export("computeId", research.compute.id)
pulumi.export("workspaceAccess", research.workspace.public_network_access)
