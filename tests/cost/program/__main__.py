"""A small ML platform written without aiinfra: components of its own, plain azure-native resources inside."""

import pulumi
from pulumi_azure_native import (
    app,
    authorization,
    batch,
    consumption,
    containerregistry,
    containerservice,
    keyvault,
    network,
    privatedns,
    resources,
)
from pulumi_azure_native import (
    machinelearningservices as ml,
)

config = pulumi.Config()
location = config.require("location")


class Network(pulumi.ComponentResource):
    def __init__(self, name: str, group: resources.ResourceGroup) -> None:
        super().__init__("acme:net:Network", name)
        child = pulumi.ResourceOptions(parent=self)
        self.vnet = network.VirtualNetwork(
            f"{name}-vnet",
            resource_group_name=group.name,
            virtual_network_name="vnet-acme",
            address_space={"address_prefixes": ["10.20.0.0/16"]},
            opts=child,
        )
        self.endpoints = network.Subnet(
            f"{name}-pe",
            resource_group_name=group.name,
            virtual_network_name=self.vnet.name,
            subnet_name="snet-pe",
            address_prefix="10.20.1.0/24",
            opts=child,
        )
        self.zones = {}
        for zone in ("privatelink.vaultcore.azure.net", "privatelink.api.azureml.ms"):
            z = privatedns.PrivateZone(
                f"{name}-{zone.split('.')[1]}",
                resource_group_name=group.name,
                private_zone_name=zone,
                location="Global",
                opts=child,
            )
            privatedns.VirtualNetworkLink(
                f"{name}-{zone.split('.')[1]}-link",
                resource_group_name=group.name,
                private_zone_name=z.name,
                location="Global",
                registration_enabled=False,
                virtual_network={"id": self.vnet.id},
                opts=child,
            )
            self.zones[zone] = z
        self.register_outputs({})


def private_endpoint(name: str, group, subnet, target_id, group_id: str, zone, parent) -> network.PrivateEndpoint:
    pe = network.PrivateEndpoint(
        name,
        resource_group_name=group.name,
        private_endpoint_name=name,
        subnet={"id": subnet.id},
        private_link_service_connections=[
            {"name": name, "private_link_service_id": target_id, "group_ids": [group_id]}
        ],
        opts=pulumi.ResourceOptions(parent=parent),
    )
    network.PrivateDnsZoneGroup(
        f"{name}-dns",
        resource_group_name=group.name,
        private_endpoint_name=pe.name,
        private_dns_zone_configs=[{"name": group_id, "private_dns_zone_id": zone.id}],
        opts=pulumi.ResourceOptions(parent=pe),
    )
    return pe


class Training(pulumi.ComponentResource):
    def __init__(self, name: str, group: resources.ResourceGroup, net: Network) -> None:
        super().__init__("acme:ml:Training", name)
        child = pulumi.ResourceOptions(parent=self)
        self.vault = keyvault.Vault(
            f"{name}-kv",
            resource_group_name=group.name,
            vault_name="kv-acme-train",
            properties={"tenant_id": "t", "sku": {"family": "A", "name": "standard"}},  # pyright: ignore[reportArgumentType]  # plain str/dict, their style
            opts=child,
        )
        self.workspace = ml.Workspace(
            f"{name}-ws",
            resource_group_name=group.name,
            workspace_name="mlw-acme",
            key_vault=self.vault.id,
            managed_network={
                "isolation_mode": "AllowOnlyApprovedOutbound",
                "outbound_rules": {"huggingface": {"type": "FQDN", "destination": "huggingface.co"}},
            },
            opts=child,
        )
        ml.Compute(
            f"{name}-t4",
            resource_group_name=group.name,
            workspace_name=self.workspace.name,
            compute_name="t4-lp",
            properties={
                "compute_type": "AmlCompute",
                "properties": {
                    "vm_size": "Standard_NC4as_T4_v3",
                    "vm_priority": "LowPriority",
                    "scale_settings": {"min_node_count": 1, "max_node_count": 4},
                },
            },
            opts=child,
        )
        private_endpoint(
            f"{name}-kv-pe",
            group,
            net.endpoints,
            self.vault.id,
            "vault",
            net.zones["privatelink.vaultcore.azure.net"],
            self,
        )
        private_endpoint(
            f"{name}-ws-pe",
            group,
            net.endpoints,
            self.workspace.id,
            "amlworkspace",
            net.zones["privatelink.api.azureml.ms"],
            self,
        )
        authorization.RoleAssignment(
            f"{name}-ws-kv",
            scope=self.vault.id,
            principal_id="p",
            principal_type="ServicePrincipal",
            role_definition_id="/providers/Microsoft.Authorization/roleDefinitions/r",
            opts=child,
        )
        self.register_outputs({})


