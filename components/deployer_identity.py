"""DeployerIdentity: the Entra ID identities a CI/CD pipeline deploys one environment with, and no secrets.

Two applications (each with its service principal) per environment, trusted through federated identity
credentials only, so a pipeline logs in with its platform's short-lived OIDC token:

- **deploy** (`pulumi up`): trusted for the GitHub environment of this environment
  (`repo:<owner>/<repo>:environment:<env>`, so GitHub's environment protection, e.g. required reviewers
  for prd, gates the token) and/or an Azure Pipelines service connection. Contributor on the environment's
  resource group, plus a custom *access* role there holding only the authorization actions Contributor lacks and
  the platform uses (role assignments, delete locks); its role assignments are limited by an ABAC condition that
  excludes Owner, User Access Administrator, Role Based Access Control Administrator and the access role itself.
  It never holds `Microsoft.Authorization/roleDefinitions/write`: with it, it could define a role that assigns
  roles and leave the condition behind (Learn, "Delegate Azure role assignment management to others with
  conditions": the condition constrains role assignments, not what a new role definition may do). The custom roles
  the platform needs are created by bootstrap/ (the more privileged step) and handed to the stack by id.
- **preview** (`pulumi preview` on pull requests): trusted for `repo:<owner>/<repo>:pull_request` and/or a
  second service connection. Reader only: code in a pull request is not reviewed yet, so it must not get a
  token that can change anything.

Nothing is scoped above the resource group. Optional grants on the Pulumi state container and the
secrets-provider key let both log in to a self-managed backend with the same token; optional Microsoft Graph
application permissions (`Group.Create`) cover stacks that create Entra ID groups.
"""

from __future__ import annotations

import re
import uuid
from typing import Literal

import pulumi
import pulumi_azuread as azuread
from pulumi_azure_native import authorization
from pydantic import Field, field_validator, model_validator

from ._base import ArgsModel, InputStr, publish
from .interfaces import BUILTIN_ROLES, child_opts, custom_role_definition_id, role_assignment
from .naming import NamingConvention

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"
"""The audience Entra ID requires in every federated token (the default of azure/login and Azure DevOps)."""

PRIVILEGED_ROLES: dict[str, str] = {
    "Owner": "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
    "User Access Administrator": BUILTIN_ROLES["User Access Administrator"],
    "Role Based Access Control Administrator": BUILTIN_ROLES["Role Based Access Control Administrator"],
}
"""Roles the deployer may never assign or remove: each manages access itself, so granting one would hand on
more than the deployer's own, group-scoped rights."""

MICROSOFT_GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
GRAPH_APP_ROLES: dict[str, str] = {
    "Group.Create": "bf7b1a76-6e77-406b-b258-bf5c7720e98f",
    # Reads service principals: SharedServices' Cosmos DB lookup (`cosmosDbPrincipalLookup`); Microsoft Graph
    # permissions reference, Application.Read.All (the least privileged one "Get servicePrincipal" accepts).
    "Application.Read.All": "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30",
}
"""Microsoft Graph application permissions a deployer may be given, by name (the ids are the same in every tenant)."""
READ_ONLY_GRAPH_APP_ROLES = frozenset({"Application.Read.All"})
"""Those a preview needs as much as a deployment (a data-source lookup runs in both)."""

