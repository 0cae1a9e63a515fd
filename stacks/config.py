"""The typed stack config: one `aiinfra:platform` object per environment, validated by one model.

Errors name the stack file and the key path as written in YAML, e.g.
`Pulumi.dev.yaml: aiinfra:platform.shared.addressSpace: '10.0.0.0/33' is not a valid IPv4 CIDR block`.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Literal, TypeVar

import pulumi
from pydantic import BaseModel, Field, PrivateAttr, ValidationError, field_validator, model_validator

from aiinfra.components._base import ArgsModel, duplicates, format_validation_error
from aiinfra.components.ai_services import AiServicesSettings
from aiinfra.components.aks_gpu_cluster import AksGpuClusterSettings, AmlAttachmentSettings
from aiinfra.components.batch_gpu_pool import BatchGpuPoolSettings
from aiinfra.components.container_apps_gpu import ContainerAppsGpuSettings
from aiinfra.components.deployer_identity import platform_role_guid
from aiinfra.components.gpu_compute_pool import GpuComputePoolSettings
from aiinfra.components.naming import REGION_CODES, NamingConvention
from aiinfra.components.network_plan import carve
from aiinfra.components.platform_monitoring import PlatformMonitoringSettings
from aiinfra.components.policy_guardrails import PolicyGuardrailsSettings
from aiinfra.components.secure_workspace import SecureWorkspaceSettings
from aiinfra.components.shared_services import SharedServicesSettings

CONFIG_NAMESPACE = "aiinfra"
CONFIG_KEY = "platform"
REQUIRED_TAGS = ("owner", "costCenter")

M = TypeVar("M", bound=BaseModel)


class WorkspaceConfig(SecureWorkspaceSettings):
    """One Azure ML workspace (a data-access boundary) and its GPU pools."""

    compute_pools: list[GpuComputePoolSettings] = Field(default_factory=list)
    """GPU compute clusters of the workspace."""

    @field_validator("compute_pools")
    @classmethod
    def _unique_pool_names(cls, pools: list[GpuComputePoolSettings]) -> list[GpuComputePoolSettings]:
        repeated = duplicates(p.name.lower() for p in pools)
        if repeated:
            raise ValueError(f"duplicate compute name(s) {', '.join(repeated)}")
        return pools

    @model_validator(mode="after")
    def _pools_do_not_take_workspace_computes(self) -> WorkspaceConfig:
        taken = {c.lower() for c in self.compute_names} & {p.name.lower() for p in self.compute_pools}
        if taken:
            raise ValueError(
                f"computePools: '{', '.join(sorted(taken))}' is the image-build cluster's name; "
                "rename the pool or imageBuild.name"
            )
        return self


class AksAttachConfig(AmlAttachmentSettings):
    """Attach the AKS cluster to one of the environment's workspaces as Kubernetes compute."""

    workspace: str
    """Name of the workspace (an entry of `workspaces`)."""


class AksConfig(AksGpuClusterSettings):
    """The environment's private AKS cluster with GPU node pools."""

    attach: AksAttachConfig | None = None
    """Attach the cluster to a workspace (needs azureMlExtension); None attaches it nowhere."""

    @model_validator(mode="after")
    def _attach_needs_extension(self) -> AksConfig:
        if self.attach is not None:
            self.check_attachment("attach")
        return self


CallerSubnet = Literal["aks", "aml-compute", "batch"]


class ContainerAppsConfig(ContainerAppsGpuSettings):
    """The environment's internal Container Apps environment with serverless GPU apps."""

    caller_subnets: list[CallerSubnet] = Field(default_factory=lambda: ["aks", "aml-compute", "batch"])
    """Subnets of the shared VNet whose workloads call the apps: their address ranges (from the VNet plan) become
    the apps' Allow IP rules on VNet-wide ingress (the internal environment never faces the internet). Empty: the
    apps take requests from the same environment only."""

    @field_validator("caller_subnets")
    @classmethod
    def _unique_callers(cls, callers: list[str]) -> list[str]:
        repeated = duplicates(callers)
        if repeated:
            raise ValueError(f"duplicate caller subnet(s) {', '.join(repeated)}")
        return callers

    @model_validator(mode="after")
    def _one_way_to_name_callers(self) -> ContainerAppsConfig:
        if self.caller_ranges and self.caller_subnets:
            raise ValueError("set callerSubnets (subnets of the shared VNet) or callerRanges (CIDRs), not both")
        return self


