"""SharedServices: the network, DNS, Key Vault, storage, registry and monitoring every workspace reuses.

One per environment. Everything is private: public network access is disabled on Key Vault, storage
and ACR, each is reached through private endpoints registered in the VNet-linked private DNS zones
this component owns, and other components attach their own endpoints to the same zones.
"""

from __future__ import annotations

import datetime
import itertools
from typing import Literal

import pulumi
import pulumi_azuread as azuread
from pulumi_azure_native import (
    applicationinsights,
    authorization,
    consumption,
    containerregistry,
    keyvault,
    managedidentity,
    monitor,
    network,
    operationalinsights,
    privatedns,
    storage,
)
from pydantic import Field, field_validator, model_validator

from ._base import ArgsModel, ComponentArgsError, InputStr, ResourceList, publish
from .interfaces import (
    OPT_IN_DNS_GROUPS,
    PRIVATE_DNS_ZONES,
    CommonArgs,
    CustomerManagedKey,
    child_opts,
    delete_lock,
    diagnostic_setting,
    dns_zone_names,
    extra_role_assignments,
    identity_map,
    private_endpoint,
    rbac_wait,
    role_assignment,
)
from .naming import NamingConvention
from .network_plan import AddressPlanError, carve

# Regions with availability zones (ACR zone redundancy, ZRS storage). Microsoft Learn, "Azure regions
# with availability zone support".
ZONE_REDUNDANT_REGIONS = frozenset(
    {
        "eastus",
        "eastus2",
        "westus2",
        "westus3",
        "centralus",
        "southcentralus",
        "canadacentral",
        "brazilsouth",
        "northeurope",
        "westeurope",
        "uksouth",
        "francecentral",
        "germanywestcentral",
        "swedencentral",
        "switzerlandnorth",
        "norwayeast",
        "italynorth",
        "polandcentral",
        "spaincentral",
        "australiaeast",
        "japaneast",
        "koreacentral",
        "southeastasia",
        "centralindia",
        "uaenorth",
        "southafricanorth",
    }
)

# Storage resource log categories kept: the audit trail of changes, not every read.
STORAGE_AUDIT_LOG_CATEGORIES = ("StorageWrite", "StorageDelete")

# Subnet purpose -> service delegation Azure requires on it.
_DELEGATIONS = {"container-apps": "Microsoft.App/environments"}


# Storage redundancies whose accounts have no archive tier. Microsoft Learn, "Access tiers for blob data" (archive
# is supported only for LRS, GRS and RA-GRS) and "Lifecycle management overview"; a lifecycle rule that archives on
# such an account fails. The pack's `storage-lifecycle-archive-needs-lrs-or-grs` rule says the same to any program.
ZONE_REDUNDANT_STORAGE_SKUS = frozenset({"Standard_ZRS", "Standard_GZRS", "Standard_RAGZRS", "Premium_ZRS"})

# The Azure Cosmos DB first-party application, per cloud. An Azure ML workspace encrypted with a customer-managed key
# keeps its metadata in a Cosmos DB account Microsoft creates for it, and that service wraps/unwraps with the key as
# this application (Learn, "Customer-managed keys for Azure Machine Learning" / "how-to-setup-customer-managed-keys";
# AVM terraform-azurerm-avm-res-machinelearningservices-workspace, examples/customer_managed_key, which grants it
# Key Vault Crypto Service Encryption User).
COSMOS_DB_APPLICATION_IDS: dict[str, str] = {
    "AzureCloud": "a232010e-820c-4083-83bb-3ace5fc29d0b",
    "AzureUSGovernment": "57506a73-e302-42a9-b869-6f12d9ec29e9",
}


class LifecycleRules(ArgsModel):
    """Blob lifecycle management for the shared storage account."""

    models_prefix: str = "models/"
    """Blob prefix (container/path) holding model artifacts."""
    models_cool_after_days: int = Field(default=30, ge=1)
    """Move model blobs to the cool tier this many days after last modification."""
    models_cold_after_days: int | None = Field(default=90, ge=1)
    """Move model blobs to the cold tier (online, cheaper than cool, 90-day minimum) this many days after last
    modification; None skips it."""
    models_archive_after_days: int | None = Field(default=None, ge=1)
    """Move model blobs to the archive tier (offline: hours to rehydrate) this many days after last modification;
    None (the default) never archives. Only on LRS/GRS accounts: zone-redundant storage has no archive tier."""
    temp_prefix: str = "temp/"
    """Blob prefix for scratch data."""
    temp_delete_after_days: int = Field(default=7, ge=1)
    """Delete scratch blobs this many days after last modification."""

    @model_validator(mode="after")
    def _tiers_in_order(self) -> LifecycleRules:
        steps = [
            ("modelsCoolAfterDays", self.models_cool_after_days),
            ("modelsColdAfterDays", self.models_cold_after_days),
            ("modelsArchiveAfterDays", self.models_archive_after_days),
        ]
        present = [(key, days) for key, days in steps if days is not None]
        for (before, earlier), (after, later) in itertools.pairwise(present):
            if later <= earlier:
                raise ValueError(f"{after} ({later}) must be greater than {before} ({earlier})")
        return self


def first_of_month(today: datetime.date) -> str:
    """`YYYY-MM-01` of the month `today` is in: the earliest start date the Budgets API accepts."""
    return today.replace(day=1).isoformat()


def utc_today() -> datetime.date:
    """Today in UTC (budgets run on UTC months); a function so tests can fake the clock."""
    return datetime.datetime.now(datetime.UTC).date()


