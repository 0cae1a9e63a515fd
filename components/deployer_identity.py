"""DeployerIdentity: the Entra ID identities a CI/CD pipeline deploys one environment with, and no secrets.

Two applications (each with its service principal) per environment, trusted through federated identity
credentials only, so a pipeline logs in with its platform's short-lived OIDC token:

- **deploy** (`pulumi up`): trusted for the GitHub environment of this environment
  (`repo:<owner>/<repo>:environment:<env>`, so GitHub's environment protection, e.g. required reviewers
  for prd, gates the token) and/or an Azure DevOps service connection. Contributor on the environment's
  resource group, plus Role Based Access Control Administrator there, limited by an ABAC condition to the
  roles the components grant, because the stack manages role assignments (CMK grants, callers'
  `role_assignments`).
- **preview** (`pulumi preview` on pull requests): trusted for `repo:<owner>/<repo>:pull_request` and/or a
  second service connection. Reader only: code in a pull request is not reviewed yet, so it must not get a
  token that can change anything.

Nothing is scoped above the resource group. Optional grants on the Pulumi state container and the
secrets-provider key let both log in to a self-managed backend with the same token.
"""

from __future__ import annotations

import re

import pulumi
import pulumi_azuread as azuread
from pydantic import Field, field_validator, model_validator

from ._base import ArgsModel, InputStr
from .interfaces import BUILTIN_ROLES, child_opts, role_assignment
from .naming import NamingConvention

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"
"""The audience Entra ID requires in every federated token (the default of azure/login and Azure DevOps)."""

PRIVILEGED_ROLES = frozenset({"Owner", "Contributor", "User Access Administrator",
                              "Role Based Access Control Administrator"})
"""Roles a deployer must never hand out: each would let it (or whoever it grants) go beyond its own grant."""