# --- issue 19: Azure OpenAI (AiServices) -------------------------------------------------------------------------
class AiServicesConfig(AiServicesSettings):
    """The environment's private Azure OpenAI account and who may call it."""

    connect_workspaces: list[str] | None = None
    """Workspaces (entries of `workspaces`) that get a connection with Entra ID auth, a private-endpoint outbound
    rule in their managed network and OpenAI User for their identities; None connects every workspace."""
    container_apps: bool = True
    """Give each Container App's identity OpenAI User on the account (reached through the private endpoint)."""


def ai_services_problems(config: PlatformConfig) -> list[str]:
    """Why the `aiServices` section does not fit the rest of the environment (empty when it does)."""
    ai = config.ai_services
    if ai is None:
        return []
    problems = [f"aiServices.{p}" for p in ai.region_problems(config.location)]
    if ai.require_cmk and not config.shared.require_cmk:
        problems.append("aiServices.requireCmk needs the environment's key: set shared.requireCmk to true")
    names = [w.name for w in config.workspaces]
    unknown = [w for w in ai.connect_workspaces or [] if w not in names]
    if unknown:
        problems.append(
            f"aiServices.connectWorkspaces: no workspace named {', '.join(unknown)}; workspaces: "
            f"{', '.join(names) or 'none'}"
        )
    return problems


# --- end issue 19 ------------------------------------------------------------------------------------------------