class BudgetSettings(ArgsModel):
    """A monthly cost budget on the environment's resource group, with e-mail alerts."""

    amount: float = Field(gt=0)
    """Monthly budget in the billing currency (USD for the estimate)."""
    contact_emails: list[str] = Field(min_length=1)
    """Who gets the alerts."""
    actual_threshold_percent: float = Field(default=80, gt=0, le=1000)
    """Alert when actual spend passes this share of the budget."""
    forecast_threshold_percent: float = Field(default=100, gt=0, le=1000)
    """Alert when forecast spend passes this share of the budget."""
    start_date: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-01$")
    """First day of the first budget month (YYYY-MM-01). None (the default): the first of the month in which the
    stack creates the budget, kept afterwards (the start date is ignored on later updates, so no diff). The Budgets
    API refuses a start date before the current month and anything but the first of a month."""

    @field_validator("contact_emails")
    @classmethod
    def _emails(cls, emails: list[str]) -> list[str]:
        for email in emails:
            if "@" not in email or email.startswith("@") or email.endswith("@"):
                raise ValueError(f"'{email}' is not an e-mail address")
        return emails


class SharedServicesSettings(ArgsModel):
    """What an environment chooses about its shared services (the `shared` section of stack config)."""

    address_space: str
    """VNet address space (private IPv4 CIDR, /22 or larger); subnets are carved from it."""
    require_cmk: bool = False
    """Create a customer-managed key and encrypt storage and ACR with it (and offer it to other components)."""
    key_vault_sku: Literal["standard", "premium"] = "standard"
    """`premium` makes the CMK an HSM-protected key (RSA-HSM)."""
    storage_sku: Literal["Standard_LRS", "Standard_ZRS", "Standard_GRS", "Standard_GZRS"] = "Standard_ZRS"
    """Replication of the shared storage account. `Standard_GZRS` also keeps a copy in the paired region (data
    survives a region loss); zone-redundant SKUs have no archive tier."""
    lifecycle: LifecycleRules = Field(default_factory=LifecycleRules)
    """Blob tiering and clean-up rules."""
    soft_delete_days: int = Field(default=14, ge=1, le=365)
    """Days deleted blobs, containers and file shares stay recoverable (soft delete)."""
    monitor_private_link: bool = False
    """An Azure Monitor private link scope (AMPLS) with a private endpoint for Log Analytics and Application Insights,
    and its DNS zones linked to the VNet. Those zones then answer for every Azure Monitor name in the VNet."""
    monitor_public_query: bool = True
    """Query Log Analytics and Application Insights from public networks. False (needs monitorPrivateLink): only
    through the private endpoint (the scope's query mode is PrivateOnly)."""
    monitor_public_ingestion: bool = True
    """Accept telemetry from public networks. Keep it on when Azure ML workspaces use a managed network: their computes
    send to Azure Monitor over the `AzureMonitor` service tag and cannot reach this VNet's private endpoint (Learn,
    "Managed virtual network isolation": required rules)."""
    azure_cloud: Literal["AzureCloud", "AzureUSGovernment"] = "AzureCloud"
    """The Azure cloud: selects the Azure Cosmos DB application granted use of the customer-managed key. Only
    AzureCloud is accepted for now: the private DNS zones created are the public cloud's."""
    cosmos_db_principal_object_id: str | None = Field(
        default=None, pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    )
    """Object id of the Azure Cosmos DB service principal in your tenant (`az ad sp show --id
    a232010e-820c-4083-83bb-3ace5fc29d0b --query id -o tsv`; Azure Government: `57506a73-e302-42a9-b869-6f12d9ec29e9`),
    granted use of the customer-managed key for Azure ML workspaces. Required with `requireCmk` unless
    `cosmosDbPrincipalLookup` is set."""
    cosmos_db_principal_lookup: bool = False
    """Look the Azure Cosmos DB service principal up in Microsoft Graph (pulumi-azuread) instead of giving
    `cosmosDbPrincipalObjectId`. The deploying identity then needs the Graph application permission
    `Application.Read.All` (bootstrap's `graphAppRoles`); Graph offers no narrower one to read a service principal."""
    log_retention_days: int = Field(default=30, ge=30, le=730)
    """Log Analytics retention."""
    nat_gateway: bool = True
    """Give the compute subnets (AKS, AML, Batch) outbound access through a NAT gateway. Nodes have no
    public IPs and Azure no longer gives new subnets default outbound access, so without it (or a
    firewall you route to) nodes cannot reach package feeds or container registries outside the VNet."""
    budget: BudgetSettings | None = None
    """Monthly budget with alerts; None creates none."""

    @field_validator("address_space")
    @classmethod
    def _address_space(cls, value: str) -> str:
        try:
            carve(value)
        except AddressPlanError as exc:
            raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _monitor_reachable(self) -> SharedServicesSettings:
        closed = [
            k
            for k, v in (
                ("monitorPublicQuery", self.monitor_public_query),
                ("monitorPublicIngestion", self.monitor_public_ingestion),
            )
            if not v
        ]
        if closed and not self.monitor_private_link:
            raise ValueError(
                f"{' and '.join(closed)}: false needs monitorPrivateLink: true, or nothing could reach "
                "Log Analytics and Application Insights; set monitorPrivateLink or remove it"
            )
        return self

    @model_validator(mode="after")
    def _public_cloud_zones_only(self) -> SharedServicesSettings:
        # PRIVATE_DNS_ZONES holds the public cloud's zone names; Azure Government's differ (Learn, "Azure Private
        # Endpoint private DNS zone values", Government column), so every private endpoint would resolve nothing.
        if self.azure_cloud != "AzureCloud":
            raise ValueError(
                f"azureCloud {self.azure_cloud}: aiinfra creates the Azure public cloud's private DNS zones "
                "(privatelink.blob.core.windows.net, ...), and Azure Government uses other zone names (Learn, 'Azure "
                "Private Endpoint private DNS zone values'), which aiinfra does not catalogue yet; use AzureCloud"
            )
        return self

    @model_validator(mode="after")
    def _cosmos_db_principal_known(self) -> SharedServicesSettings:
        if not self.require_cmk:
            return self
        if self.cosmos_db_principal_object_id is None and not self.cosmos_db_principal_lookup:
            app = COSMOS_DB_APPLICATION_IDS[self.azure_cloud]
            raise ValueError(
                "cosmosDbPrincipalObjectId is required with requireCmk: Azure ML workspaces encrypted with the key "
                "need the Azure Cosmos DB service principal of your tenant on it; set it to the output of "
                f"`az ad sp show --id {app} --query id -o tsv`, or set cosmosDbPrincipalLookup: true when the "
                "deploying identity has the Microsoft Graph permission Application.Read.All"
            )
        if self.cosmos_db_principal_object_id is not None and self.cosmos_db_principal_lookup:
            raise ValueError(
                "cosmosDbPrincipalLookup: true and cosmosDbPrincipalObjectId both name the Azure Cosmos DB "
                "principal; remove one"
            )
        return self

    @model_validator(mode="after")
    def _no_archive_on_zone_redundant_storage(self) -> SharedServicesSettings:
        if self.storage_sku in ZONE_REDUNDANT_STORAGE_SKUS and self.lifecycle.models_archive_after_days is not None:
            raise ValueError(
                f"lifecycle.modelsArchiveAfterDays: {self.storage_sku} has no archive tier (Learn, 'Access tiers for "
                "blob data': archive needs LRS, GRS or RA-GRS); remove it and use lifecycle.modelsColdAfterDays, or "
                "choose storageSku Standard_LRS or Standard_GRS"
            )
        return self