_ARM_ID = re.compile(r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/.+", re.IGNORECASE)


def assignable_roles_default() -> list[str]:
    """Every built-in role the components know (`BUILTIN_ROLES`) except the privileged ones."""
    return sorted(r for r in BUILTIN_ROLES if r not in PRIVILEGED_ROLES)


def role_assignment_condition(role_definition_guids: list[str]) -> str:
    """ABAC condition (version 2.0) allowing role assignments to be created and deleted only for these roles.

    Both actions are constrained: `write` on the requested role, `delete` on the existing assignment's role,
    so the principal can neither grant nor revoke anything else (e.g. remove another team's access).
    """
    guids = ", ".join(sorted(set(role_definition_guids)))
    return (
        "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR "
        f"(@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {{{guids}}}))"
        " AND "
        "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})) OR "
        f"(@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {{{guids}}}))"
    )


def _issuer_url(value: str) -> str:
    """An issuer must match the token's `iss` claim exactly, so it is checked, never rewritten."""
    if not re.fullmatch(r"https://[^\s/]+(/\S*)?", value):
        raise ValueError(f"'{value}' is not an https URL; copy the issuer exactly as the pipeline platform shows it")
    return value


class GitHubFederation(ArgsModel):
    """Trust GitHub Actions workflows of one repository."""

    repository: str = Field(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
    """`<owner>/<repo>` whose workflows deploy, spelled exactly as GitHub does (subjects are case-sensitive)."""
    environment: str | None = Field(default=None, min_length=1)
    """GitHub environment the deploy job runs in (subject `repo:<owner>/<repo>:environment:<name>`); None uses
    the environment code (`dev`, `test`, `prd`). Put protection rules (required reviewers) on it in GitHub."""
    issuer: str = GITHUB_ISSUER
    """Token issuer; change it only for GitHub Enterprise Server or an enterprise-specific issuer URL."""

    @field_validator("issuer")
    @classmethod
    def _issuer(cls, value: str) -> str:
        return _issuer_url(value)


class AzurePipelinesFederation(ArgsModel):
    """Trust Azure Pipelines (Azure DevOps) service connections: workload identity federation, no secret."""

    issuer: str
    """Issuer shown on the service connection, e.g. `https://vstoken.dev.azure.com/<organization id>` or
    `https://login.microsoftonline.com/<tenant id>/v2.0`."""
    deploy_subject: str = Field(min_length=3)
    """Subject of the deploy service connection, as shown on it (e.g. `sc://<org>/<project>/<connection>`).
    Put the approvals on the Azure DevOps environment its deployment job targets."""
    preview_subject: str | None = Field(default=None, min_length=3)
    """Subject of a second, read-only service connection for pull-request validation; None trusts none."""

    @field_validator("issuer")
    @classmethod
    def _issuer(cls, value: str) -> str:
        return _issuer_url(value)


class DeployerIdentitySettings(ArgsModel):
    """What an environment chooses about its deployer (the `deployer` object of the bootstrap stack config)."""

    github: GitHubFederation | None = None
    """Trust this repository's GitHub Actions workflows."""
    azure_pipelines: AzurePipelinesFederation | None = None
    """Trust these Azure Pipelines (Azure DevOps) service connections."""
    manage_role_assignments: bool = True
    """The stack creates role assignments (aiinfra's do: CMK grants, managed identities' access, callers'
    `roleAssignments`), so the deployer also gets Role Based Access Control Administrator on the group,
    limited to `assignableRoles`. False gives Contributor only, which cannot write role assignments."""
    assignable_roles: list[str] = Field(default_factory=assignable_roles_default)
    """Built-in role names the deployer may assign and remove (an ABAC condition on its RBAC Administrator
    grant). Default: every role aiinfra's components use, none of Owner, Contributor, User Access
    Administrator or Role Based Access Control Administrator."""
    state_container_id: str | None = None
    """Resource id of the blob container holding Pulumi state (`azblob://` backend): deploy gets Storage Blob
    Data Contributor on it, preview Storage Blob Data Reader (a preview takes no lock). None grants nothing."""
    secrets_key_id: str | None = None
    """Resource id of the Key Vault key of the stack's `azurekeyvault://` secrets provider: both identities
    get Key Vault Crypto User on that key only. None grants nothing."""
    owners: list[str] = Field(default_factory=list)
    """Object ids of extra owners of the Entra applications; the principal that runs bootstrap always is one."""

    @field_validator("assignable_roles")
    @classmethod
    def _assignable(cls, roles: list[str]) -> list[str]:
        privileged = sorted(set(roles) & PRIVILEGED_ROLES)
        if privileged:
            raise ValueError(f"{', '.join(privileged)} would let the deployer escalate beyond its own grant; "
                             "remove it (assign it by hand if a person really needs it)")
        unknown = [r for r in roles if r not in BUILTIN_ROLES]
        if unknown:
            known = ", ".join(assignable_roles_default())
            raise ValueError(f"unknown built-in role(s) {', '.join(unknown)}; known: {known}")
        if not roles:
            raise ValueError("must list at least one role; set manageRoleAssignments: false to grant none")
        return roles

    @field_validator("state_container_id", "secrets_key_id")
    @classmethod
    def _arm_id(cls, value: str | None) -> str | None:
        if value is not None and not _ARM_ID.match(value):
            raise ValueError(f"'{value}' is not an Azure resource id "
                             "(/subscriptions/<id>/resourceGroups/<group>/providers/...)")
        return value

    @model_validator(mode="after")
    def _trusts_someone(self) -> "DeployerIdentitySettings":
        if self.github is None and self.azure_pipelines is None:
            raise ValueError("set github and/or azurePipelines: a deployer identity no pipeline can log in as is useless")
        return self


class DeployerIdentityArgs(DeployerIdentitySettings):
    """Args of DeployerIdentity: the environment's settings plus where it deploys."""

    naming: NamingConvention
    """Naming convention of the environment (display names, and the default GitHub environment)."""
    resource_group_id: InputStr
    """Resource id of the environment's resource group: the only Azure scope the identities get roles on."""


class DeployerIdentity(pulumi.ComponentResource):
    """Entra ID applications + service principals for one environment's pipelines: federated credentials only
    (no passwords, no certificates) and role assignments on the environment's resource group only."""

    deploy_client_id: pulumi.Output[str]
    """Client id the deploy job logs in with (`AZURE_CLIENT_ID` of the GitHub environment / the deploy service
    connection)."""
    deploy_principal_id: pulumi.Output[str]
    preview_client_id: pulumi.Output[str]
    """Client id pull-request previews log in with."""
    preview_principal_id: pulumi.Output[str]
    tenant_id: pulumi.Output[str]

    def __init__(self, name: str, args: DeployerIdentityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("aiinfra:identity:DeployerIdentity", name, None, opts)
        client = azuread.get_client_config_output()
        owners: list[pulumi.Input[str]] = [client.object_id, *args.owners]
        github = args.github
        ado = args.azure_pipelines
        environment = (github.environment if github else None) or args.naming.environment

        deploy_trust: list[tuple[str, str, str]] = []
        preview_trust: list[tuple[str, str, str]] = []
        if github is not None:
            deploy_trust.append((f"github-environment-{environment}", github.issuer,
                                 f"repo:{github.repository}:environment:{environment}"))
            preview_trust.append(("github-pull-request", github.issuer, f"repo:{github.repository}:pull_request"))
        if ado is not None:
            deploy_trust.append(("azure-devops-deploy", ado.issuer, ado.deploy_subject))
            if ado.preview_subject:
                preview_trust.append(("azure-devops-preview", ado.issuer, ado.preview_subject))

        deploy = self._principal(name, "deploy", args, owners, deploy_trust,
                                 "Deploys the environment with `pulumi up` from its pipeline.")
        preview = self._principal(name, "preview", args, owners, preview_trust,
                                  "Previews the environment (read-only) from pull-request pipelines.")
        deploy_id, preview_id = deploy.object_id, preview.object_id

        scope = args.resource_group_id
        grants: list[tuple[str, pulumi.Input[str], pulumi.Input[str], str, str | None]] = [
            ("deploy-contributor", scope, deploy_id, "Contributor", None),
            ("preview-reader", scope, preview_id, "Reader", None),
        ]
        if args.manage_role_assignments:
            condition = role_assignment_condition([BUILTIN_ROLES[r] for r in args.assignable_roles])
            grants.append(("deploy-rbac-admin", scope, deploy_id, "Role Based Access Control Administrator", condition))
        if args.state_container_id:
            grants += [("deploy-state", args.state_container_id, deploy_id, "Storage Blob Data Contributor", None),
                       ("preview-state", args.state_container_id, preview_id, "Storage Blob Data Reader", None)]
        if args.secrets_key_id:
            grants += [("deploy-secrets", args.secrets_key_id, deploy_id, "Key Vault Crypto User", None),
                       ("preview-secrets", args.secrets_key_id, preview_id, "Key Vault Crypto User", None)]
        for suffix, grant_scope, principal, role, condition in grants:
            role_assignment(self, f"{name}-{suffix}", naming=args.naming, scope=grant_scope, principal_id=principal,
                            role=role, principal_type="ServicePrincipal", condition=condition)

        self.deploy_client_id = deploy.client_id
        self.deploy_principal_id = deploy_id
        self.preview_client_id = preview.client_id
        self.preview_principal_id = preview_id
        self.tenant_id = client.tenant_id
        self.register_outputs({
            "deployClientId": self.deploy_client_id,
            "deployPrincipalId": self.deploy_principal_id,
            "previewClientId": self.preview_client_id,
            "previewPrincipalId": self.preview_principal_id,
            "tenantId": self.tenant_id,
        })

    def _principal(self, name: str, purpose: str, args: DeployerIdentityArgs, owners: list[pulumi.Input[str]],
                   trust: list[tuple[str, str, str]], notes: str) -> azuread.ServicePrincipal:
        """An application with only federated credentials, and its service principal."""
        app = azuread.Application(
            f"{name}-{purpose}-app",
            display_name=args.naming.name("entra_application", purpose),
            sign_in_audience="AzureADMyOrg",
            owners=owners,
            prevent_duplicate_names=True,
            notes=notes,
            opts=child_opts(self),
        )
        for credential_name, issuer, subject in trust:
            azuread.ApplicationFederatedIdentityCredential(
                f"{name}-{purpose}-{credential_name}",
                application_id=app.id,
                display_name=credential_name,
                description=f"{purpose} from {subject}",
                audiences=[TOKEN_EXCHANGE_AUDIENCE],
                issuer=issuer,
                subject=subject,
                opts=child_opts(app),
            )
        return azuread.ServicePrincipal(
            f"{name}-{purpose}-sp",
            client_id=app.client_id,
            owners=owners,
            notes=notes,
            opts=child_opts(self),
        )