class PlatformConfig(ArgsModel):
    """`aiinfra:platform` in `Pulumi.<env>.yaml`."""

    environment: str = Field(pattern=r"^[a-z][a-z0-9]{1,5}$")
    """Environment code used in every Azure name (e.g. `dev`, `test`, `prd`)."""
    prefix: str = Field(default="aiinfra", pattern=r"^[a-z][a-z0-9]{1,9}$")
    """Short organisation/product prefix for Azure names."""
    location: str
    """Azure region of the environment (needs GPU quota there, e.g. `westus3`, `eastus`)."""
    naming_seed: str = ""
    """Extra input to the hash suffix of globally unique names (Key Vault, storage, ACR, Batch) and of names soft
    delete keeps (Azure ML workspaces). Those names are already unique per subscription and stack (the program adds
    both); change this (e.g. to `r2`) to re-create the environment while soft delete still holds the old names
    (Key Vault 90 days, workspaces 14 days)."""
    tags: dict[str, str]
    """Tags on every resource; must include `owner` and `costCenter`."""
    lock_stateful_resources: bool = False
    """Protect Key Vault, storage and ACR (`protect` + CanNotDelete lock). Turn on in production."""
    create_resource_group: bool = True
    """Create the environment's resource group. False: deploy into the group of the same name that bootstrap/
    created (with the pipeline deployer's roles scoped to it), which this stack then never deletes."""
    data_scientist_role_id: str | None = Field(
        default=None, pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    )
    """GUID of the data-scientist custom role bootstrap/ defined (`pulumi stack output dataScientistRoleId` of the
    bootstrap stack); the workspaces assign it instead of defining a role. Required with `createResourceGroup:
    false` and workspaces: the pipeline deployer may not write role definitions."""
    shared: SharedServicesSettings
    """Network, DNS, Key Vault, storage, registry, monitoring and budget shared by all workspaces."""
    batch: BatchGpuPoolSettings | None = None
    """A private Batch account with one GPU pool that scales with its task queue (to zero); None creates none."""
    container_apps: ContainerAppsConfig | None = None
    """An internal Container Apps environment with serverless GPU profiles and scale-to-zero GPU apps; None
    creates none."""
    workspaces: list[WorkspaceConfig] = Field(default_factory=list)
    """Azure ML workspaces (one per data-access boundary), each with its GPU compute pools."""
    aks: AksConfig | None = None
    """A private AKS cluster with GPU node pools (optionally running Azure ML jobs); None creates none."""
    # Operations (issue 20): alerts and cost anomalies, and the Azure Policy guardrails bootstrap/ assigns.
    monitoring: PlatformMonitoringSettings | None = None
    """An action group, GPU-platform alert rules and (in bootstrap/) a cost anomaly alert; None creates none."""
    policy_guardrails: PolicyGuardrailsSettings | None = None
    """Azure Policy built-in definitions bootstrap/ assigns on the environment's resource group, with their effect;
    None assigns none. The platform stack ignores it (its deployer may not assign policy)."""
    ai_services: AiServicesConfig | None = None
    """A private, keyless Azure OpenAI account with a content filter and model deployments; None creates none."""

    @field_validator("location")
    @classmethod
    def _known_region(cls, value: str) -> str:
        region = value.lower().replace(" ", "")
        if region not in REGION_CODES:
            raise ValueError(f"unknown Azure region '{value}'; use one of: {', '.join(sorted(REGION_CODES))}")
        return region

    @field_validator("tags")
    @classmethod
    def _required_tags(cls, tags: dict[str, str]) -> dict[str, str]:
        missing = [t for t in REQUIRED_TAGS if not tags.get(t)]
        if missing:
            raise ValueError(f"missing required tag(s) {', '.join(missing)} (every resource carries them)")
        return tags

    @field_validator("workspaces")
    @classmethod
    def _unique_workspace_names(cls, workspaces: list[WorkspaceConfig]) -> list[WorkspaceConfig]:
        repeated = duplicates(w.name for w in workspaces)
        if repeated:
            raise ValueError(f"duplicate workspace name(s) {', '.join(repeated)}")
        return workspaces

    @model_validator(mode="after")
    def _workspace_cmk_needs_shared_cmk(self) -> PlatformConfig:
        asking = [f"workspaces[{i}].requireCmk" for i, w in enumerate(self.workspaces) if w.require_cmk]
        if asking and not self.shared.require_cmk:
            raise ValueError(f"{', '.join(asking)} needs the environment's key: set shared.requireCmk to true")
        return self

    @model_validator(mode="after")
    def _custom_roles_come_from_bootstrap(self) -> PlatformConfig:
        if self.workspaces and not self.create_resource_group and self.data_scientist_role_id is None:
            # Deterministic per environment, so it can be named before bootstrap runs (bootstrap reads this file).
            guid = platform_role_guid(self.naming, "data-scientist")
            raise ValueError(
                f"dataScientistRoleId: the workspaces assign the data-scientist role that bootstrap/ "
                f"defines (the pipeline deployer may not write role definitions); set it to {guid}, "
                "the bootstrap stack's output dataScientistRoleId"
            )
        return self

    @model_validator(mode="after")
    def _container_apps_fit_the_region(self) -> PlatformConfig:
        problems = self.container_apps.region_problems(self.location) if self.container_apps else []
        if problems:
            raise ValueError("; ".join(f"containerApps.{p}" for p in problems))
        return self

    @model_validator(mode="after")
    def _aks_fits_the_environment(self) -> PlatformConfig:
        if self.aks is None:
            return self
        if self.aks.outbound_type == "userAssignedNATGateway" and not self.shared.nat_gateway:
            raise ValueError(
                "aks.outboundType: userAssignedNATGateway needs the NAT gateway on the AKS subnet; set "
                "shared.natGateway true, or outboundType userDefinedRouting (a route to your firewall)"
            )
        vnet = ipaddress.ip_network(self.shared.address_space)
        for key, cidr in (("podCidr", self.aks.pod_cidr), ("serviceCidr", self.aks.service_cidr)):
            if ipaddress.ip_network(cidr).overlaps(vnet):
                raise ValueError(
                    f"aks.{key} ({cidr}) overlaps shared.addressSpace ({self.shared.address_space}); "
                    "pods and services need addresses outside the VNet"
                )
        names = [w.name for w in self.workspaces]
        if self.aks.attach is not None and self.aks.attach.workspace not in names:
            raise ValueError(
                f"aks.attach.workspace: no workspace named '{self.aks.attach.workspace}'; "
                f"workspaces: {', '.join(names) or 'none'}"
            )
        if self.aks.attach is not None:
            index = names.index(self.aks.attach.workspace)
            target = self.workspaces[index]
            if target.managed_network:
                # Microsoft Learn, "Workspace managed virtual network isolation", Limitations: Kubernetes compute
                # is not supported in an Azure ML managed virtual network.
                raise ValueError(
                    f"aks.attach.workspace: workspace '{target.name}' has a managed network (workspaces[{index}]."
                    f"isolationMode {target.isolation_mode}), and Azure ML does not support Kubernetes compute in a "
                    "managed virtual network; attach the cluster to a workspace with isolationMode Disabled (private "
                    "endpoint in the shared VNet, public access off), or remove aks.attach"
                )
        return self

    @model_validator(mode="after")
    def _ai_services_fit_the_environment(self) -> PlatformConfig:
        problems = ai_services_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    _deployment_scope: str = PrivateAttr(default="")

    def scoped_to(self, subscription_id: str, project: str, stack: str) -> PlatformConfig:
        """This config with names unique per subscription, project and stack: two users of the same stack file in
        different subscriptions (or stacks) never collide on a global name."""
        scoped = self.model_copy()
        scoped._deployment_scope = "|".join([subscription_id, project, stack])
        return scoped

    @property
    def container_app_callers(self) -> dict[str, str]:
        """Caller name -> CIDR the apps admit: `callerRanges` as given, or the `callerSubnets` of the VNet plan."""
        if self.container_apps is None:
            return {}
        if self.container_apps.caller_ranges:
            return dict(self.container_apps.caller_ranges)
        subnets = carve(self.shared.address_space)
        return {purpose: subnets[purpose].cidr for purpose in self.container_apps.caller_subnets}

    @property
    def naming(self) -> NamingConvention:
        seed = "|".join(p for p in (self._deployment_scope, self.naming_seed) if p)
        return NamingConvention(
            prefix=self.prefix, environment=self.environment, location=self.location, unique_seed=seed
        )

    @property
    def all_tags(self) -> dict[str, str]:
        return {**self.tags, "environment": self.environment, "managedBy": "pulumi-aiinfra"}