class SharedServicesArgs(CommonArgs, SharedServicesSettings):
    """Args of SharedServices: the common component args plus the environment's settings."""

    budget_action_group_ids: list[InputStr] = Field(default_factory=list)
    """Action groups the budget's notifications also go to (its `contactGroups`), e.g.
    `PlatformMonitoring.action_group_id`; resource-group budgets accept them (REST "Budgets - Create Or Update",
    `notifications.contactGroups`)."""


class SharedServicesRef(ArgsModel):
    """What other components need from the shared services: ids and names only.

    `SharedServices.ref` gives one; a stack with its own network and vault can build one by hand.
    """

    naming: NamingConvention
    """Naming convention of the environment; components name their resources with it."""
    resource_group_name: InputStr
    """Resource group the consuming components create their resources in."""
    tags: dict[str, str] = Field(default_factory=dict)
    """Tags the consuming components put on their resources."""
    virtual_network_id: InputStr
    """Resource id of the VNet the subnets below belong to."""
    private_endpoint_subnet_id: InputStr
    """Subnet for the components' private endpoints."""
    aml_compute_subnet_id: InputStr | None = None
    """Subnet for Azure ML computes of workspaces without a managed network; None when there is none."""
    aks_subnet_id: InputStr | None = None
    """Subnet for AKS nodes; None when there is none."""
    batch_subnet_id: InputStr | None = None
    """Subnet for Batch pool nodes; None when there is none."""
    container_apps_subnet_id: InputStr | None = None
    """Subnet delegated to Microsoft.App/environments for Container Apps; None when there is none."""
    private_dns_zone_ids: dict[str, InputStr]
    """Private DNS zone name -> zone resource id (the zones must be linked to the VNet); components look up the
    zones of their private endpoints here (`dns_zone_ids_for`)."""
    private_dns_zone_links: dict[str, ResourceList] = Field(default_factory=dict)
    """Private DNS zone name -> what links it to the VNet (its VirtualNetworkLink), when the same program creates it.
    A component that resolves names in the zone from the VNet while it is created waits for it (`dns_zone_links_for`;
    the private AKS cluster). A zone not listed adds no wait."""
    key_vault_id: InputStr
    """Resource id of the Key Vault (RBAC authorization) components keep secrets and keys in."""
    key_vault_uri: InputStr
    """URI of that Key Vault, e.g. `https://kv-x.vault.azure.net/`."""
    storage_account_id: InputStr
    """Resource id of the storage account for workspace data and artifacts."""
    storage_account_name: InputStr
    """Name of that storage account."""
    container_registry_id: InputStr
    """Resource id of the container registry images are pulled from."""
    container_registry_login_server: InputStr
    """Login server of that registry, e.g. `crx.azurecr.io`."""
    log_analytics_workspace_id: InputStr
    """Resource id of the Log Analytics workspace diagnostics go to."""
    application_insights_id: InputStr
    """Resource id of the Application Insights component (Azure ML workspaces require one)."""
    storage_private_endpoint_ids: list[InputStr] = Field(default_factory=list)
    """Private endpoints of that storage account; Azure ML workspace identities get Reader on them (managed
    network)."""
    cmk: CustomerManagedKey | None = None
    """The environment's customer-managed key, when it requires CMK."""

    def require(self, field: str, why: str) -> InputStr:
        """An optional field a component cannot do without; a hand-built ref that lacks it fails naming it."""
        value = getattr(self, field)
        if value is None:
            raise ComponentArgsError(
                f"shared.{field} is required: {why} (SharedServices.ref has it; set it on a "
                "hand-built SharedServicesRef)"
            )
        return value

    def dns_zone_ids_for(self, group_id: str) -> list[InputStr]:
        """Zone ids a private endpoint of `group_id` registers in; fails clearly if one is missing."""
        names = dns_zone_names(group_id, self.naming.location)
        missing = [z for z in names if z not in self.private_dns_zone_ids]
        if missing:
            raise ComponentArgsError(
                f"shared services have no private DNS zone {', '.join(missing)} for '{group_id}' endpoints; "
                "add it to private_dns_zone_ids"
            )
        return [self.private_dns_zone_ids[z] for z in names]

    def dns_zone_links_for(self, group_id: str) -> list[pulumi.Resource]:
        """What links the zones of `group_id` to the VNet (see `private_dns_zone_links`): wait for it."""
        names = dns_zone_names(group_id, self.naming.location)
        return [link for zone in names for link in self.private_dns_zone_links.get(zone, [])]