_ACCESS_ROLE_NAMESPACE = uuid.UUID("5b0e3c1d-7a2f-4e68-9d14-3c8b6a0f2e71")
_ARM_ID = re.compile(r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/.+", re.IGNORECASE)


FORBIDDEN_ACTIONS = (
    "Microsoft.Authorization/roleDefinitions/write",
    "Microsoft.Authorization/roleDefinitions/delete",
    "Microsoft.Authorization/*",
    "Microsoft.Authorization/*/write",
    "*",
)
"""Actions no pipeline role may hold: defining roles (or anything under Microsoft.Authorization wholesale) lets the
holder write a role that assigns roles and escape the ABAC condition on its role assignments."""


def access_actions(role_assignments: bool, locks: bool) -> list[str]:
    """The authorization actions the platform's `pulumi up` uses and Contributor lacks (its NotActions exclude
    `Microsoft.Authorization/*/Write` and `*/Delete`). Never role definitions: see FORBIDDEN_ACTIONS."""
    actions: list[str] = []
    if role_assignments:
        actions += ["Microsoft.Authorization/roleAssignments/write", "Microsoft.Authorization/roleAssignments/delete"]
    if locks:
        actions += ["Microsoft.Authorization/locks/write", "Microsoft.Authorization/locks/delete"]
    return actions


_PLATFORM_ROLE_NAMESPACE = uuid.UUID("0d4c6f8e-93a1-4b52-8e07-6a2f9c1d3b58")


def platform_role_guid(naming: NamingConvention, role: str) -> str:
    """The GUID of a custom role bootstrap/ defines for the platform (deterministic per environment): the value the
    platform stack file names it by (e.g. `dataScientistRoleId`)."""
    return str(
        uuid.uuid5(
            _PLATFORM_ROLE_NAMESPACE,
            "|".join([naming.prefix, naming.environment, naming.location, naming.unique_seed, role]),
        )
    )


def custom_role(
    logical_name: str,
    *,
    guid: str,
    group_id: pulumi.Input[str],
    role_name: str,
    description: str,
    actions: list[str],
    not_actions: list[str] | None = None,
    opts: pulumi.ResourceOptions | None = None,
) -> authorization.RoleDefinition:
    """A custom role defined in a resource group and assignable there only (no data actions). Only the privileged
    bootstrap step defines roles: see FORBIDDEN_ACTIONS."""
    return authorization.RoleDefinition(
        logical_name,
        role_definition_id=guid,
        scope=group_id,
        role_name=role_name,
        description=description,
        role_type="CustomRole",
        permissions=[
            authorization.PermissionArgs(
                actions=actions, not_actions=not_actions or [], data_actions=[], not_data_actions=[]
            )
        ],
        assignable_scopes=[group_id],
        opts=opts,
    )


def assignable_roles(extra_role_guids: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The role definition GUIDs a deployer may assign and remove: the built-in roles aiinfra's components grant
    (`BUILTIN_ROLES`) less the privileged ones, plus `extra_role_guids` (bootstrap's custom roles, roles a stack
    file names by id)."""
    privileged = {g.lower() for g in PRIVILEGED_ROLES.values()}
    return sorted({g.lower() for g in (*BUILTIN_ROLES.values(), *extra_role_guids)} - privileged)


def role_assignment_condition(allowed_role_guids: list[str]) -> str:
    """ABAC condition (version 2.0): role assignments may be created and deleted for these roles only.

    An allow-list, as Learn's "Delegate Azure role assignment management to others with conditions" (example:
    constrain roles, `ForAnyOfAnyValues:GuidEquals`) shows. A deny-list of the privileged roles is not enough: some
    built-in roles carry `roleAssignments/write` themselves (e.g. "Azure IoT Operations Onboarding"), so a deployer
    could assign itself one of those and then Owner. Both actions are constrained, `write` on the requested role
    and `delete` on the existing assignment's role.
    """
    guids = ", ".join(sorted(set(allowed_role_guids)))
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
    `roleAssignments`), so the deployer may create and delete them in the group, for an allow-list of roles only (an
    ABAC condition): the built-in roles the components grant, bootstrap's custom roles and `assignableRoleIds` —
    never Owner, User Access Administrator, Role Based Access Control Administrator or its own access role."""
    manage_role_definitions: bool = False
    """Refused when true: a deployer that may write role definitions can define a role that assigns roles and escape
    the condition on its role assignments. bootstrap/ creates the custom roles the platform needs (the data-scientist
    role) and the stack takes their ids from config (`dataScientistRoleId`)."""
    manage_locks: bool = True
    """The stack puts CanNotDelete locks on stateful resources (`lockStatefulResources`), so the deployer may create
    and delete locks in the group."""
    graph_app_roles: list[Literal["Group.Create", "Application.Read.All"]] = Field(default_factory=list)
    """Microsoft Graph application permissions of the deploy identity: `Group.Create` when the stack creates Entra ID
    groups (a workspace without existing group ids), `Application.Read.All` when it looks up the Azure Cosmos DB
    service principal (`cosmosDbPrincipalLookup`; given to the preview identity too, which runs the same lookup).
    Needs admin consent: run bootstrap as a Privileged Role Administrator."""
    state_container_id: str | None = None
    """Resource id of the blob container holding Pulumi state (`azblob://` backend): deploy gets Storage Blob
    Data Contributor on it, preview Storage Blob Data Reader (a preview takes no lock). None grants nothing."""
    secrets_key_id: str | None = None
    """Resource id of the Key Vault key of the stack's `azurekeyvault://` secrets provider: both identities
    get Key Vault Crypto User on that key only. None grants nothing."""
    owners: list[str] = Field(default_factory=list)
    """Object ids of extra owners of the Entra applications; the principal that runs bootstrap always is one."""
    assignable_role_ids: list[str] = Field(default_factory=list)
    """Role definition GUIDs the deployer may assign besides the built-in roles aiinfra grants (bootstrap adds its
    own custom roles): the condition on its role-assignment rights is an allow-list. Privileged roles are refused."""

    @field_validator("assignable_role_ids")
    @classmethod
    def _assignable(cls, value: list[str]) -> list[str]:
        guid = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
        for role in value:
            if not guid.match(role):
                raise ValueError(f"'{role}' is not a role definition GUID (the last segment of its id)")
            if role.lower() in {g.lower() for g in PRIVILEGED_ROLES.values()}:
                raise ValueError(
                    f"'{role}' is a privileged role (Owner, User Access Administrator or Role Based "
                    "Access Control Administrator): a pipeline identity may never hand it on"
                )
        return value

    @field_validator("state_container_id", "secrets_key_id")
    @classmethod
    def _arm_id(cls, value: str | None) -> str | None:
        if value is not None and not _ARM_ID.match(value):
            raise ValueError(
                f"'{value}' is not an Azure resource id (/subscriptions/<id>/resourceGroups/<group>/providers/...)"
            )
        return value

    @field_validator("manage_role_definitions")
    @classmethod
    def _no_role_definitions(cls, value: bool) -> bool:
        if value:
            raise ValueError(
                "a pipeline identity may not write role definitions (it could define a role that "
                "assigns roles and escape the condition that keeps Owner and User Access Administrator "
                "away); remove manageRoleDefinitions: bootstrap/ creates the platform's custom roles and "
                "the stack takes their ids from config (dataScientistRoleId)"
            )
        return value

    @model_validator(mode="after")
    def _trusts_someone(self) -> DeployerIdentitySettings:
        if self.github is None and self.azure_pipelines is None:
            raise ValueError(
                "set github and/or azurePipelines: a deployer identity no pipeline can log in as is useless"
            )
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
        deploy_trust, preview_trust = _trust(args)
        deploy = self._principal(
            name, "deploy", args, owners, deploy_trust, "Deploys the environment with `pulumi up` from its pipeline."
        )
        preview = self._principal(
            name,
            "preview",
            args,
            owners,
            preview_trust,
            "Previews the environment (read-only) from pull-request pipelines.",
        )
        self._azure_grants(name, args, deploy.object_id, preview.object_id)
        self._graph_grants(name, args, deploy.object_id, preview.object_id)
        publish(
            self,
            deploy_client_id=deploy.client_id,
            deploy_principal_id=deploy.object_id,
            preview_client_id=preview.client_id,
            preview_principal_id=preview.object_id,
            tenant_id=client.tenant_id,
        )

    def _azure_grants(
        self,
        name: str,
        args: DeployerIdentityArgs,
        deploy_id: pulumi.Output[str],
        preview_id: pulumi.Output[str],
    ) -> None:
        """Contributor (deploy) and Reader (preview) on the environment's group; the custom access role (role
        assignments under a condition, locks) when asked; the state container and the secrets key when given."""
        scope = args.resource_group_id
        grants: list[tuple[str, pulumi.Input[str], pulumi.Input[str], str, pulumi.Input[str] | None, str | None]] = [
            ("deploy-contributor", scope, deploy_id, "Contributor", None, None),
            ("preview-reader", scope, preview_id, "Reader", None, None),
        ]
        actions = access_actions(args.manage_role_assignments, args.manage_locks)
        if actions:
            _, access_role_id, guid = self._access_role(name, args, actions)
            condition = (
                role_assignment_condition(assignable_roles(args.assignable_role_ids))
                if args.manage_role_assignments
                else None
            )
            grants.append(("deploy-access", scope, deploy_id, f"custom:{guid}", access_role_id, condition))
        if args.state_container_id:
            grants += [
                ("deploy-state", args.state_container_id, deploy_id, "Storage Blob Data Contributor", None, None),
                ("preview-state", args.state_container_id, preview_id, "Storage Blob Data Reader", None, None),
            ]
        if args.secrets_key_id:
            grants += [
                ("deploy-secrets", args.secrets_key_id, deploy_id, "Key Vault Crypto User", None, None),
                ("preview-secrets", args.secrets_key_id, preview_id, "Key Vault Crypto User", None, None),
            ]
        for suffix, grant_scope, principal, role, definition, condition in grants:
            role_assignment(
                self,
                f"{name}-{suffix}",
                naming=args.naming,
                scope=grant_scope,
                principal_id=principal,
                role=role,
                principal_type="ServicePrincipal",
                role_definition=definition,
                condition=condition,
            )

    def _graph_grants(
        self, name: str, args: DeployerIdentityArgs, deploy_id: pulumi.Output[str], preview_id: pulumi.Output[str]
    ) -> None:
        """The Microsoft Graph application permissions the deployer is given (`graph_app_roles`); the read-only ones
        (READ_ONLY_GRAPH_APP_ROLES) go to the preview identity too, since `pulumi preview` runs the same lookups."""
        if not args.graph_app_roles:
            return
        # Microsoft Graph's service principal exists in every tenant: adopted, and left alone on delete.
        graph = azuread.ServicePrincipal(
            f"{name}-msgraph",
            client_id=MICROSOFT_GRAPH_APP_ID,
            use_existing=True,
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
        )
        for permission in args.graph_app_roles:
            holders = [("deploy", deploy_id)] + (
                [("preview", preview_id)] if permission in READ_ONLY_GRAPH_APP_ROLES else []
            )
            for who, principal in holders:
                azuread.AppRoleAssignment(
                    f"{name}-{who}-graph-{permission.lower().replace('.', '-')}",
                    app_role_id=GRAPH_APP_ROLES[permission],
                    principal_object_id=principal,
                    resource_object_id=graph.object_id,
                    opts=child_opts(self),
                )

    def _access_role(
        self, name: str, args: DeployerIdentityArgs, actions: list[str]
    ) -> tuple[authorization.RoleDefinition, pulumi.Output[str], str]:
        """A custom role, defined and assignable in the group only, with the authorization actions `pulumi up`
        needs beyond Contributor (which reads everything already)."""
        n = args.naming
        guid = str(
            uuid.uuid5(
                _ACCESS_ROLE_NAMESPACE,
                "|".join([n.prefix, n.environment, n.location, n.unique_seed, "deployer-access"]),
            )
        )
        role = custom_role(
            f"{name}-access-role",
            guid=guid,
            group_id=args.resource_group_id,
            role_name=f"{n.name('entra_application', 'deploy')} access administration",
            description="Lets the environment's pipeline deployer manage the role assignments and delete locks of "
            "its resources (role assignments limited by a condition; no role definitions).",
            actions=actions,
            opts=child_opts(self),
        )
        role_id = custom_role_definition_id(args.resource_group_id, role, guid)
        return role, role_id, guid

    def _principal(
        self,
        name: str,
        purpose: str,
        args: DeployerIdentityArgs,
        owners: list[pulumi.Input[str]],
        trust: list[tuple[str, str, str]],
        notes: str,
    ) -> azuread.ServicePrincipal:
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


def _trust(args: DeployerIdentityArgs) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """The federated credentials (name, issuer, subject) of the deploy and the preview application: the GitHub
    environment and pull requests, and the Azure Pipelines service connections."""
    github, ado = args.github, args.azure_pipelines
    environment = (github.environment if github else None) or args.naming.environment
    deploy: list[tuple[str, str, str]] = []
    preview: list[tuple[str, str, str]] = []
    if github is not None:
        deploy.append(
            (f"github-environment-{environment}", github.issuer, f"repo:{github.repository}:environment:{environment}")
        )
        preview.append(("github-pull-request", github.issuer, f"repo:{github.repository}:pull_request"))
    if ado is not None:
        deploy.append(("azure-devops-deploy", ado.issuer, ado.deploy_subject))
        if ado.preview_subject:
            preview.append(("azure-devops-preview", ado.issuer, ado.preview_subject))
    return deploy, preview
