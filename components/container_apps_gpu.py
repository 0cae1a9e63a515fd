"""ContainerAppsGpu: an internal Container Apps environment with serverless GPU profiles, and GPU apps that scale to zero.

The environment is a workload-profiles environment injected into the delegated Container Apps subnet with an internal
load balancer only (no public endpoint), its logs sent to the shared Log Analytics workspace through Azure Monitor
(no workspace key is handled), zone-redundant where the region has availability zones, and with encrypted traffic
between apps. A private DNS zone named after the environment's default domain resolves `*.<domain>` to its static IP
inside the VNet — what Microsoft documents for internal environments (a private endpoint with public network access
disabled is the mechanism for *external* environments and adds a Dedicated Plan Management charge).

Each app runs on a serverless GPU profile (`Consumption-GPU-NC8as-T4`, `Consumption-GPU-NC24-A100`): it pulls its
image from the shared registry with its own user-assigned identity (no admin credentials), reads secrets as Key Vault
references with that identity, and scales from zero on HTTP concurrency and, optionally, on a storage queue read with
the same identity (the shared storage refuses keys).

Nothing the first `pulumi up` needs is missing: infrastructure and model images roll out separately (seed 003), so an
app without an `image` is created with a public bootstrap image and its image is left to the model release (ignored
by later infrastructure updates); each Key Vault secret an app reads is created from a Pulumi secret unless declared
as existing. Callers in the VNet (AKS, Batch, AML compute subnets) reach the apps through VNet-wide ingress on the
internal environment, restricted to their address ranges by IP rules (Learn "Networking in Azure Container Apps
environment": in an internal environment `external: true` means the VNet, not the internet; PSRule for Azure
Azure.ContainerApp.RestrictIngress); with no callers configured ingress stays inside the environment.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

import pulumi
from pulumi_azure_native import app, keyvault, managedidentity, privatedns, storage
from pydantic import Field, field_validator, model_validator

from aiinfra.catalog.serverless_gpus import SERVERLESS_GPUS as SERVERLESS_GPUS
from aiinfra.catalog.serverless_gpus import ServerlessGpu as ServerlessGpu

from ._base import ArgsModel, ComponentArgsError, InputStr, publish
from .interfaces import (
    CommonArgs,
    RegistryImage,
    child_opts,
    diagnostic_setting,
    extra_role_assignments,
    private_endpoint,
    rbac_wait,
    registry_image_name,
    role_assignment,
    user_assigned_identity,
)
from .shared_services import ZONE_REDUNDANT_REGIONS, SharedServicesRef

GpuProfileType = Literal["Consumption-GPU-NC8as-T4", "Consumption-GPU-NC24-A100"]


CONSUMPTION_PROFILE = "Consumption"
BOOTSTRAP_IMAGE = "mcr.microsoft.com/k8se/quickstart:latest"
"""Public placeholder image (the one Microsoft Learn's Container Apps quickstarts deploy; it serves HTTP on port 80)
an app is created with until the model release sets its image."""
IMAGE_PATH = "template.containers[0].image"
"""The app's image as `ignore_changes` names it: owned by the model release once the app exists."""


class GpuWorkloadProfile(ArgsModel):
    """A serverless (Consumption) GPU workload profile in the environment."""

    workload_profile_type: GpuProfileType
    """`Consumption-GPU-NC8as-T4` (NVIDIA T4) or `Consumption-GPU-NC24-A100` (NVIDIA A100)."""
    name: str | None = Field(default=None, pattern=r"^[a-zA-Z][a-zA-Z0-9-]{1,14}$")
    """Profile name apps refer to; defaults to `gpu-t4` / `gpu-a100`."""
    minimum_count: int | None = None
    """Not allowed: serverless GPU profiles have no instance counts (Azure rejects them); scale with the app's
    minReplicas/maxReplicas."""
    maximum_count: int | None = None
    """Not allowed: serverless GPU profiles have no instance counts (Azure rejects them); scale with the app's
    minReplicas/maxReplicas."""

    @model_validator(mode="after")
    def _no_instance_counts(self) -> GpuWorkloadProfile:
        given = [
            k for k, v in (("minimumCount", self.minimum_count), ("maximumCount", self.maximum_count)) if v is not None
        ]
        if given:
            raise ValueError(
                f"{' and '.join(given)} cannot be set on the serverless GPU profile "
                f"{self.workload_profile_type}: Azure rejects instance counts on Consumption profiles; "
                "limit scale with the app's maxReplicas instead"
            )
        return self

    @property
    def profile_name(self) -> str:
        return self.name or SERVERLESS_GPUS[self.workload_profile_type].default_name


class KeyVaultSecret(ArgsModel):
    """A secret the app reads from the shared Key Vault (a Key Vault reference, never a value in config)."""

    key_vault_secret: str = Field(pattern=r"^[0-9a-zA-Z-]{1,127}$")
    """Name of the secret in the shared Key Vault; the app follows its latest version."""
    env_var: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    """Environment variable the container sees the secret in."""
    existing: bool = False
    """False (default): the secret is created in the vault from a Pulumi secret the program passes (the stacks read
    the stack config secret `aiinfra:<keyVaultSecret>`), so the app never starts without it. True: it already exists
    in the vault, managed outside this program (the app creation fails if it does not)."""

    @property
    def secret_name(self) -> str:
        """The app's secret name (Container Apps wants lowercase)."""
        return self.key_vault_secret.lower()


class QueueTrigger(ArgsModel):
    """Scale on the length of a queue in the shared storage account (read with the app's identity)."""

    queue_name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
    """Queue in the shared storage account (3-63 lowercase letters, digits, single hyphens); created if missing."""
    messages_per_replica: int = Field(default=5, ge=1, le=10_000)
    """Queued messages one replica is expected to work through; replicas = messages / this, up to maxReplicas."""

    @field_validator("queue_name")
    @classmethod
    def _single_hyphens(cls, value: str) -> str:
        if "--" in value:
            raise ValueError(f"'{value}' has consecutive hyphens, which storage queue names may not")
        return value


class GpuAppSettings(ArgsModel):
    """A container app on a serverless GPU profile."""

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{0,18}[a-z0-9]$")
    """Short app name (lowercase letters, digits, '-'); used in the Azure name."""
    image: RegistryImage | None = None
    """Image as repository:tag (or digest) in the shared registry, e.g. `inference/llm:1.4.2`, managed by this
    program: it must be pushed before `pulumi up`. None (default): the app is created with the environment's
    bootstrap image and the model release sets the image (`az containerapp update --image`); later infrastructure
    updates leave it alone."""
    workload_profile: str | None = None
    """Name of the GPU profile to run on; defaults to the environment's first GPU profile."""
    target_port: int = Field(default=8080, ge=1, le=65535)
    """Port the container serves HTTP on."""
    cpu: float | None = Field(default=None, gt=0)
    """vCPUs per replica; defaults to the profile's full allocation (8 on T4, 24 on A100)."""
    memory_gib: float | None = Field(default=None, gt=0)
    """Memory per replica in GiB; defaults to the profile's full allocation (56 on T4, 220 on A100)."""
    min_replicas: int = Field(default=0, ge=0, le=300)
    """Replicas kept when idle; 0 scales to zero, so an idle app costs nothing (cold starts load the model)."""
    max_replicas: int = Field(default=1, ge=1, le=300)
    """Most replicas (each holds one whole GPU): the app's cost ceiling."""
    http_concurrency: int = Field(default=10, ge=1)
    """Concurrent HTTP requests per replica before another replica is added."""
    queue: QueueTrigger | None = None
    """Also scale on a storage queue of batched requests; None scales on HTTP only."""
    secrets: list[KeyVaultSecret] = Field(default_factory=list)
    """Secrets from the shared Key Vault, exposed as environment variables."""
    env: dict[str, str] = Field(default_factory=dict)
    """Plain (non-secret) environment variables."""

    @model_validator(mode="after")
    def _consistent(self) -> GpuAppSettings:
        if self.min_replicas > self.max_replicas:
            raise ValueError(f"minReplicas ({self.min_replicas}) must be <= maxReplicas ({self.max_replicas})")
        names = [s.secret_name for s in self.secrets]
        if len(set(names)) != len(names):
            raise ValueError("secrets: each Key Vault secret may be listed once")
        clash = sorted({s.env_var for s in self.secrets} & set(self.env))
        if clash:
            raise ValueError(f"env and secrets both set {', '.join(clash)}")
        return self


class ContainerAppsGpuSettings(ArgsModel):
    """What an environment chooses about serverless GPU inference (the `containerApps` section of stack config)."""

    gpu_profiles: list[GpuWorkloadProfile] = Field(
        default_factory=lambda: [GpuWorkloadProfile(workload_profile_type="Consumption-GPU-NC8as-T4")], min_length=1
    )
    """Serverless GPU profiles of the environment (the Consumption profile is always added)."""
    apps: list[GpuAppSettings] = Field(default_factory=list)
    """GPU apps to run in the environment."""
    zone_redundant: bool | None = None
    """Spread the environment across availability zones; default: on where the region has zones. Needs a subnet
    with room for the replicas of all zones (the shared plan gives Container Apps a /20 of a /16)."""
    queue_private_endpoint: bool = True
    """Create a `queue` private endpoint to the shared storage when an app scales on a queue (the shared services
    create blob/file/dfs endpoints only); False if your network already has one."""
    bootstrap_image: str = Field(default=BOOTSTRAP_IMAGE, pattern=r"^[a-z0-9.-]+(:[0-9]+)?/\S+$")
    """Public image apps without an `image` are created with (`<registry>/<repository>:<tag>`), so the first deploy
    does not wait for the model release; the release replaces it."""
    bootstrap_image_port: int = Field(default=80, ge=1, le=65535)
    """Port the bootstrap image serves HTTP on."""
    caller_ranges: dict[str, str] = Field(default_factory=dict)
    """Callers outside the environment allowed to reach the apps, as name -> IPv4 CIDR (e.g. the AKS, Batch and AML
    compute subnets). Non-empty: ingress is VNet-wide (`external: true` on the internal environment) with one Allow
    IP rule per range, so everything else is denied. Empty: ingress only from apps in the same environment."""

    @field_validator("caller_ranges")
    @classmethod
    def _caller_cidrs(cls, ranges: dict[str, str]) -> dict[str, str]:
        for name, cidr in ranges.items():
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]{0,31}", name):
                raise ValueError(f"'{name}' is not a rule name (letters, digits and '-', at most 32)")
            try:
                network = ipaddress.ip_network(cidr, strict=True)
            except ValueError as exc:
                raise ValueError(f"{name}: '{cidr}' is not a CIDR block: {exc}") from None
            if network.prefixlen == 0 or not network.is_private:
                raise ValueError(f"{name}: '{cidr}' is not a private range; allow only the callers' subnets")
        return ranges

    @field_validator("gpu_profiles")
    @classmethod
    def _unique_profiles(cls, profiles: list[GpuWorkloadProfile]) -> list[GpuWorkloadProfile]:
        names = [p.profile_name for p in profiles]
        if len(set(names)) != len(names):
            raise ValueError(f"profile names must be unique, got {names}")
        if CONSUMPTION_PROFILE.lower() in {n.lower() for n in names}:
            raise ValueError(f"'{CONSUMPTION_PROFILE}' is the environment's built-in CPU profile; pick another name")
        return profiles

    @model_validator(mode="after")
    def _apps_fit_their_profiles(self) -> ContainerAppsGpuSettings:
        names = [a.name for a in self.apps]
        if len(set(names)) != len(names):
            raise ValueError(f"apps: app names must be unique, got {names}")
        for i, a in enumerate(self.apps):
            profile = self.profile_of(a)
            if profile is None:
                raise ValueError(
                    f"apps[{i}].workloadProfile '{a.workload_profile}' is not one of the GPU profiles: "
                    f"{', '.join(p.profile_name for p in self.gpu_profiles)}"
                )
            gpu = SERVERLESS_GPUS[profile.workload_profile_type]
            if a.cpu is not None and a.cpu > gpu.vcpus:
                raise ValueError(
                    f"apps[{i}].cpu {a.cpu:g} is more than a {profile.workload_profile_type} replica "
                    f"has ({gpu.vcpus:g} vCPU)"
                )
            if a.memory_gib is not None and a.memory_gib > gpu.memory_gib:
                raise ValueError(
                    f"apps[{i}].memoryGib {a.memory_gib:g} is more than a "
                    f"{profile.workload_profile_type} replica has ({gpu.memory_gib:g} GiB)"
                )
            if a.image is None and a.min_replicas > 0 and a.target_port != self.bootstrap_image_port:
                # A replica of the placeholder would fail its probes on targetPort and the create would time out.
                raise ValueError(
                    f"apps[{i}].minReplicas: an app created with the bootstrap image (no image) starts "
                    f"no replica that must pass probes on targetPort {a.target_port}, but the bootstrap "
                    f"image serves port {self.bootstrap_image_port}; keep minReplicas 0 until the "
                    "release sets the image, or set image"
                )
        return self

    def secrets_to_create(self) -> list[str]:
        """Names of the Key Vault secrets the apps read that this program creates (each once)."""
        return sorted({s.key_vault_secret for a in self.apps for s in a.secrets if not s.existing})

    def profile_of(self, application: GpuAppSettings) -> GpuWorkloadProfile | None:
        wanted = application.workload_profile or self.gpu_profiles[0].profile_name
        return next((p for p in self.gpu_profiles if p.profile_name == wanted), None)

    def region_problems(self, location: str) -> list[str]:
        """Why these settings cannot be deployed in `location` (empty when they can)."""
        region = location.lower().replace(" ", "")
        problems = []
        for i, profile in enumerate(self.gpu_profiles):
            regions = SERVERLESS_GPUS[profile.workload_profile_type].regions
            if region not in regions:
                problems.append(
                    f"gpuProfiles[{i}].workloadProfileType: {profile.workload_profile_type} is not "
                    f"offered in {region}; serverless GPU regions for it: {', '.join(sorted(regions))}"
                )
        if self.zone_redundant and region not in ZONE_REDUNDANT_REGIONS:
            problems.append(f"zoneRedundant: {region} has no availability zones; leave zoneRedundant unset or false")
        return problems


