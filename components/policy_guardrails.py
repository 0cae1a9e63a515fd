"""PolicyGuardrails: Azure Policy built-in definitions assigned on the environment's resource group, behind the pack.

The CrossGuard pack judges a plan before `pulumi up`; Azure Policy judges every request Resource Manager receives,
whatever sent it (the portal, the CLI, another team's pipeline). Each assignment here mirrors a pack rule, so a
resource the pack would flag is also refused (`Deny`) or reported (`Audit`) by Azure itself.

Where it runs: bootstrap/, as the administrator. Assigning or exempting policy needs
`Microsoft.Authorization/policyAssignments/write` / `policyExemptions/write`, which the pipeline's deployer does not
hold (Contributor's NotActions exclude `Microsoft.Authorization/*/Write`, and its custom access role holds only role
assignments, role definitions and locks: components/deployer_identity.py), so the identity the guardrails constrain
cannot assign, change or exempt them (Microsoft Learn, "Azure built-in roles": Contributor; "Azure Policy
exemption structure": exemptions need policyExemptions/write).

Effects: a definition takes the effects its `effect` parameter allows (listed per definition below, from the
definitions in Azure/azure-policy `built-in-policies/policyDefinitions/`); `Disabled` assigns nothing. A definition
with a fixed effect (no `effect` parameter, e.g. "Network interfaces should not have public IPs", always deny) takes
`Deny`, or `Audit`, which assigns it with `enforcementMode: DoNotEnforce`: evaluated and reported, never enforced
(Learn, "Azure Policy assignment structure", enforcement mode).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pulumi
from pulumi_azure_native import authorization
from pydantic import Field, field_validator

from ._base import ArgsModel, InputStr, publish
from .interfaces import child_opts
from .naming import NamingConvention

Effect = Literal["Audit", "Deny", "Disabled"]


@dataclass(frozen=True)
class BuiltInPolicy:
    definition_guid: str
    display_name: str
    effects: tuple[str, ...]
    """Values its `effect` parameter allows; empty when the effect is fixed (always deny)."""
    mirrors: str
    """The pack rule (policies/) it mirrors."""
    source: str
    """Its file in Azure/azure-policy, under built-in-policies/policyDefinitions/."""

    @property
    def definition_id(self) -> str:
        return f"/providers/Microsoft.Authorization/policyDefinitions/{self.definition_guid}"


_AUDIT_DENY = ("Audit", "Deny", "Disabled")
BUILT_IN_POLICIES: dict[str, BuiltInPolicy] = {
    # Data services we use: no public network access.
    "mlWorkspacePublicNetwork": BuiltInPolicy(
        "438c38d2-3772-465a-a9cc-7a6666a275ce",
        "Azure Machine Learning workspaces should disable public network access",
        _AUDIT_DENY,
        "public-network-access-disabled",
        "Machine Learning/Workspace_PublicNetworkAccessDisabled_Audit.json",
    ),
    "storagePublicNetwork": BuiltInPolicy(
        "b2982f36-99f2-4db5-8eff-283140c09693",
        "Storage accounts should disable public network access",
        _AUDIT_DENY,
        "public-network-access-disabled",
        "Storage/StoragePublicNetworkAccess_AuditDeny.json",
    ),
    "keyVaultPublicNetwork": BuiltInPolicy(
        "405c5871-3e91-4644-8a63-58e19d68ff5b",
        "Azure Key Vault should disable public network access",
        _AUDIT_DENY,
        "public-network-access-disabled",
        "Key Vault/",
    ),
    "containerRegistryPublicNetwork": BuiltInPolicy(
        "0fdf0491-d080-4575-b627-ad0e843cba0f",
        "Public network access should be disabled for Container registries",
        _AUDIT_DENY,
        "public-network-access-disabled",
        "Container Registry/",
    ),
    "batchPublicNetwork": BuiltInPolicy(
        "74c5a0ae-5e48-4738-b093-65e23a060488",
        "Public network access should be disabled for Batch accounts",
        _AUDIT_DENY,
        "public-network-access-disabled",
        "Batch/Batch_DisablePublicNetworkAccess_Audit.json",
    ),
    # Compute: private endpoints / private API, no public IPs, no local auth, idle shutdown.
    "aksPrivateCluster": BuiltInPolicy(
        "040732e8-d947-40b8-95d6-854c95024bf8",
        "Azure Kubernetes Service Private Clusters should be enabled",
        _AUDIT_DENY,
        "aks-private-cluster",
        "Kubernetes/",
    ),
    "nicNoPublicIp": BuiltInPolicy(
        "83a86a26-fd1f-447c-b59d-e51f44264114",
        "Network interfaces should not have public IPs",
        (),
        "no-node-public-ip",
        "Network/NetworkPublicIPNic_Deny.json",
    ),
    "mlComputeLocalAuth": BuiltInPolicy(
        "e96a9a5f-07ca-471b-9bc5-6a0f33cbd68f",
        "Machine Learning computes should have local authentication methods disabled",
        _AUDIT_DENY,
        "local-auth-disabled",
        "Machine Learning/MachineLearningServices_DisableLocalAuth_Audit.json",
    ),
    "mlComputeInstanceIdleShutdown": BuiltInPolicy(
        "679ddf89-ab8f-48a5-9029-e76054077449",
        "Azure Machine Learning Compute Instance should have idle shutdown.",
        _AUDIT_DENY,
        "compute instance rules (issue 15)",
        "Machine Learning/MachineLearningServices_IdleShutdown_Audit.json",
    ),
    # Customer-managed keys (audited in prd).
    "mlWorkspaceCmk": BuiltInPolicy(
        "ba769a63-b8cc-4b2d-abf6-ac33c7204be8",
        "Azure Machine Learning workspaces should be encrypted with a customer-managed key",
        _AUDIT_DENY,
        "cmk-ml-workspace",
        "Machine Learning/Workspace_CMKEnabled_Audit.json",
    ),
    "storageCmk": BuiltInPolicy(
        "6fac406b-40ca-413b-bf8e-0bf964659c25",
        "Storage accounts should use customer-managed key for encryption",
        ("Audit", "Disabled"),
        "cmk-storage",
        "Storage/StorageAccountCustomerManagedKeyEnabled_Audit.json",
    ),
    "containerRegistryCmk": BuiltInPolicy(
        "5b9159ae-1701-4a6f-9a7a-aa9c8ddd0580",
        "Container registries should be encrypted with a customer-managed key",
        _AUDIT_DENY,
        "cmk-container-registry",
        "Container Registry/",
    ),
}


class PolicyGuardrailsSettings(ArgsModel):
    """Which built-in policies to assign and with which effect (the `policyGuardrails` section of stack config)."""

    assignments: dict[str, Effect] = Field(default_factory=dict)
    """Definition key (see BUILT_IN_POLICIES / docs) -> `Audit`, `Deny` or `Disabled`."""

    @field_validator("assignments")
    @classmethod
    def _known(cls, assignments: dict[str, Effect]) -> dict[str, Effect]:
        for key, effect in assignments.items():
            policy = BUILT_IN_POLICIES.get(key)
            if policy is None:
                raise ValueError(
                    f"'{key}' is not a built-in policy aiinfra assigns; use one of: {', '.join(BUILT_IN_POLICIES)}"
                )
            allowed = policy.effects or ("Audit", "Deny", "Disabled")
            if effect not in allowed:
                raise ValueError(
                    f"{key}: '{policy.display_name}' does not take effect {effect}; it takes {', '.join(allowed)}"
                )
        return assignments


class PolicyGuardrailsArgs(PolicyGuardrailsSettings):
    """Args of PolicyGuardrails."""

    naming: NamingConvention
    """Naming convention of the environment."""
    resource_group_id: InputStr
    """The environment's resource group: the assignments' scope."""


class PolicyGuardrails(pulumi.ComponentResource):
    """Built-in Azure Policy definitions assigned on one resource group, each with its effect."""

    assignment_ids: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: PolicyGuardrailsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("aiinfra:governance:PolicyGuardrails", name, None, opts)
        assignment_ids = {
            key: self._assignment(name, args, key, effect).id
            for key, effect in sorted(args.assignments.items())
            if effect != "Disabled"
        }
        publish(self, assignment_ids=assignment_ids)

    def _assignment(
        self, name: str, args: PolicyGuardrailsArgs, key: str, effect: Effect
    ) -> authorization.PolicyAssignment:
        """One built-in definition on the group: its effect as a parameter, or (a definition with a fixed effect)
        audit-only through enforcement mode DoNotEnforce."""
        policy = BUILT_IN_POLICIES[key]
        fixed = not policy.effects
        return authorization.PolicyAssignment(
            f"{name}-{key}",
            # Resource-group scope: at most 64 characters (Learn, "Azure Policy assignment structure").
            policy_assignment_name=f"{args.naming.prefix}-{args.naming.environment}-{key}"[:64],
            scope=args.resource_group_id,
            policy_definition_id=policy.definition_id,
            display_name=f"{policy.display_name} ({args.naming.environment})"[:128],
            description=f"aiinfra guardrail mirroring the pack rule {policy.mirrors}.",
            parameters=None if fixed else {"effect": authorization.ParameterValuesValueArgs(value=effect)},
            enforcement_mode=authorization.EnforcementMode.DO_NOT_ENFORCE
            if fixed and effect == "Audit"
            else authorization.EnforcementMode.DEFAULT,
            non_compliance_messages=[
                authorization.NonComplianceMessageArgs(
                    message=f"Refused or reported by the aiinfra guardrail '{key}' (pack rule {policy.mirrors})."
                )
            ],
            opts=child_opts(self),
        )
