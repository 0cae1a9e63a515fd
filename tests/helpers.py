"""Small queries over a recorded plan, shared by the tests."""

from __future__ import annotations

from pathlib import Path

from aiinfra.engine import Plan, Registration, run_program


def run_here(project: Path | str, stack: str, stack_file: Path | str | None = None, **options) -> Plan:
    """`run_program` in this interpreter: the engine's host code without the child process (~1 s a run instead of ~3 s).

    For unit tests of programs that need nothing of their own (ours, bootstrap, test programs using this venv). That a
    program runs in its own process, with its own interpreter, is what the `integration` tests check.
    """
    return run_program(project, stack, stack_file, in_process=True, **options)


PE = "azure-native:network:PrivateEndpoint"
ZONE_GROUP = "azure-native:network:PrivateDnsZoneGroup"
ZONE = "azure-native:privatedns:PrivateZone"


def one(plan: Plan, type_token: str, name: str | None = None) -> Registration:
    """The single resource of `type_token` (and logical `name`, if given); fails loudly otherwise."""
    found = [r for r in plan.of_type(type_token) if name is None or r.name == name]
    assert len(found) == 1, f"expected one {type_token} {name or ''}, found {[r.name for r in found]}"
    return found[0]


def private_endpoints_to(plan: Plan, target: Registration) -> list[Registration]:
    """Private endpoints whose private link connection points at `target` (by property dependency)."""
    return [
        pe for pe in plan.of_type(PE) if target.urn in pe.property_dependencies.get("privateLinkServiceConnections", [])
    ]


def group_ids(endpoint: Registration) -> list[str]:
    return [g for c in endpoint.inputs.get("privateLinkServiceConnections", []) for g in c.get("groupIds", [])]


def zone_names_of(plan: Plan, endpoint: Registration) -> set[str]:
    """Names of the private DNS zones the endpoint's zone group registers in."""
    groups = [g for g in plan.of_type(ZONE_GROUP) if g.parent == endpoint.urn]
    assert len(groups) == 1, f"{endpoint.name} should have exactly one DNS zone group, has {len(groups)}"
    zone_ids = {c["privateDnsZoneId"] for c in groups[0].inputs["privateDnsZoneConfigs"]}
    return {z.inputs["privateZoneName"] for z in plan.of_type(ZONE) if z.id in zone_ids}


def children(plan: Plan, parent: Registration, type_token: str | None = None) -> list[Registration]:
    return [r for r in plan.resources if r.parent == parent.urn and (type_token is None or r.type == type_token)]


def fake_shared_ref(location: str = "westus3", **overrides):
    """A hand-built SharedServicesRef with ARM-shaped fake ids (what a stack with its own network passes), for
    args-validation tests that need no engine."""
    from aiinfra.components.naming import NamingConvention
    from aiinfra.components.shared_services import SharedServicesRef

    ids = "/subscriptions/s/resourceGroups/rg-net/providers"
    fields = dict(
        naming=NamingConvention(prefix="contoso", environment="dev", location=location),
        resource_group_name="rg-shared",
        virtual_network_id=f"{ids}/Microsoft.Network/virtualNetworks/vnet",
        private_endpoint_subnet_id=f"{ids}/Microsoft.Network/virtualNetworks/vnet/subnets/pe",
        batch_subnet_id=f"{ids}/Microsoft.Network/virtualNetworks/vnet/subnets/batch",
        container_apps_subnet_id=f"{ids}/Microsoft.Network/virtualNetworks/vnet/subnets/aca",
        private_dns_zone_ids={
            zone: f"{ids}/Microsoft.Network/privateDnsZones/{zone}"
            for zone in ("privatelink.batch.azure.com", "privatelink.queue.core.windows.net")
        },
        key_vault_id=f"{ids}/Microsoft.KeyVault/vaults/kv",
        key_vault_uri="https://kv.vault.azure.net/",
        storage_account_id=f"{ids}/Microsoft.Storage/storageAccounts/st",
        storage_account_name="st",
        container_registry_id=f"{ids}/Microsoft.ContainerRegistry/registries/cr",
        container_registry_login_server="cr.azurecr.io",
        log_analytics_workspace_id=f"{ids}/Microsoft.OperationalInsights/workspaces/log",
        application_insights_id=f"{ids}/Microsoft.Insights/components/appi",
    )
    fields.update(overrides)
    return SharedServicesRef(**fields)


SLEEP = "time:index/sleep:Sleep"


def waits_for(plan: Plan, resource: Registration, urn: str) -> bool:
    """`resource` is created after `urn`: directly, or through what it depends on (e.g. a time.Sleep after grants)."""
    by_urn = {r.urn: r for r in plan.resources}
    seen: set[str] = set()
    todo = list(resource.dependencies)
    while todo:
        current = todo.pop()
        if current == urn:
            return True
        if current in seen or current not in by_urn:
            continue
        seen.add(current)
        todo.extend(by_urn[current].dependencies)
    return False


def waits_for_rbac(plan: Plan, resource: Registration, grant_urn: str) -> bool:
    """`resource` waits for the role assignment `grant_urn` AND for a time.Sleep after it (RBAC propagation)."""
    by_urn = {r.urn: r for r in plan.resources}
    sleeps = [by_urn[u] for u in resource.dependencies if u in by_urn and by_urn[u].type == SLEEP]
    return any(waits_for(plan, s, grant_urn) and s.inputs.get("createDuration") for s in sleeps)