class ContainerAppsGpuArgs(CommonArgs, ContainerAppsGpuSettings):
    """Args of ContainerAppsGpu: the common component args, the environment's settings and the shared services."""

    shared: SharedServicesRef
    """The shared services: delegated Container Apps subnet, VNet, registry, Key Vault, storage, Log Analytics."""
    secret_values: dict[str, InputStr] = Field(default_factory=dict)
    """Values of the Key Vault secrets to create, by secret name (Pulumi secrets, e.g.
    `pulumi.Config().require_secret(...)`): one for each app secret that is not `existing`."""

    @model_validator(mode="after")
    def _deployable_here(self) -> ContainerAppsGpuArgs:
        self.shared.require(
            "container_apps_subnet_id",
            "the environment is injected into the subnet delegated to Microsoft.App/environments",
        )
        missing = [n for n in self.secrets_to_create() if n not in self.secret_values]
        if missing:
            raise ValueError(
                f"secret_values has no value for {', '.join(missing)}: pass each (as a Pulumi secret), "
                "or mark the app secret existing if it is already in the vault"
            )
        unused = sorted(set(self.secret_values) - set(self.secrets_to_create()))
        if unused:
            raise ValueError(f"secret_values: {', '.join(unused)} is not a secret any app creates")
        problems = self.region_problems(self.location)
        if problems:
            raise ValueError("; ".join(problems))
        return self


