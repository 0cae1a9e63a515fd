"""AiServices: a private, keyless Azure OpenAI (or AI Services) account for the platform's LLM workloads.

What it creates, on the environment's shared services:

- the account (`kind` OpenAI or AIServices, SKU S0) with a custom subdomain (its Azure name), public network access
  off, local (key) auth off, outbound access restricted to an explicit FQDN allow-list, a system-assigned identity
  (plus the shared CMK identity when the environment asks for customer-managed keys), diagnostics to Log Analytics;
- a private endpoint (`account`) registered in both private DNS zones an OpenAI account answers on
  (`privatelink.openai.azure.com`, `privatelink.cognitiveservices.azure.com`), in the shared private-endpoint subnet —
  so the Container Apps subnet and anything else in the VNet reach it privately;
- a custom content filter (RAI policy) blocking prompts and completions at configurable severity thresholds, and
  model deployments (chat, embeddings ...) validated against `aiinfra.catalog.openai_models`, every one using it;
- access without keys: Cognitive Services OpenAI User for the data-scientist group and the identities of the
  workspaces and apps that call it; for each Azure ML workspace, a connection with Entra ID auth
  (`connect_workspace`) and the private-endpoint outbound rule for its managed network (`workspace_outbound_rule`).

Sources are named where each decision is made; docs/components/ai_services.md collects them.
"""

from __future__ import annotations

from typing import Literal

import pulumi
from pulumi_azure_native import cognitiveservices as cs
from pulumi_azure_native import machinelearningservices as ml
from pydantic import Field, field_validator, model_validator

from aiinfra.catalog.openai_models import DeploymentSku, deployment_problems, lookup

from ._base import ArgsModel, ComponentArgsError, InputStr, duplicates, publish
from .interfaces import (
    CommonArgs,
    CustomerManagedKey,
    child_opts,
    delete_lock,
    diagnostic_setting,
    extra_role_assignments,
    private_endpoint,
    role_assignment,
)
from .secure_workspace import _FQDN, _UUID, OutboundRule  # one host-name and object-id pattern for all components
from .shared_services import SharedServicesRef

OPENAI_USER_ROLE = "Cognitive Services OpenAI User"
Severity = Literal["Low", "Medium", "High"]
# The data-plane API version the workspace connection advertises to prompt flow / the SDKs (Learn, "Azure OpenAI in
# Azure AI Foundry Models REST API reference": latest GA inference version).
CONNECTION_API_VERSION = "2024-10-21"


class ContentFilter(ArgsModel):
    """The custom content filter (RAI policy) every deployment uses: blocks prompts and completions.

    A threshold is the lowest severity that is blocked: `Low` blocks low, medium and high; `High` blocks high only.
    Microsoft Learn, "Content filtering" and "How to configure content filters" (severity levels, the four harm
    categories, prompt shields on prompts and protected-material detection on completions).
    """

    hate: Severity = "Medium"
    """Block hate and fairness content at this severity and above."""
    sexual: Severity = "Medium"
    """Block sexual content at this severity and above."""
    violence: Severity = "Medium"
    """Block violent content at this severity and above."""
    self_harm: Severity = "Medium"
    """Block self-harm content at this severity and above."""
    prompt_shields: bool = True
    """Block jailbreak attempts (user prompt attacks) and indirect attacks in prompts."""
    protected_material: bool = True
    """Block completions that reproduce known protected text or code."""

    def filters(self) -> list[cs.RaiPolicyContentFilterArgs]:
        """The policy's content filters: each harm category on prompts and completions, blocking."""
        out: list[cs.RaiPolicyContentFilterArgs] = []
        for name, threshold in (
            ("Hate", self.hate),
            ("Sexual", self.sexual),
            ("Violence", self.violence),
            ("Selfharm", self.self_harm),
        ):
            for source in (cs.RaiPolicyContentSource.PROMPT, cs.RaiPolicyContentSource.COMPLETION):
                out.append(
                    cs.RaiPolicyContentFilterArgs(
                        name=name,
                        enabled=True,
                        blocking=True,
                        severity_threshold=cs.ContentLevel(threshold),
                        source=source,
                    )
                )
        for name, source, on in (
            ("Jailbreak", cs.RaiPolicyContentSource.PROMPT, self.prompt_shields),
            ("Indirect Attack", cs.RaiPolicyContentSource.PROMPT, self.prompt_shields),
            ("Protected Material Text", cs.RaiPolicyContentSource.COMPLETION, self.protected_material),
            ("Protected Material Code", cs.RaiPolicyContentSource.COMPLETION, self.protected_material),
        ):
            out.append(cs.RaiPolicyContentFilterArgs(name=name, enabled=on, blocking=on, source=source))
        return out