# Pulumi secrets (`pulumi config set --secret`) holding the AKS inference router's PEM certificate and key, read
# when aks.azureMlExtension serves HTTPS inference.
AKS_TLS_CERTIFICATE_KEY = "aksInferenceTlsCertificate"
AKS_TLS_KEY_KEY = "aksInferenceTlsKey"


class ConfigError(pulumi.RunError):
    """Stack config that cannot be used; `pulumi up` prints it without a traceback."""


def validate_config_object(model: type[M], raw: object, key: str, stack_file: str) -> M:
    """Validate one structured config value (`key` as written in YAML); errors name the stack file and key path."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{stack_file}: {key} must be a mapping (an object of settings), got {type(raw).__name__}")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        lines = format_validation_error(exc, model, prefix=key)
        raise ConfigError(f"{stack_file}: invalid stack config:\n  " + "\n  ".join(lines)) from None


def load_config_object(model: type[M], namespace: str, key: str) -> M:
    """Read and validate the structured config value `<namespace>:<key>` of the current stack."""
    stack_file = f"Pulumi.{pulumi.get_stack()}.yaml"
    text = pulumi.Config(namespace).get(key)
    if text is None:
        raise ConfigError(f"{stack_file}: missing required key {namespace}:{key} under `config:`")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError:
        raw = text
    return validate_config_object(model, raw, f"{namespace}:{key}", stack_file)


def load_secret(namespace: str, key: str, purpose: str, where: str | None = None) -> pulumi.Output[str]:
    """A stack config value that must be a Pulumi secret (`pulumi config set --secret`); a missing or plain-text
    value is a ConfigError naming the key (and `where`, the setting that asks for it) and the command that sets it."""
    stack_file = f"Pulumi.{pulumi.get_stack()}.yaml"
    full_key = f"{namespace}:{key}"
    asked_by = f"{where}: " if where else ""
    value = pulumi.Config(namespace).get_secret(key)
    if value is None:
        raise ConfigError(
            f"{stack_file}: {asked_by}missing {full_key}: {purpose}. Set it as a secret: "
            f"`pulumi config set --secret {full_key} <value>`"
        )
    if not pulumi.runtime.is_config_secret(full_key):
        raise ConfigError(
            f"{stack_file}: {full_key} is stored in plain text; it must be a secret: "
            f"`pulumi config rm {full_key}` then `pulumi config set --secret {full_key} <value>`"
        )
    return value


def container_app_secret_values(config: PlatformConfig) -> dict[str, pulumi.Input[str]]:
    """The values of the Key Vault secrets the Container Apps create, from the stack's secret config
    `aiinfra:<keyVaultSecret>`; a missing or plain-text value is an error naming the key and the fix (or mark the
    secret `existing: true` when it is already in the vault)."""
    if config.container_apps is None:
        return {}
    where = {
        s.key_vault_secret: f"{CONFIG_NAMESPACE}:{CONFIG_KEY}.containerApps.apps[{i}].secrets[{j}]"
        for i, a in enumerate(config.container_apps.apps)
        for j, s in enumerate(a.secrets)
        if not s.existing
    }
    return {
        name: load_secret(
            CONFIG_NAMESPACE,
            name,
            f"the Key Vault secret '{name}' is created from it (or mark the secret `existing: true` "
            "if it is already in the vault)",
            where[name],
        )
        for name in config.container_apps.secrets_to_create()
    }


def parse_platform_config(raw: object, stack_file: str) -> PlatformConfig:
    """Validate the raw `aiinfra:platform` value; errors name the stack file and the YAML key path."""
    return validate_config_object(PlatformConfig, raw, f"{CONFIG_NAMESPACE}:{CONFIG_KEY}", stack_file)


def load_platform_config() -> PlatformConfig:
    """Read and validate `aiinfra:platform` for the current stack."""
    return load_config_object(PlatformConfig, CONFIG_NAMESPACE, CONFIG_KEY)