def gpu_profile_notice(profiles: list[GpuWorkloadProfile]) -> str:
    """What the preview says about the environment's serverless GPU profiles before anyone deploys them."""
    types = ", ".join(sorted({p.workload_profile_type for p in profiles}))
    return (
        f"Container Apps serverless GPUs ({types}) need serverless GPU quota in the subscription and region "
        "(request it first: Learn, 'Using serverless GPUs in Azure Container Apps'), and GPU workload profiles "
        "can only be added when the environment is created (Learn, 'Workload profiles in Azure Container "
        "Apps'): changing gpuProfiles later means deleting and recreating the environment and its apps."
    )


class ContainerAppsGpu(pulumi.ComponentResource):
    """An internal Container Apps environment with serverless GPU profiles and scale-to-zero GPU apps."""

    environment_id: pulumi.Output[str]
    default_domain: pulumi.Output[str]
    static_ip: pulumi.Output[str]
    app_ids: dict[str, pulumi.Output[str]]
    app_fqdns: dict[str, pulumi.Output[str]]
    app_identity_principal_ids: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: ContainerAppsGpuArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("aiinfra:apps:ContainerAppsGpu", name, None, opts)
        environment = self._environment(name, args)
        self._environment_monitoring(name, args, environment)
        self._environment_dns(name, args, environment)
        queues = self._queues(name, args)
        secrets = self._secrets(name, args)

        app_ids: dict[str, pulumi.Output[str]] = {}
        app_fqdns: dict[str, pulumi.Output[str]] = {}
        principal_ids: dict[str, pulumi.Output[str]] = {}
        for settings in args.apps:
            container_app, identity = self._app(name, args, environment, settings, queues, secrets)
            app_ids[settings.name] = container_app.id
            # VNet-wide ingress on an internal environment: <app>.<default domain>, resolved by the private zone
            # below; environment-only ingress: <app>.internal.<default domain>, inside the environment.
            app_fqdns[settings.name] = pulumi.Output.concat(
                container_app.name, "." if args.caller_ranges else ".internal.", environment.default_domain
            )
            principal_ids[settings.name] = identity.principal_id

        publish(
            self,
            environment_id=environment.id,
            default_domain=environment.default_domain,
            static_ip=environment.static_ip,
            app_ids=app_ids,
            app_fqdns=app_fqdns,
            app_identity_principal_ids=principal_ids,
        )

    # --- the environment ------------------------------------------------------------------------------------------

    def _environment(self, name: str, args: ContainerAppsGpuArgs) -> app.ManagedEnvironment:
        """Internal (VNet-only), with the Consumption profile and the serverless GPU profiles."""
        location = args.location
        zone_redundant = args.zone_redundant if args.zone_redundant is not None else location in ZONE_REDUNDANT_REGIONS
        return app.ManagedEnvironment(
            f"{name}-env",
            environment_name=args.naming.name("container_apps_environment"),
            resource_group_name=args.resource_group_name,
            location=location,
            workload_profiles=[
                app.WorkloadProfileArgs(name=CONSUMPTION_PROFILE, workload_profile_type=CONSUMPTION_PROFILE),
                *[
                    app.WorkloadProfileArgs(name=p.profile_name, workload_profile_type=p.workload_profile_type)
                    for p in args.gpu_profiles
                ],
            ],
            vnet_configuration=app.VnetConfigurationArgs(
                infrastructure_subnet_id=args.shared.container_apps_subnet_id,
                internal=True,
            ),
            zone_redundant=zone_redundant,
            # Logs go to Azure Monitor and on to Log Analytics through the diagnostic setting below: no workspace
            # shared key in config or state.
            app_logs_configuration=app.AppLogsConfigurationArgs(destination="azure-monitor"),
            peer_traffic_configuration=app.ManagedEnvironmentPeerTrafficConfigurationArgs(
                encryption=app.ManagedEnvironmentEncryptionArgs(enabled=True)
            ),
            tags=args.tags,
            opts=child_opts(self),
        )

    def _environment_monitoring(
        self, name: str, args: ContainerAppsGpuArgs, environment: app.ManagedEnvironment
    ) -> None:
        """The GPU quota notice, the environment's logs to Log Analytics, the caller's extra role assignments."""
        pulumi.log.warn(gpu_profile_notice(args.gpu_profiles), resource=self)
        diagnostic_setting(
            self,
            f"{name}-env-diag",
            resource_id=environment.id,
            workspace_id=args.log_analytics_workspace_id or args.shared.log_analytics_workspace_id,
        )
        extra_role_assignments(self, f"{name}-env", args, environment.id)

    # --- the environment's DNS, the queues and secrets the apps use ---------------------------------------------------

    def _environment_dns(self, name: str, args: ContainerAppsGpuArgs, environment: app.ManagedEnvironment) -> None:
        """`<default domain>` and `*.<default domain>` -> the environment's internal static IP, in the VNet."""
        zone = privatedns.PrivateZone(
            f"{name}-dns",
            private_zone_name=environment.default_domain,
            resource_group_name=args.resource_group_name,
            location="global",
            tags=args.tags,
            opts=child_opts(self),
        )
        for record, label in (("*", "wildcard"), ("@", "apex")):
            privatedns.PrivateRecordSet(
                f"{name}-dns-{label}",
                private_zone_name=zone.name,
                resource_group_name=args.resource_group_name,
                record_type="A",
                relative_record_set_name=record,
                ttl=300,
                a_records=[privatedns.ARecordArgs(ipv4_address=environment.static_ip)],
                opts=child_opts(zone),
            )
        privatedns.VirtualNetworkLink(
            f"{name}-dns-link",
            virtual_network_link_name=f"link-{args.naming.name('container_apps_environment')}",
            private_zone_name=zone.name,
            resource_group_name=args.resource_group_name,
            location="global",
            registration_enabled=False,
            virtual_network=privatedns.SubResourceArgs(id=args.shared.virtual_network_id),
            tags=args.tags,
            opts=child_opts(zone),
        )

    def _queues(self, name: str, args: ContainerAppsGpuArgs) -> dict[str, storage.Queue]:
        """The storage queues apps scale on, in the shared storage account, and the queue private endpoint."""
        ref = args.shared
        names = sorted({a.queue.queue_name for a in args.apps if a.queue is not None})
        queues = {
            queue_name: storage.Queue(
                f"{name}-queue-{queue_name}",
                queue_name=queue_name,
                account_name=ref.storage_account_name,
                resource_group_name=ref.resource_group_name,
                opts=child_opts(self),
            )
            for queue_name in names
        }
        if queues and args.queue_private_endpoint:
            private_endpoint(
                self,
                f"{name}-st-pe-queue",
                args=args,
                azure_name=args.naming.name("private_endpoint", "st", "queue"),
                subnet_id=ref.private_endpoint_subnet_id,
                target_id=ref.storage_account_id,
                group_id="queue",
                dns_zone_ids=ref.dns_zone_ids_for("queue"),
            )
        return queues

    def _secrets(self, name: str, args: ContainerAppsGpuArgs) -> dict[str, keyvault.Secret]:
        """The Key Vault secrets the apps read, created from Pulumi secrets (an app cannot start without them:
        "Unable to get value using Managed identity"). Created through ARM (Microsoft.KeyVault/vaults/secrets, which
        Contributor may write and a private vault accepts); the value is never returned by ARM, never in plaintext."""
        vault_id = pulumi.Output.from_input(args.shared.key_vault_id)
        vault_name = vault_id.apply(lambda i: i.rstrip("/").split("/")[-1])
        vault_group = vault_id.apply(lambda i: i.split("/resourceGroups/")[1].split("/")[0])
        return {
            secret_name: keyvault.Secret(
                f"{name}-secret-{secret_name.lower()}",
                secret_name=secret_name,
                vault_name=vault_name,
                resource_group_name=vault_group,
                properties=keyvault.SecretPropertiesArgs(
                    value=pulumi.Output.secret(args.secret_values[secret_name]),
                    content_type="text/plain",
                ),
                tags=args.tags,
                opts=child_opts(self),
            )
            for secret_name in args.secrets_to_create()
        }

    # --- one app: identity, grants, the container app -------------------------------------------------------------

    def _app(
        self,
        name: str,
        args: ContainerAppsGpuArgs,
        environment: app.ManagedEnvironment,
        settings: GpuAppSettings,
        queues: dict[str, storage.Queue],
        created: dict[str, keyvault.Secret],
    ) -> tuple[app.ContainerApp, managedidentity.UserAssignedIdentity]:
        prefix = f"{name}-{settings.name}"
        profile = args.profile_of(settings)
        if profile is None:  # the settings validator guarantees it; keeps the type checker honest
            raise ComponentArgsError(f"app '{settings.name}' has no GPU profile")
        identity = user_assigned_identity(self, f"{prefix}-id", args=args, workload=f"ca-{settings.name}")
        queue = queues[settings.queue.queue_name] if settings.queue is not None else None
        grants = self._app_grants(prefix, args, settings, identity, queue, created)
        container_app = app.ContainerApp(
            f"{prefix}-app",
            container_app_name=args.naming.name("container_app", settings.name),
            resource_group_name=args.resource_group_name,
            location=args.location,
            managed_environment_id=environment.id,
            workload_profile_name=profile.profile_name,
            identity=app.ManagedServiceIdentityArgs(
                type=app.ManagedServiceIdentityType.USER_ASSIGNED,
                user_assigned_identities=[identity.id],
            ),
            configuration=_app_configuration(args, settings, identity),
            template=_app_template(args, settings, SERVERLESS_GPUS[profile.workload_profile_type], identity),
            tags=args.tags,
            # Without an image in config the model release owns it: later infrastructure updates keep what the
            # release set (run `pulumi up --refresh` so the state holds it, as the pipelines do).
            opts=pulumi.ResourceOptions.merge(
                child_opts(self, depends_on=grants),
                pulumi.ResourceOptions(ignore_changes=[IMAGE_PATH] if settings.image is None else None),
            ),
        )
        return container_app, identity

    def _app_grants(
        self,
        prefix: str,
        args: ContainerAppsGpuArgs,
        settings: GpuAppSettings,
        identity: managedidentity.UserAssignedIdentity,
        queue: storage.Queue | None,
        created: dict[str, keyvault.Secret],
    ) -> list[pulumi.Resource]:
        """Every permission the app starts with, before the app: image pull, its secrets, its queue, and a wait.

        The app reads its Key Vault secrets (and pulls a registry image) with its identity while it is created
        ("Unable to get value using Managed identity" otherwise); role assignments take effect minutes after ARM
        returns them (Learn, "Troubleshoot Azure RBAC"), so wait after the grants, as SharedServices does."""
        n, ref = args.naming, args.shared
        grants: list[pulumi.Resource] = [
            role_assignment(
                self,
                f"{prefix}-acr-pull",
                naming=n,
                scope=ref.container_registry_id,
                principal_id=identity.principal_id,
                role="AcrPull",
            ),
        ]
        for secret in settings.secrets:
            # Scoped to the one secret; a created secret's id makes the grant wait for it (a role assignment's
            # scope must exist).
            made = created.get(secret.key_vault_secret)
            grants.append(
                role_assignment(
                    self,
                    f"{prefix}-secret-{secret.secret_name}",
                    naming=n,
                    scope=made.id
                    if made is not None
                    else pulumi.Output.concat(ref.key_vault_id, "/secrets/", secret.key_vault_secret),
                    principal_id=identity.principal_id,
                    role="Key Vault Secrets User",
                )
            )
        if queue is not None:
            for role, what in (
                ("Storage Queue Data Reader", "reader"),
                ("Storage Queue Data Message Processor", "processor"),
            ):
                grants.append(
                    role_assignment(
                        self,
                        f"{prefix}-queue-{what}",
                        naming=n,
                        scope=queue.id,
                        principal_id=identity.principal_id,
                        role=role,
                    )
                )
        grants.append(rbac_wait(self, f"{prefix}-rbac-wait", list(grants)))
        return grants