def environment_zone_names(location: str, monitor_private_link: bool = False) -> list[str]:
    """Every private DNS zone an environment needs, for all services aiinfra uses (Azure Monitor's only with its
    private link scope)."""
    groups = [g for g in PRIVATE_DNS_ZONES if g not in OPT_IN_DNS_GROUPS or monitor_private_link]
    names = {z for group in groups for z in dns_zone_names(group, location)}
    return sorted(names)


class SharedServices(pulumi.ComponentResource):
    """VNet + subnets + NSGs, private DNS zones, Key Vault (+ CMK), storage, ACR, Log Analytics,
    Application Insights and a budget — shared by every workspace of one environment."""

    ref: SharedServicesRef
    virtual_network_id: pulumi.Output[str]
    key_vault_id: pulumi.Output[str]
    storage_account_id: pulumi.Output[str]
    container_registry_id: pulumi.Output[str]
    container_registry_login_server: pulumi.Output[str]
    log_analytics_workspace_id: pulumi.Output[str]
    application_insights_id: pulumi.Output[str]
    cmk_key_id: pulumi.Output[str] | None

    def __init__(self, name: str, args: SharedServicesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("aiinfra:shared:SharedServices", name, None, opts)
        client = authorization.get_client_config_output()
        vnet, subnets, nsgs = self._network(name, args)
        zone_ids, zone_links = self._dns_zones(name, args, vnet)
        pe_subnet = subnets["private-endpoints"].id
        logs, insights = self._monitoring(name, args, nsgs, pe_subnet, zone_ids)
        # Secrets live in one vault, the customer-managed key in another: workspaces get Key Vault Administrator on
        # the vault they use (Learn, "Set up authentication between Azure Machine Learning and other services"), and
        # a workload identity must not be able to disable the key that encrypts everything (AVM's CMK example keeps
        # the key in a vault of its own, too).
        vault = self._key_vault(name, "kv", None, args, client, logs.id, pe_subnet, zone_ids)
        extra_role_assignments(self, f"{name}-kv", args, vault.id)
        cmk: CustomerManagedKey | None = None
        if args.require_cmk:
            key_vault = self._key_vault(name, "kv-cmk", "cmk", args, client, logs.id, pe_subnet, zone_ids)
            cmk = self._customer_managed_key(name, args, key_vault)
        account, storage_endpoints = self._storage(name, args, cmk, logs.id, pe_subnet, zone_ids)
        registry = self._registry(name, args, cmk, logs.id, pe_subnet, zone_ids)
        if args.budget is not None:
            self._budget(name, args, args.budget, client)

        self.ref = SharedServicesRef(
            naming=args.naming,
            resource_group_name=args.resource_group_name,
            tags=args.tags,
            virtual_network_id=vnet.id,
            private_endpoint_subnet_id=pe_subnet,
            aml_compute_subnet_id=subnets["aml-compute"].id,
            aks_subnet_id=subnets["aks"].id,
            batch_subnet_id=subnets["batch"].id,
            container_apps_subnet_id=subnets["container-apps"].id,
            private_dns_zone_ids=dict(zone_ids),
            private_dns_zone_links=zone_links,
            key_vault_id=vault.id,
            key_vault_uri=vault.properties.vault_uri,
            storage_account_id=account.id,
            storage_account_name=account.name,
            container_registry_id=registry.id,
            container_registry_login_server=registry.login_server,
            log_analytics_workspace_id=logs.id,
            application_insights_id=insights.id,
            storage_private_endpoint_ids=[e.id for e in storage_endpoints],
            cmk=cmk,
        )
        publish(
            self,
            virtual_network_id=vnet.id,
            key_vault_id=vault.id,
            storage_account_id=account.id,
            container_registry_id=registry.id,
            container_registry_login_server=registry.login_server,
            log_analytics_workspace_id=logs.id,
            application_insights_id=insights.id,
            cmk_key_id=cmk.key_id if cmk else None,
        )

    def _network(
        self, name: str, args: SharedServicesArgs
    ) -> tuple[network.VirtualNetwork, dict[str, network.Subnet], dict[str, network.NetworkSecurityGroup]]:
        """The VNet, the optional NAT gateway, and one subnet with its NSG per purpose of the address plan."""
        n, rg = args.naming, args.resource_group_name
        vnet = network.VirtualNetwork(
            f"{name}-vnet",
            virtual_network_name=n.name("virtual_network"),
            resource_group_name=rg,
            location=args.location,
            address_space={"address_prefixes": [args.address_space]},
            tags=args.tags,
            opts=child_opts(self),
        )
        nat = self._nat_gateway(name, args) if args.nat_gateway else None
        subnets: dict[str, network.Subnet] = {}
        nsgs: dict[str, network.NetworkSecurityGroup] = {}
        previous: network.Subnet | None = None
        for purpose, plan in carve(args.address_space).items():
            nsg = network.NetworkSecurityGroup(
                f"{name}-nsg-{purpose}",
                network_security_group_name=n.name("network_security_group", purpose),
                resource_group_name=rg,
                location=args.location,
                tags=args.tags,
                opts=child_opts(self),
            )
            self._deny_lateral_remote_login(name, purpose, nsg, args)
            delegation = _DELEGATIONS.get(purpose)
            compute = purpose in ("aks", "aml-compute", "batch")
            # Subnets of one VNet are created one after another: Azure rejects concurrent subnet writes.
            subnets[purpose] = previous = network.Subnet(
                f"{name}-snet-{purpose}",
                subnet_name=f"snet-{purpose}",
                virtual_network_name=vnet.name,
                resource_group_name=rg,
                address_prefix=plan.cidr,
                network_security_group={"id": nsg.id},
                nat_gateway={"id": nat.id} if (nat is not None and compute) else None,
                default_outbound_access=False,
                private_endpoint_network_policies="Enabled" if purpose == "private-endpoints" else "Disabled",
                delegations=[{"name": "delegation", "service_name": delegation}] if delegation else None,
                opts=child_opts(self, depends_on=[previous] if previous else None),
            )
            nsgs[purpose] = nsg
        return vnet, subnets, nsgs

    def _dns_zones(
        self, name: str, args: SharedServicesArgs, vnet: network.VirtualNetwork
    ) -> tuple[dict[str, pulumi.Output[str]], dict[str, list[pulumi.Resource]]]:
        """Every private DNS zone the environment needs, linked to the VNet: zone name -> zone id, and zone name ->
        its VNet link (what a component resolving names in the zone while it is created waits for)."""
        zone_ids: dict[str, pulumi.Output[str]] = {}
        zone_links: dict[str, list[pulumi.Resource]] = {}
        for zone_name in environment_zone_names(args.location, args.monitor_private_link):
            key = zone_name.replace("privatelink.", "").replace(".", "-")
            zone = privatedns.PrivateZone(
                f"{name}-dns-{key}",
                private_zone_name=zone_name,
                resource_group_name=args.resource_group_name,
                location="global",
                tags=args.tags,
                opts=child_opts(self),
            )
            link = privatedns.VirtualNetworkLink(
                f"{name}-dns-{key}-link",
                virtual_network_link_name=f"link-{args.naming.name('virtual_network')}",
                private_zone_name=zone.name,
                resource_group_name=args.resource_group_name,
                location="global",
                registration_enabled=False,
                virtual_network={"id": vnet.id},
                tags=args.tags,
                opts=child_opts(zone),
            )
            zone_ids[zone_name] = zone.id
            zone_links[zone_name] = [link]
        return zone_ids, zone_links

    def _monitoring(
        self,
        name: str,
        args: SharedServicesArgs,
        nsgs: dict[str, network.NetworkSecurityGroup],
        pe_subnet: pulumi.Input[str],
        zone_ids: dict[str, pulumi.Output[str]],
    ) -> tuple[operationalinsights.Workspace, applicationinsights.Component]:
        """Log Analytics (with the NSGs' diagnostics), Application Insights, and their private link scope if asked."""
        n, rg = args.naming, args.resource_group_name
        logs = operationalinsights.Workspace(
            f"{name}-log",
            workspace_name=n.name("log_analytics"),
            resource_group_name=rg,
            location=args.location,
            sku={"name": "PerGB2018"},
            retention_in_days=args.log_retention_days,
            public_network_access_for_ingestion="Enabled" if args.monitor_public_ingestion else "Disabled",
            public_network_access_for_query="Enabled" if args.monitor_public_query else "Disabled",
            tags=args.tags,
            opts=child_opts(self),
        )
        diagnostic_setting(self, f"{name}-log-diag", resource_id=logs.id, workspace_id=logs.id)
        for purpose, nsg in nsgs.items():
            diagnostic_setting(
                self, f"{name}-nsg-{purpose}-diag", resource_id=nsg.id, workspace_id=logs.id, metrics=False
            )
        insights = applicationinsights.Component(
            f"{name}-appi",
            resource_name_=n.name("application_insights"),
            resource_group_name=rg,
            location=args.location,
            kind="web",
            application_type="web",
            workspace_resource_id=logs.id,
            ingestion_mode="LogAnalytics",
            # Local auth stays on: Azure ML sends workspace, job and endpoint telemetry with the component's connection
            # string, and documents no Microsoft Entra-only ingestion for it (Learn, "Microsoft Entra authentication
            # for Application Insights" needs each sender configured with a credential). Documented exception.
            disable_local_auth=False,
            public_network_access_for_ingestion="Enabled" if args.monitor_public_ingestion else "Disabled",
            public_network_access_for_query="Enabled" if args.monitor_public_query else "Disabled",
            tags=args.tags,
            opts=child_opts(self),
        )
        if args.monitor_private_link:
            self._monitor_private_link(name, args, [("log", logs.id), ("appi", insights.id)], pe_subnet, zone_ids)
        return logs, insights

    def _storage(
        self,
        name: str,
        args: SharedServicesArgs,
        cmk: CustomerManagedKey | None,
        logs_id: pulumi.Input[str],
        pe_subnet: pulumi.Input[str],
        zone_ids: dict[str, pulumi.Output[str]],
    ) -> tuple[storage.StorageAccount, list[network.PrivateEndpoint]]:
        """The shared storage account with its lock, soft delete, lifecycle rules, diagnostics and private endpoints."""
        n, rg, location, tags = args.naming, args.resource_group_name, args.location, args.tags
        key_ready: list[pulumi.Resource] = list(cmk.depends_on) if cmk else []
        account = storage.StorageAccount(
            f"{name}-st",
            account_name=n.name("storage_account"),
            resource_group_name=rg,
            location=location,
            kind="StorageV2",
            sku={"name": args.storage_sku},
            # No hierarchical namespace: this account is the workspaces' default storage, and Azure ML supports
            # neither premium storage nor a hierarchical namespace there (Learn, "What is an Azure Machine Learning
            # workspace?" > Associated resources; "Create a workspace with an ARM template"). `isHnsEnabled` is
            # create-only: a data lake with ADLS Gen2 semantics needs an account of its own, added as a datastore.
            is_hns_enabled=False,
            allow_blob_public_access=False,
            allow_shared_key_access=False,
            default_to_o_auth_authentication=True,
            allow_cross_tenant_replication=False,
            minimum_tls_version="TLS1_2",
            enable_https_traffic_only=True,
            public_network_access="Disabled",
            network_rule_set={"default_action": storage.DefaultAction.DENY, "bypass": "AzureServices"},
            identity={"type": "UserAssigned", "user_assigned_identities": [cmk.identity_id]} if cmk else None,
            encryption=self._storage_encryption(cmk),
            tags=tags,
            opts=child_opts(self, protect=args.lock, depends_on=key_ready),
        )
        delete_lock(self, f"{name}-st-lock", scope=account.id, enabled=args.lock)
        # Soft delete for blobs, containers and file shares (seed 000; Learn, "Soft delete for blobs" and "Soft delete
        # for Azure file shares"; AVM storage account module enables both by default). Versioning is not set (it would
        # keep a billed version of every checkpoint overwrite).
        retention: storage.DeleteRetentionPolicyArgsDict = {"enabled": True, "days": args.soft_delete_days}
        storage.BlobServiceProperties(
            f"{name}-st-blob-service",
            account_name=account.name,
            resource_group_name=rg,
            blob_services_name="default",
            delete_retention_policy=retention,
            container_delete_retention_policy=retention,
            opts=child_opts(account),
        )
        storage.FileServiceProperties(
            f"{name}-st-file-service",
            account_name=account.name,
            resource_group_name=rg,
            file_services_name="default",
            share_delete_retention_policy=retention,
            opts=child_opts(account),
        )
        storage.ManagementPolicy(
            f"{name}-st-lifecycle",
            account_name=account.name,
            resource_group_name=rg,
            management_policy_name="default",
            policy={"rules": self._lifecycle_rules(args.lifecycle)},
            opts=child_opts(account),
        )
        # Storage takes logs per service (blobServices/default, ...) and rejects `AllMetrics`.
        diagnostic_setting(
            self,
            f"{name}-st-diag",
            resource_id=account.id,
            workspace_id=logs_id,
            all_logs=False,
            metric_categories=["Transaction"],
        )
        # Writes and deletes are the audit trail; reads (every job's data loading) would dominate the Log Analytics
        # bill. Categories: Learn, "Monitoring Azure Blob Storage data reference" (StorageRead/Write/Delete).
        for service in ("blob", "file"):
            diagnostic_setting(
                self,
                f"{name}-st-{service}-diag",
                resource_id=account.id.apply(lambda i, s=service: f"{i}/{s}Services/default"),
                workspace_id=logs_id,
                log_categories=STORAGE_AUDIT_LOG_CATEGORIES,
                metric_categories=["Transaction"],
            )
        storage_endpoints = [
            private_endpoint(
                self,
                f"{name}-st-pe-{group}",
                args=args,
                azure_name=n.name("private_endpoint", "st", group),
                subnet_id=pe_subnet,
                target_id=account.id,
                group_id=group,
                dns_zone_ids=[zone_ids[z] for z in dns_zone_names(group, location)],
            )
            for group in ("blob", "file", "dfs")
        ]
        extra_role_assignments(self, f"{name}-st", args, account.id)

        return account, storage_endpoints

    def _registry(
        self,
        name: str,
        args: SharedServicesArgs,
        cmk: CustomerManagedKey | None,
        logs_id: pulumi.Input[str],
        pe_subnet: pulumi.Input[str],
        zone_ids: dict[str, pulumi.Output[str]],
    ) -> containerregistry.Registry:
        """The Premium registry (CMK when asked) with its lock, diagnostics and private endpoint."""
        n, rg, location, tags = args.naming, args.resource_group_name, args.location, args.tags
        key_ready: list[pulumi.Resource] = list(cmk.depends_on) if cmk else []
        registry = containerregistry.Registry(
            f"{name}-acr",
            registry_name=n.name("container_registry"),
            resource_group_name=rg,
            location=location,
            sku={"name": "Premium"},  # private link and CMK need Premium
            admin_user_enabled=False,
            anonymous_pull_enabled=False,
            public_network_access="Disabled",
            network_rule_bypass_options="AzureServices",
            zone_redundancy="Enabled" if location in ZONE_REDUNDANT_REGIONS else "Disabled",
            policies={"export_policy": {"status": "disabled"}},
            identity=containerregistry.IdentityPropertiesArgs(
                type=containerregistry.ResourceIdentityType.USER_ASSIGNED,
                user_assigned_identities=identity_map(cmk.identity_id),
            )
            if cmk
            else None,
            encryption={
                "status": "enabled",
                "key_vault_properties": {"key_identifier": cmk.key_id, "identity": cmk.identity_client_id},
            }
            if cmk
            else None,
            tags=tags,
            opts=child_opts(self, protect=args.lock, depends_on=key_ready),
        )
        delete_lock(self, f"{name}-acr-lock", scope=registry.id, enabled=args.lock)
        diagnostic_setting(self, f"{name}-acr-diag", resource_id=registry.id, workspace_id=logs_id)
        private_endpoint(
            self,
            f"{name}-acr-pe",
            args=args,
            azure_name=n.name("private_endpoint", "acr"),
            subnet_id=pe_subnet,
            target_id=registry.id,
            group_id="registry",
            dns_zone_ids=[zone_ids[z] for z in dns_zone_names("registry", location)],
        )
        extra_role_assignments(self, f"{name}-acr", args, registry.id)

        return registry

    def _nat_gateway(self, name: str, args: SharedServicesArgs) -> network.NatGateway:
        ip = network.PublicIPAddress(
            f"{name}-nat-ip",
            public_ip_address_name=args.naming.name("virtual_network", "nat-ip"),
            resource_group_name=args.resource_group_name,
            location=args.location,
            sku={"name": "Standard"},
            public_ip_allocation_method="Static",
            # Zone-redundant where the region has zones (Learn, "Design virtual networks with NAT gateway": a
            # non-zonal NAT gateway can use a zone-redundant public IP); a zonal failure then keeps outbound working.
            zones=["1", "2", "3"] if args.location in ZONE_REDUNDANT_REGIONS else None,
            tags=args.tags,
            opts=child_opts(self),
        )
        return network.NatGateway(
            f"{name}-nat",
            nat_gateway_name=args.naming.name("virtual_network", "nat"),
            resource_group_name=args.resource_group_name,
            location=args.location,
            sku={"name": "Standard"},
            public_ip_addresses=[{"id": ip.id}],
            idle_timeout_in_minutes=4,
            tags=args.tags,
            opts=child_opts(self),
        )

    def _key_vault(
        self,
        name: str,
        key: str,
        workload: str | None,
        args: SharedServicesArgs,
        client: pulumi.Output[authorization.GetClientConfigResult],
        logs_id: pulumi.Input[str],
        pe_subnet: pulumi.Input[str],
        zone_ids: dict[str, pulumi.Output[str]],
    ) -> keyvault.Vault:
        """A private, RBAC-authorized, purge-protected vault with its lock, diagnostics and private endpoint."""
        n = args.naming
        parts = (workload,) if workload else ()
        vault = keyvault.Vault(
            f"{name}-{key}",
            vault_name=n.name("key_vault", *parts),
            resource_group_name=args.resource_group_name,
            location=args.location,
            properties={
                "tenant_id": client.tenant_id,
                "sku": {"family": "A", "name": keyvault.SkuName(args.key_vault_sku)},
                "enable_rbac_authorization": True,
                "enable_soft_delete": True,
                "soft_delete_retention_in_days": 90,
                "enable_purge_protection": True,
                "public_network_access": "Disabled",
                "network_acls": {"default_action": keyvault.NetworkRuleAction.DENY, "bypass": "AzureServices"},
                "enabled_for_deployment": False,
                "enabled_for_template_deployment": False,
                "enabled_for_disk_encryption": False,
            },
            tags=args.tags,
            opts=child_opts(self, protect=args.lock),
        )
        delete_lock(self, f"{name}-{key}-lock", scope=vault.id, enabled=args.lock)
        diagnostic_setting(self, f"{name}-{key}-diag", resource_id=vault.id, workspace_id=logs_id)
        private_endpoint(
            self,
            f"{name}-{key}-pe",
            args=args,
            azure_name=n.name("private_endpoint", "kv", *parts),
            subnet_id=pe_subnet,
            target_id=vault.id,
            group_id="vault",
            dns_zone_ids=[zone_ids[z] for z in dns_zone_names("vault", args.location)],
        )
        return vault

    def _customer_managed_key(self, name: str, args: SharedServicesArgs, vault: keyvault.Vault) -> CustomerManagedKey:
        n = args.naming
        key = keyvault.Key(
            f"{name}-cmk",
            key_name=n.name("key"),
            vault_name=vault.name,
            resource_group_name=args.resource_group_name,
            properties={
                "kty": "RSA-HSM" if args.key_vault_sku == "premium" else "RSA",
                "key_size": 3072,
                "key_ops": ["wrapKey", "unwrapKey"],
                "rotation_policy": {
                    "attributes": {"expiry_time": "P2Y"},
                    "lifetime_actions": [
                        {
                            "action": {"type": keyvault.KeyRotationPolicyActionType.ROTATE},
                            "trigger": {"time_after_create": "P18M"},
                        },
                        {
                            "action": {"type": keyvault.KeyRotationPolicyActionType.NOTIFY},
                            "trigger": {"time_before_expiry": "P30D"},
                        },
                    ],
                },
            },
            tags=args.tags,
            opts=child_opts(self, protect=args.lock),
        )
        identity = managedidentity.UserAssignedIdentity(
            f"{name}-cmk-id",
            resource_name_=n.name("user_assigned_identity", "cmk"),
            resource_group_name=args.resource_group_name,
            location=args.location,
            tags=args.tags,
            opts=child_opts(self),
        )
        grant = role_assignment(
            self,
            f"{name}-cmk-crypto-user",
            naming=n,
            scope=key.id,
            principal_id=identity.principal_id,
            role="Key Vault Crypto Service Encryption User",
        )
        # Azure ML's CMK needs the Azure Cosmos DB service principal on the key (see COSMOS_DB_APPLICATION_IDS). Its
        # object id differs per tenant: given in config (the default path: no Microsoft Graph permission needed), or
        # looked up by application id, which needs Graph Application.Read.All (Microsoft Graph permissions reference;
        # "Get servicePrincipal": least privileged application permission).
        cosmos_db: pulumi.Input[str] = (
            args.cosmos_db_principal_object_id
            if args.cosmos_db_principal_object_id is not None
            else azuread.get_service_principal_output(client_id=COSMOS_DB_APPLICATION_IDS[args.azure_cloud]).object_id
        )
        cosmos_grant = role_assignment(
            self,
            f"{name}-cmk-cosmos-db",
            naming=n,
            scope=key.id,
            principal_id=cosmos_db,
            role="Key Vault Crypto Service Encryption User",
        )
        # Storage, ACR and workspaces check the key the moment they are created: wait until the grants take effect.
        propagated = rbac_wait(self, f"{name}-cmk-rbac-wait", [grant, cosmos_grant])
        return CustomerManagedKey(
            key_vault_id=vault.id,
            key_vault_uri=vault.properties.vault_uri,
            key_name=key.name,
            key_id=key.key_uri,
            key_version_url=key.key_uri_with_version,
            identity_id=identity.id,
            identity_client_id=identity.client_id,
            identity_principal_id=identity.principal_id,
            depends_on=[propagated],
        )

    def _monitor_private_link(
        self,
        name: str,
        args: SharedServicesArgs,
        scoped: list[tuple[str, pulumi.Output[str]]],
        pe_subnet: pulumi.Input[str],
        zone_ids: dict[str, pulumi.Output[str]],
    ) -> None:
        """AMPLS with Log Analytics and Application Insights in it, and its private endpoint (Learn, "Use Azure Private
        Link to connect networks to Azure Monitor"; AVM avm/res/insights/private-link-scope). Ingestion stays Open:
        agents in the VNet (e.g. AKS's Azure Monitor agent with its data collection endpoint) may send to resources
        outside the scope; queries are PrivateOnly when public query access is off."""
        scope = monitor.PrivateLinkScope(
            f"{name}-ampls",
            scope_name=args.naming.name("monitor_private_link_scope"),
            resource_group_name=args.resource_group_name,
            location="global",
            access_mode_settings={
                "ingestion_access_mode": "Open",
                "query_access_mode": "Open" if args.monitor_public_query else "PrivateOnly",
            },
            tags=args.tags,
            opts=child_opts(self),
        )
        for key, resource_id in scoped:
            monitor.PrivateLinkScopedResource(
                f"{name}-ampls-{key}",
                name=key,
                scope_name=scope.name,
                resource_group_name=args.resource_group_name,
                linked_resource_id=resource_id,
                opts=child_opts(scope),
            )
        private_endpoint(
            self,
            f"{name}-ampls-pe",
            args=args,
            azure_name=args.naming.name("private_endpoint", "ampls"),
            subnet_id=pe_subnet,
            target_id=scope.id,
            group_id="azuremonitor",
            dns_zone_ids=[zone_ids[z] for z in dns_zone_names("azuremonitor", args.location)],
        )

    def _deny_lateral_remote_login(
        self, name: str, purpose: str, nsg: network.NetworkSecurityGroup, args: SharedServicesArgs
    ) -> None:
        """Deny SSH and RDP from inside the VNet: no aiinfra service needs them (AML and Batch nodes have SSH off,
        AKS nodes are reached through the API server), and they are the usual lateral-movement path (Learn, "Azure
        security baseline for Virtual Network": restrict management ports; the default AllowVnetInBound allows
        them). A separate SecurityRule (the NSG has no inline rules): azure-native keeps sub-resources the parent does
        not list (pulumi/pulumi-azure-native#1087, fixed); mixing inline and separate rules would fight (#3359)."""
        network.SecurityRule(
            f"{name}-nsg-{purpose}-deny-remote-login",
            security_rule_name="deny-vnet-ssh-rdp-inbound",
            network_security_group_name=nsg.name,
            resource_group_name=args.resource_group_name,
            priority=4000,
            direction=network.SecurityRuleDirection.INBOUND,
            access=network.SecurityRuleAccess.DENY,
            protocol=network.SecurityRuleProtocol.ASTERISK,
            source_address_prefix="VirtualNetwork",
            source_port_range="*",
            destination_address_prefix="*",
            destination_port_ranges=["22", "3389"],
            description="No service in this subnet needs SSH or RDP from the VNet",
            opts=child_opts(nsg),
        )

    @staticmethod
    def _storage_encryption(cmk: CustomerManagedKey | None) -> storage.EncryptionArgsDict:
        services: storage.EncryptionServicesArgsDict = {
            "blob": {"enabled": True, "key_type": "Account"},
            "file": {"enabled": True, "key_type": "Account"},
            # Account-scoped keys make queues and tables use the CMK too; only settable at creation.
            "queue": {"enabled": True, "key_type": "Account"},
            "table": {"enabled": True, "key_type": "Account"},
        }
        if cmk is None:
            return {"key_source": "Microsoft.Storage", "require_infrastructure_encryption": True, "services": services}
        return {
            "key_source": "Microsoft.Keyvault",
            "require_infrastructure_encryption": True,
            "services": services,
            # No key version: storage follows the key's automatic rotation.
            "key_vault_properties": {"key_name": cmk.key_name, "key_vault_uri": cmk.key_vault_uri},
            "encryption_identity": {"encryption_user_assigned_identity": cmk.identity_id},
        }

    @staticmethod
    def _tiering(rules: LifecycleRules) -> storage.ManagementPolicyBaseBlobArgsDict:
        tiers: storage.ManagementPolicyBaseBlobArgsDict = {
            "tier_to_cool": {"days_after_modification_greater_than": rules.models_cool_after_days}
        }
        if rules.models_cold_after_days is not None:
            tiers["tier_to_cold"] = {"days_after_modification_greater_than": rules.models_cold_after_days}
        if rules.models_archive_after_days is not None:
            tiers["tier_to_archive"] = {"days_after_modification_greater_than": rules.models_archive_after_days}
        return tiers

    @staticmethod
    def _lifecycle_rules(rules: LifecycleRules) -> list[storage.ManagementPolicyRuleArgsDict]:
        return [
            {
                "name": "models-tiering",
                "enabled": True,
                "type": "Lifecycle",
                "definition": {
                    "filters": {"blob_types": ["blockBlob"], "prefix_match": [rules.models_prefix]},
                    "actions": {"base_blob": SharedServices._tiering(rules)},
                },
            },
            {
                "name": "temp-cleanup",
                "enabled": True,
                "type": "Lifecycle",
                "definition": {
                    "filters": {"blob_types": ["blockBlob"], "prefix_match": [rules.temp_prefix]},
                    "actions": {
                        "base_blob": {
                            "delete": {"days_after_modification_greater_than": rules.temp_delete_after_days},
                        }
                    },
                },
            },
        ]

    def _budget(
        self,
        name: str,
        args: SharedServicesArgs,
        budget: BudgetSettings,
        client: pulumi.Output[authorization.GetClientConfigResult],
    ) -> None:
        scope = pulumi.Output.all(client.subscription_id, args.resource_group_name).apply(
            lambda v: f"/subscriptions/{v[0]}/resourceGroups/{v[1]}"
        )
        consumption.Budget(
            f"{name}-budget",
            budget_name=args.naming.name("budget"),
            scope=scope,
            amount=budget.amount,
            category="Cost",
            time_grain="Monthly",
            time_period={"start_date": f"{budget.start_date or first_of_month(utc_today())}T00:00:00Z"},
            notifications={
                "actual": {
                    "enabled": True,
                    "operator": "GreaterThan",
                    "threshold": budget.actual_threshold_percent,
                    "threshold_type": "Actual",
                    "contact_emails": budget.contact_emails,
                    "contact_groups": args.budget_action_group_ids or None,
                },
                "forecast": {
                    "enabled": True,
                    "operator": "GreaterThan",
                    "threshold": budget.forecast_threshold_percent,
                    "threshold_type": "Forecasted",
                    "contact_emails": budget.contact_emails,
                    "contact_groups": args.budget_action_group_ids or None,
                },
            },
            # The start date is the month of creation; a later run computes a later month, which the Budgets API
            # would refuse for an existing budget (and would reset its history): keep the one it was created with.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["timePeriod.startDate"]),
        )