class Serving(pulumi.ComponentResource):
    def __init__(self, name: str, group: resources.ResourceGroup, registry_tier: str) -> None:
        super().__init__("acme:serve:Serving", name)
        child = pulumi.ResourceOptions(parent=self)
        containerregistry.Registry(
            f"{name}-acr",
            resource_group_name=group.name,
            registry_name="acracme",
            sku={"name": registry_tier},
            opts=child,
        )
        cluster = containerservice.ManagedCluster(
            f"{name}-aks",
            resource_group_name=group.name,
            resource_name_="aks-acme",
            dns_prefix="acme",
            sku={"name": "Base", "tier": "Standard"},
            agent_pool_profiles=[{"name": "system", "mode": "System", "vm_size": "Standard_D4s_v5", "count": 2}],
            opts=child,
        )
        containerservice.AgentPool(
            f"{name}-a100",
            resource_group_name=group.name,
            resource_name_=cluster.name,
            agent_pool_name="a100",
            vm_size="Standard_NC24ads_A100_v4",
            enable_auto_scaling=True,
            count=0,
            min_count=0,
            max_count=2,
            scale_set_priority="Spot",
            opts=child,
        )
        env = app.ManagedEnvironment(
            f"{name}-env",
            resource_group_name=group.name,
            environment_name="cae-acme",
            workload_profiles=[
                {"name": "Consumption", "workload_profile_type": "Consumption"},
                {"name": "t4", "workload_profile_type": "Consumption-GPU-NC8as-T4"},
            ],
            opts=child,
        )
        app.ContainerApp(
            f"{name}-infer",
            resource_group_name=group.name,
            container_app_name="ca-infer",
            managed_environment_id=env.id,
            workload_profile_name="t4",
            template={
                "containers": [{"name": "infer", "image": "acracme.azurecr.io/infer:1"}],
                "scale": {"min_replicas": 0, "max_replicas": 3},
            },
            opts=child,
        )
        account = batch.BatchAccount(f"{name}-batch", resource_group_name=group.name, account_name="baacme", opts=child)
        batch.Pool(
            f"{name}-pool",
            resource_group_name=group.name,
            account_name=account.name,
            pool_name="t4",
            vm_size="Standard_NC4as_T4_v3",
            deployment_configuration={
                "virtual_machine_configuration": {
                    "image_reference": {"publisher": "microsoft-dsvm", "offer": "ubuntu-hpc", "sku": "2204"},
                    "node_agent_sku_id": "batch.node.ubuntu 22.04",
                }
            },
            scale_settings={
                "auto_scale": {
                    "evaluation_interval": "PT5M",
                    "formula": "$TargetLowPriorityNodes = min($PendingTasks.GetSample(180 * TimeInterval_Second, "
                    "70 * TimeInterval_Second), 4);",
                }
            },
            opts=child,
        )
        self.register_outputs({})


group = resources.ResourceGroup("rg", resource_group_name="rg-acme", location=location)
net = Network("net", group)
Training("train", group, net)
Serving("serve", group, "Premium")
consumption.Budget(
    "budget",
    budget_name="acme-monthly",
    scope=group.id,
    amount=config.require_float("budget"),
    time_grain="Monthly",
    category="Cost",
    time_period={"start_date": "2026-01-01T00:00:00Z"},
)