def _app_configuration(
    args: ContainerAppsGpuArgs, settings: GpuAppSettings, identity: managedidentity.UserAssignedIdentity
) -> app.ConfigurationArgs:
    """Single revision, ingress for the callers' ranges only, registry and Key Vault secrets through the app's
    identity."""
    ref = args.shared
    vault_uri = pulumi.Output.from_input(ref.key_vault_uri).apply(lambda uri: uri.rstrip("/"))
    return app.ConfigurationArgs(
        active_revisions_mode=app.ActiveRevisionsMode.SINGLE,
        ingress=app.IngressArgs(
            # In the internal environment `external` opens the app to the VNet (never the internet); the Allow
            # rules then admit the callers' ranges only (all-Allow rules deny every other address).
            external=bool(args.caller_ranges),
            target_port=settings.target_port,
            transport=app.IngressTransportMethod.AUTO,
            allow_insecure=False,
            ip_security_restrictions=[
                app.IpSecurityRestrictionRuleArgs(
                    name=caller, ip_address_range=cidr, action=app.Action.ALLOW, description=f"{caller} callers"
                )
                for caller, cidr in sorted(args.caller_ranges.items())
            ]
            or None,
        ),
        registries=[app.RegistryCredentialsArgs(server=ref.container_registry_login_server, identity=identity.id)],
        secrets=[
            app.SecretArgs(
                name=secret.secret_name,
                key_vault_url=pulumi.Output.concat(vault_uri, "/secrets/", secret.key_vault_secret),
                identity=identity.id,
            )
            for secret in settings.secrets
        ]
        or None,
    )