class ModelDeployment(ArgsModel):
    """One model deployment on the account (callers address it by `name`)."""

    name: str = Field(pattern=r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{1,63}$")
    """Deployment name the API calls use (e.g. `chat`, `embeddings`)."""
    model: str = Field(min_length=1)
    """Model name as the catalogue lists it (e.g. `gpt-4.1`, `text-embedding-3-large`)."""
    version: str = Field(min_length=1)
    """Model version (e.g. `2025-04-14`, `1`); pinned, so a plan never changes models behind your back."""
    sku: DeploymentSku = "GlobalStandard"
    """Deployment type: `Standard` (regional), `GlobalStandard`, `DataZoneStandard` (pay per token, data processed
    in the US or EU data zone), or `ProvisionedManaged` / `GlobalProvisionedManaged` / `DataZoneProvisionedManaged`
    (reserved PTUs billed per hour whether used or not)."""
    capacity: int = Field(default=10, ge=1, le=100_000)
    """Pay-per-token types: the rate limit in units of 1,000 tokens per minute (needs that much quota in the
    region). Provisioned types: PTUs, at least the model's minimum and in its increments."""
    version_upgrade: Literal["OnceCurrentVersionExpired", "OnceNewDefaultVersionAvailable", "NoAutoUpgrade"] = (
        "OnceCurrentVersionExpired"
    )
    """What Azure does when the version retires: upgrade then (default), as soon as a new default appears, or never
    (the deployment stops answering at retirement). Learn, "Working with Azure OpenAI models" (model updates)."""

    @property
    def kind(self) -> str:
        return lookup(self.model, self.version).kind


class AiServicesSettings(ArgsModel):
    """What an environment chooses about its Azure OpenAI account (the `aiServices` section of stack config)."""

    name: str = Field(default="llm", pattern=r"^[a-z][a-z0-9]{1,11}$")
    """Workload name, part of the account's Azure name (its custom subdomain)."""
    kind: Literal["OpenAI", "AIServices"] = "OpenAI"
    """`OpenAI` (Azure OpenAI only) or `AIServices` (Azure OpenAI plus the other Foundry Tools on one endpoint)."""
    deployments: list[ModelDeployment] = Field(default_factory=list)
    """Model deployments; each uses the account's content filter."""
    content_filter: ContentFilter = Field(default_factory=ContentFilter)
    """Severity thresholds of the custom content filter."""
    allowed_fqdns: list[str] = Field(default_factory=list)
    """Host names the account may call out to (outbound access is always restricted to this list), e.g. an Azure AI
    Search endpoint for "on your data". The shared storage account's blob endpoint is added when
    `allowSharedStorage` is on."""
    allow_shared_storage: bool = True
    """Add the shared storage account's blob endpoint to the allow-list (batch and fine-tuning files)."""
    public_network_access: Literal["Disabled", "Enabled"] = "Disabled"
    """`Enabled` opens the account to the internet besides its private endpoint (the policy pack flags it)."""
    disable_local_auth: bool = True
    """False re-enables API keys (the policy pack flags it); callers should use Entra ID tokens."""
    require_cmk: bool = False
    """Encrypt the account's data with the environment's customer-managed key (needs the shared CMK)."""
    data_scientists_group_object_id: str | None = Field(default=None, pattern=_UUID)
    """Entra ID group given Cognitive Services OpenAI User (inference in the playground, prompt flow, notebooks)."""

    @field_validator("allowed_fqdns")
    @classmethod
    def _fqdns(cls, values: list[str]) -> list[str]:
        bad = [v for v in values if not _FQDN.match(v.lower())]
        if bad:
            raise ValueError(f"not host names: {', '.join(bad)} (e.g. 'srch-x.search.windows.net')")
        repeated = duplicates(v.lower() for v in values)
        if repeated:
            raise ValueError(f"listed twice: {', '.join(repeated)}")
        return [v.lower() for v in values]  # host names are case-insensitive; Azure keeps them lowercase

    @model_validator(mode="after")
    def _consistent(self) -> AiServicesSettings:
        repeated = duplicates(d.name.lower() for d in self.deployments)
        if repeated:
            raise ValueError(f"deployments: duplicate name(s) {', '.join(repeated)}")
        for i, d in enumerate(self.deployments):
            try:
                lookup(d.model, d.version)
            except ValueError as exc:
                raise ValueError(f"deployments[{i}] ({d.name}): {exc}") from None
        if not self.allowed_fqdns and not self.allow_shared_storage:
            raise ValueError(
                "allowedFqdns is empty and allowSharedStorage is false: outbound access is restricted "
                "to an explicit allow-list, which must name at least one host"
            )
        return self

    def region_problems(self, location: str) -> list[str]:
        """Why these deployments cannot be created in `location` (empty when they can)."""
        return [
            f"deployments[{i}] ({d.name}): {p}"
            for i, d in enumerate(self.deployments)
            for p in deployment_problems(d.model, d.version, d.sku, d.capacity, location)
        ]


class AiConsumer(ArgsModel):
    """An identity that calls the account's models (an app's or a job's managed identity)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{0,30}$")
    """Short name for the grant's logical name (e.g. `apps-infer`)."""
    principal_id: InputStr
    """Principal (object) id of the identity."""
    principal_type: Literal["ServicePrincipal", "Group", "User"] = "ServicePrincipal"
    """Type of the principal (managed identities are service principals)."""


class AiWorkspaceConnection(ArgsModel):
    """An Azure ML workspace that uses the account: a connection with Entra ID auth and its identities' grants."""

    key: str = Field(pattern=r"^[a-z][a-z0-9-]{0,30}$")
    """Short name for logical names (e.g. the workspace's workload name)."""
    workspace_name: InputStr
    """Azure name of the workspace."""
    resource_group_name: InputStr
    """Resource group of the workspace."""
    principal_ids: list[InputStr] = Field(default_factory=list)
    """Identities that call the models for the workspace (its workspace identity, its compute identity)."""
    connection_name: str = Field(default="aoai", pattern=r"^[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}$")
    """Name of the connection prompt flows and jobs refer to."""


class AiServicesArgs(CommonArgs, AiServicesSettings):
    """Args of AiServices: the common component args, the account's settings and the shared services."""

    shared: SharedServicesRef
    """The shared services: private-endpoint subnet, private DNS zones, storage, Log Analytics, CMK."""
    consumers: list[AiConsumer] = Field(default_factory=list)
    """Identities known when the account is created that get Cognitive Services OpenAI User on it."""

    @model_validator(mode="after")
    def _deployable_here(self) -> AiServicesArgs:
        if self.require_cmk and self.shared.cmk is None:
            raise ValueError(
                "require_cmk needs the shared services' customer-managed key (SharedServices with "
                "require_cmk, or a SharedServicesRef with cmk)"
            )
        problems = self.region_problems(self.location)
        if problems:
            raise ValueError("; ".join(problems))
        repeated = duplicates(c.name for c in self.consumers)
        if repeated:
            raise ValueError(f"consumers: duplicate name(s) {', '.join(repeated)}")
        return self


class AiServices(pulumi.ComponentResource):
    """A private, keyless Azure OpenAI account with a content filter, model deployments and Entra ID access."""

    account: cs.Account
    account_id: pulumi.Output[str]
    account_name: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    principal_id: pulumi.Output[str]
    rai_policy_name: pulumi.Output[str]
    deployment_names: dict[str, pulumi.Output[str]]
    private_endpoint_id: pulumi.Output[str]

    def __init__(self, name: str, args: AiServicesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        zone_ids = args.shared.dns_zone_ids_for("account")  # fails before anything is registered
        super().__init__("aiinfra:ai:AiServices", name, None, opts)
        self._name, self._args = name, args
        self.account = account = self._account(name, args)
        endpoint = private_endpoint(
            self,
            f"{name}-pe",
            args=args,
            azure_name=args.naming.name("private_endpoint", args.name, "oai"),
            subnet_id=args.shared.private_endpoint_subnet_id,
            target_id=account.id,
            group_id="account",
            dns_zone_ids=zone_ids,
        )
        self._account_guards(name, args, account)
        policy = self._content_filter(name, args, account, endpoint)
        deployment_names = self._deployments(name, args, account, policy)
        if args.data_scientists_group_object_id is not None:
            self.grant_openai_user("data-scientists", args.data_scientists_group_object_id, "Group")
        for consumer in args.consumers:
            self.grant_openai_user(consumer.name, consumer.principal_id, consumer.principal_type)
        publish(
            self,
            account_id=account.id,
            account_name=account.name,
            # The OpenAI endpoint of the custom subdomain (both kinds answer on it; Learn, "Azure OpenAI REST
            # reference").
            endpoint=pulumi.Output.concat("https://", account.name, ".openai.azure.com/"),
            principal_id=account.identity.apply(lambda i: i.principal_id if i else ""),
            rai_policy_name=policy.name,
            deployment_names=deployment_names,
            private_endpoint_id=endpoint.id,
        )

    def _account(self, name: str, args: AiServicesArgs) -> cs.Account:
        """The account: create-only custom subdomain, no network path but the private endpoint, outbound calls only
        to the allowed hosts, the environment's key when CMK is required."""
        shared = args.shared
        account_name = args.naming.name("openai_account" if args.kind == "OpenAI" else "ai_services_account", args.name)
        cmk = shared.cmk if args.require_cmk else None
        fqdns: list[pulumi.Input[str]] = list(args.allowed_fqdns)
        if args.allow_shared_storage:
            fqdns.append(pulumi.Output.concat(shared.storage_account_name, ".blob.core.windows.net"))
        return cs.Account(
            f"{name}-account",
            account_name=account_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            kind=args.kind,
            sku=cs.SkuArgs(name="S0"),
            identity=_identity(cmk),
            properties=cs.AccountPropertiesArgs(
                # The custom subdomain is what Entra ID tokens and private endpoints need, and it is create-only
                # (Learn, "Authenticate requests to Azure AI services": custom subdomain names).
                custom_sub_domain_name=account_name,
                public_network_access=cs.PublicNetworkAccess(args.public_network_access),
                # No network path but the private endpoint; trusted-service bypass only applies to public access
                # (Learn, "Configure Azure AI services virtual networks").
                network_acls=cs.NetworkRuleSetArgs(
                    default_action=cs.NetworkRuleAction.DENY,
                    bypass=cs.ByPassSelection.NONE,
                    ip_rules=[],
                    virtual_network_rules=[],
                ),
                disable_local_auth=args.disable_local_auth,
                # Data loss prevention: the account calls out only to the listed hosts (Learn, "Configure data loss
                # prevention for Azure AI services").
                restrict_outbound_network_access=True,
                allowed_fqdn_list=fqdns,
                encryption=_encryption(cmk),
            ),
            tags=args.tags,
            opts=child_opts(self, protect=args.lock, depends_on=list(cmk.depends_on) if cmk is not None else []),
        )

    def _account_guards(self, name: str, args: AiServicesArgs, account: cs.Account) -> None:
        """Diagnostics to Log Analytics, the delete lock (when asked), the caller's extra role assignments."""
        diagnostic_setting(
            self,
            f"{name}-diag",
            resource_id=account.id,
            workspace_id=args.log_analytics_workspace_id or args.shared.log_analytics_workspace_id,
        )
        delete_lock(self, f"{name}-lock", scope=account.id, enabled=args.lock)
        extra_role_assignments(self, name, args, account.id)

    def _content_filter(
        self, name: str, args: AiServicesArgs, account: cs.Account, endpoint: pulumi.Resource
    ) -> cs.RaiPolicy:
        return cs.RaiPolicy(
            f"{name}-content-filter",
            account_name=account.name,
            resource_group_name=args.resource_group_name,
            rai_policy_name=args.naming.name("rai_policy", args.name),
            properties=cs.RaiPolicyPropertiesArgs(
                base_policy_name="Microsoft.DefaultV2",
                # Default: filtered before anything is returned (Asynchronous_filter would stream unfiltered text).
                mode=cs.RaiPolicyMode.DEFAULT,
                content_filters=args.content_filter.filters(),
            ),
            tags=args.tags,
            # After the private endpoint: its connection is a write under the account too, and Azure rejects
            # concurrent writes under one account (409 RequestConflict; Azure/azure-dev#9398).
            opts=child_opts(account, depends_on=[endpoint]),
        )

    def _deployments(
        self, name: str, args: AiServicesArgs, account: cs.Account, policy: cs.RaiPolicy
    ) -> dict[str, pulumi.Output[str]]:
        """The model deployments, one at a time: Azure rejects concurrent writes under one account (AVM deploys them
        with @batchSize(1))."""
        names: dict[str, pulumi.Output[str]] = {}
        previous: pulumi.Resource | None = None
        for d in args.deployments:
            deployment = cs.Deployment(
                f"{name}-deploy-{d.name}",
                account_name=account.name,
                resource_group_name=args.resource_group_name,
                deployment_name=d.name,
                sku=cs.SkuArgs(name=d.sku, capacity=d.capacity),
                properties=cs.DeploymentPropertiesArgs(
                    model=cs.DeploymentModelArgs(format="OpenAI", name=d.model, version=d.version),
                    rai_policy_name=policy.name,
                    version_upgrade_option=cs.DeploymentModelVersionUpgradeOption(d.version_upgrade),
                ),
                tags=args.tags,
                opts=child_opts(account, depends_on=[previous] if previous else None),
            )
            names[d.name] = deployment.name
            previous = deployment
        return names

    def grant_openai_user(
        self, who: str, principal_id: pulumi.Input[str], principal_type: str = "ServicePrincipal"
    ) -> pulumi.Resource:
        """Cognitive Services OpenAI User on the account for one principal (`who` names the grant): inference only —
        no keys, no deployment changes (least privilege; Learn, "Role-based access control for Azure OpenAI")."""
        return role_assignment(
            self,
            f"{self._name}-{who}-openai-user",
            naming=self._args.naming,
            scope=self.account.id,
            principal_id=principal_id,
            role=OPENAI_USER_ROLE,
            principal_type=principal_type,
        )

    def workspace_outbound_rule(self, name: str = "azure-openai") -> OutboundRule:
        """The private-endpoint outbound rule an Azure ML managed network needs to reach this account.

        Add it to the workspace's `outbound_rules` (SecureWorkspace grants its identity the approver role on the
        target). Learn, "Managed network isolation for Azure ML" (private endpoint outbound rules, `account`).
        """
        return OutboundRule(
            name=name, type="PrivateEndpoint", service_resource_id=self.account.id, subresource_target="account"
        )

    def connect_workspace(self, workspace: AiWorkspaceConnection) -> ml.WorkspaceConnection:
        """A workspace connection to the account with Entra ID auth, and OpenAI User for the workspace's identities.

        Learn, "Create connections in Azure Machine Learning" / prompt flow: an Azure OpenAI connection with
        `AAD` auth calls the models with the caller's token, so each identity that runs flows or jobs needs the role.
        """
        if not isinstance(workspace, AiWorkspaceConnection):
            raise ComponentArgsError("connect_workspace takes an AiWorkspaceConnection")
        grants = [
            self.grant_openai_user(f"{workspace.key}-{i}", principal, "ServicePrincipal")
            for i, principal in enumerate(workspace.principal_ids)
        ]
        return ml.WorkspaceConnection(
            f"{self._name}-conn-{workspace.key}",
            connection_name=workspace.connection_name,
            workspace_name=workspace.workspace_name,
            resource_group_name=workspace.resource_group_name,
            properties=ml.AADAuthTypeWorkspaceConnectionPropertiesArgs(
                auth_type="AAD",
                category=ml.ConnectionCategory.AZURE_OPEN_AI,
                target=self.endpoint,
                is_shared_to_all=True,
                metadata={"ApiType": "Azure", "ApiVersion": CONNECTION_API_VERSION, "ResourceId": self.account.id},
            ),
            opts=child_opts(self, depends_on=grants),
        )


def _identity(cmk: CustomerManagedKey | None) -> cs.IdentityArgs:
    """System-assigned, plus the CMK identity when the account is encrypted with the environment's key.

    Learn, "Configure customer-managed keys for Azure AI services" / AVM cognitive-services/account: the key is read
    with a user-assigned identity named by its client id, which must be on the account and allowed on the key before
    the account is created with it (the account waits for the key's `depends_on`)."""
    if cmk is None:
        return cs.IdentityArgs(type=cs.ResourceIdentityType.SYSTEM_ASSIGNED)
    return cs.IdentityArgs(
        type=cs.ResourceIdentityType.SYSTEM_ASSIGNED_USER_ASSIGNED, user_assigned_identities=[cmk.identity_id]
    )


def _encryption(cmk: CustomerManagedKey | None) -> cs.EncryptionArgs | None:
    """The key in Key Vault, read with the CMK identity (by client id); the version when the ref gives one."""
    if cmk is None:
        return None
    version = (
        pulumi.Output.from_input(cmk.key_version_url).apply(lambda url: url.rstrip("/").split("/")[-1])
        if cmk.key_version_url is not None
        else None
    )
    return cs.EncryptionArgs(
        key_source=cs.KeySource.MICROSOFT_KEY_VAULT,
        key_vault_properties=cs.KeyVaultPropertiesArgs(
            key_name=cmk.key_name,
            key_vault_uri=cmk.key_vault_uri,
            key_version=version,
            identity_client_id=cmk.identity_client_id,
        ),
    )