def _app_template(
    args: ContainerAppsGpuArgs,
    settings: GpuAppSettings,
    gpu: ServerlessGpu,
    identity: managedidentity.UserAssignedIdentity,
) -> app.TemplateArgs:
    """The container (the image from config, or the bootstrap image until a model release sets one; the GPU
    profile's CPU and memory unless overridden) and its scale rules."""
    cpu = settings.cpu if settings.cpu is not None else gpu.vcpus
    memory = settings.memory_gib if settings.memory_gib is not None else gpu.memory_gib
    return app.TemplateArgs(
        containers=[
            app.ContainerArgs(
                name=settings.name,
                image=registry_image_name(args.shared.container_registry_login_server, settings.image)
                if settings.image is not None
                else args.bootstrap_image,
                resources=app.ContainerResourcesArgs(cpu=cpu, memory=f"{memory:g}Gi"),
                env=[
                    *(app.EnvironmentVarArgs(name=k, value=v) for k, v in sorted(settings.env.items())),
                    *(app.EnvironmentVarArgs(name=s.env_var, secret_ref=s.secret_name) for s in settings.secrets),
                ]
                or None,
            )
        ],
        scale=app.ScaleArgs(
            min_replicas=settings.min_replicas,
            max_replicas=settings.max_replicas,
            rules=_scale_rules(args, settings, identity),
        ),
    )


def _scale_rules(
    args: ContainerAppsGpuArgs, settings: GpuAppSettings, identity: managedidentity.UserAssignedIdentity
) -> list[app.ScaleRuleArgs]:
    """HTTP concurrency, and the queue length when the app has a queue."""
    rules = [
        app.ScaleRuleArgs(
            name="http-concurrency",
            http=app.HttpScaleRuleArgs(metadata={"concurrentRequests": str(settings.http_concurrency)}),
        )
    ]
    if settings.queue is not None:
        rules.append(
            app.ScaleRuleArgs(
                name=f"queue-{settings.queue.queue_name}"[:63],
                azure_queue=app.QueueScaleRuleArgs(
                    account_name=args.shared.storage_account_name,
                    queue_name=settings.queue.queue_name,
                    queue_length=settings.queue.messages_per_replica,
                    identity=identity.id,  # KEDA reads the queue with the app's identity: no connection string
                ),
            )
        )
    return rules
