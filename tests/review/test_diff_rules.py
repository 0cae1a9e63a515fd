"""The diff's rules on small hand-written plans: each change kind, how azure-native applies it, and what is loud."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from aiinfra.engine.diff import (
    CREATE,
    DELETE,
    REPLACE,
    UPDATE,
    DiffError,
    check_plan_document,
    diff_plans,
    render_diff,
    show_value,
)
from aiinfra.engine.markdown import render_markdown

STACK_URN = "urn:pulumi:dev::acme::pulumi:pulumi:Stack::acme-dev"
RG = "rg-acme"
SUB = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-acme/providers"


def urn(type_token: str, name: str, parent: str = "") -> str:
    return f"urn:pulumi:dev::acme::{parent + '$' if parent else ''}{type_token}::{name}"


def resource(
    type_token: str,
    name: str,
    inputs: dict[str, Any],
    *,
    rid: str | None = None,
    parent: str | None = None,
    protect: bool = False,
    custom: bool = True,
    **options: Any,
) -> dict[str, Any]:
    return {
        "urn": urn(type_token, name),
        "type": type_token,
        "name": name,
        "parent": parent or STACK_URN,
        "custom": custom,
        "protect": protect,
        "inputs": inputs,
        "id": rid,
        "ignoreChanges": [],
        **options,
    }


def document(*resources: dict[str, Any], violations: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"plan": {"stack": "dev", "project": "acme", "resources": list(resources)}}
    if violations is not None:
        doc["policies"] = {"violations": violations, "summary": {"mandatory": 0, "advisory": 0}}
    return doc


def storage(**overrides: Any) -> dict[str, Any]:
    inputs = {
        "accountName": "stacme",
        "resourceGroupName": RG,
        "location": "westus3",
        "kind": "StorageV2",
        "sku": {"name": "Standard_LRS"},
        "minimumTlsVersion": "TLS1_2",
    }
    inputs.update(overrides)
    return resource(
        "azure-native:storage:StorageAccount",
        "st",
        inputs,
        rid=f"{SUB}/Microsoft.Storage/storageAccounts/stacme",
        protect=True,
    )


def vault(location: str = "westus3", name: str = "kv-acme") -> dict[str, Any]:
    return resource(
        "azure-native:keyvault:Vault",
        "kv",
        {"vaultName": name, "resourceGroupName": RG, "location": location, "properties": {"tenantId": "t"}},
        rid=f"{SUB}/Microsoft.KeyVault/vaults/kv-acme",
        protect=True,
    )


def pool(max_count: float = 4.0, name: str = "gpu") -> dict[str, Any]:
    return resource(
        "azure-native:containerservice:AgentPool",
        f"pool-{name}",
        {
            "agentPoolName": name,
            "resourceName": "aks-acme",
            "resourceGroupName": RG,
            "vmSize": "Standard_NC24ads_A100_v4",
            "enableAutoScaling": True,
            "minCount": 0.0,
            "maxCount": max_count,
            "scaleSetPriority": "Spot",
        },
    )


def by_name(diff, name):
    return next(c for c in diff.changes if c.name == name)


def test_identical_plans_say_no_changes():
    base = document(storage(), vault(), pool())
    diff = diff_plans(base, copy.deepcopy(base))
    assert diff.no_changes and diff.summary_line() == "no changes (3 resources unchanged)"
    assert "no changes" in render_diff(diff)


def test_create_update_and_delete_are_counted_by_kind():
    base = document(storage(), pool(4.0, "a100"))
    new = document(storage(), pool(8.0, "a100"), pool(2.0, "t4"))
    diff = diff_plans(base, new)
    assert by_name(diff, "pool-t4").op == CREATE
    raised = by_name(diff, "pool-a100")
    assert raised.op == UPDATE and [(p.path, p.old, p.new) for p in raised.properties] == [("maxCount", 4.0, 8.0)]
    assert diff.summary_line() == "1 to create, 1 to update, 0 to replace, 0 to delete (1 unchanged)"
    gone = diff_plans(new, base)
    assert by_name(gone, "pool-t4").op == DELETE


def test_a_url_path_parameter_change_replaces():
    base = document(pool(4.0, "a100"))
    new = copy.deepcopy(base)
    new["plan"]["resources"][0]["inputs"]["agentPoolName"] = "a100v2"
    change = by_name(diff_plans(base, new), "pool-a100")
    assert change.op == REPLACE and change.properties[0].effect == REPLACE
    assert "URL path parameter" in (change.properties[0].why or "")


def test_renaming_a_protected_vault_replaces_it_and_is_data_loss():
    diff = diff_plans(document(vault()), document(vault(name="kv-acme2")))
    change = by_name(diff, "kv")
    assert change.op == REPLACE and change.data_loss
    text = render_diff(diff)
    assert text.index("DATA LOSS") < text.index("Plan: 0 to create, 0 to update, 1 to replace")
    assert "keys" in change.data_loss_text() and "protected" in change.data_loss_text()


def test_a_vaults_new_region_is_refused_because_its_spec_does_not_mark_location():
    """keyvault.json declares VaultCreateOrUpdateParameters.location without x-ms-mutability: azure-native sends an
    update, ARM refuses it (pulumi/pulumi-azure-native#3053): no replacement, but `pulumi up` fails."""
    diff = diff_plans(document(vault("westus3")), document(vault("eastus")))
    change = by_name(diff, "kv")
    assert change.op == UPDATE and change.refused and not diff.data_loss


def test_a_marked_location_and_nested_create_only_properties_replace_and_cascade():
    def env(location: str, subnet: str) -> dict[str, Any]:
        return resource(
            "azure-native:app:ManagedEnvironment",
            "env",
            {
                "environmentName": "cae",
                "resourceGroupName": RG,
                "location": location,
                "vnetConfiguration": {"infrastructureSubnetId": subnet, "internal": True},
            },
            rid=f"{SUB}/Microsoft.App/managedEnvironments/cae",
        )

    env_id = f"{SUB}/Microsoft.App/managedEnvironments/cae"
    app = resource(
        "azure-native:app:ContainerApp",
        "app",
        {"containerAppName": "ca", "resourceGroupName": RG, "managedEnvironmentId": env_id},
    )
    moved = diff_plans(document(env("westus3", "/s/1"), app), document(env("eastus", "/s/1"), app))
    assert by_name(moved, "env").op == REPLACE
    resubnetted = diff_plans(document(env("westus3", "/s/1"), app), document(env("westus3", "/s/2"), app))
    assert [p.path for p in by_name(resubnetted, "env").replaced_by] == ["vnetConfiguration.infrastructureSubnetId"]
    assert by_name(resubnetted, "app").op == REPLACE, "the app's environment id is create-only and becomes unknown"


def test_a_create_only_container_app_environment_forces_replacement():
    def app(env: str) -> dict[str, Any]:
        return resource(
            "azure-native:app:ContainerApp",
            "app",
            {"containerAppName": "ca", "resourceGroupName": RG, "managedEnvironmentId": env, "location": "westus3"},
        )

    change = by_name(diff_plans(document(app("/env/a")), document(app("/env/b"))), "app")
    assert change.op == REPLACE and "x-ms-mutability" in (change.properties[0].why or "")
    assert not change.data_loss, "a container app holds no data"


def test_a_documented_but_unmarked_immutable_property_is_an_update_azure_refuses():
    """Storage's location is not marked create-only in the spec (Azure/azure-rest-api-specs#11083): azure-native sends
    an update and ARM refuses it, so `pulumi up` fails instead of replacing."""
    diff = diff_plans(document(storage()), document(storage(location="eastus")))
    change = by_name(diff, "st")
    assert change.op == UPDATE and change.refused and not diff.data_loss
    assert "REFUSED" in render_diff(diff) and "11083" in render_diff(diff)


def test_ignore_changes_and_replace_on_changes_options_are_honoured():
    base = document(storage())
    new = document(storage(minimumTlsVersion="TLS1_3", sku={"name": "Standard_ZRS"}))
    new["plan"]["resources"][0]["ignoreChanges"] = ["minimumTlsVersion"]
    new["plan"]["resources"][0]["replaceOnChanges"] = ["sku.name"]
    new["plan"]["resources"][0]["deleteBeforeReplace"] = True
    change = by_name(diff_plans(base, new), "st")
    assert [p.path for p in change.properties] == ["sku.name"]
    assert change.op == REPLACE and change.delete_before_replace and change.data_loss


def test_a_replaced_resource_cascades_to_inputs_that_hold_its_id():
    kv_id = f"{SUB}/Microsoft.KeyVault/vaults/kv-acme"
    lock = resource(
        "azure-native:authorization:ManagementLockByScope",
        "kv-lock",
        {"scope": kv_id, "level": "CanNotDelete", "lockName": "lock"},
    )
    endpoint = resource(
        "azure-native:network:PrivateEndpoint",
        "kv-pe",
        {
            "privateEndpointName": "pe",
            "resourceGroupName": RG,
            "location": "westus3",
            "privateLinkServiceConnections": [{"privateLinkServiceId": kv_id, "groupIds": ["vault"]}],
        },
    )
    diff = diff_plans(document(vault(), lock, endpoint), document(vault(name="kv-acme2"), lock, endpoint))
    assert by_name(diff, "kv-lock").op == REPLACE, "the lock's scope (a path parameter) is the vault's new id"
    pe = by_name(diff, "kv-pe")
    assert pe.op == UPDATE and show_value(pe.properties[0].new) == "(known after apply)"


def test_removing_a_component_deletes_its_children_and_flags_data_holders():
    component = resource("acme:ml:Workspace", "ml", {}, custom=False)
    workspace = resource(
        "azure-native:machinelearningservices:Workspace",
        "ml-ws",
        {"workspaceName": "mlw", "resourceGroupName": RG, "location": "westus3"},
        parent=component["urn"],
        protect=True,
    )
    diff = diff_plans(document(storage(), component, workspace), document(storage()))
    assert diff.counts()[DELETE] == 1, "components are listed, not counted"
    (loss,) = diff.data_loss
    assert loss.name == "ml-ws" and loss.component == "ml" and "experiments" in loss.data_loss_text()


def test_policy_delta_lists_new_and_resolved_findings():
    def finding(policy: str, name: str) -> dict[str, Any]:
        return {
            "policy": policy,
            "enforcementLevel": "mandatory",
            "resourceType": "t",
            "resourceName": name,
            "urn": f"u-{name}",
            "message": f"{policy} on {name}",
        }

    base = document(storage(), violations=[finding("a", "x"), finding("b", "y")])
    new = document(storage(), violations=[finding("b", "y"), finding("c", "z")])
    delta = diff_plans(base, new).policy
    assert delta is not None
    assert [f.policy for f in delta.new] == ["c"] and [f.policy for f in delta.resolved] == ["a"]
    assert delta.unchanged == 1
    no_base = diff_plans(document(storage()), new).policy
    assert no_base is not None and not no_base.base_ran and len(no_base.new) == 2


def test_markdown_puts_data_loss_first_and_details_collapsed():
    base = document(vault(), pool(4.0))
    new = document(vault(name="kv-acme2"), pool(8.0))
    diff = diff_plans(base, new)
    text = render_markdown({**new, "cost": {}, "diff": diff.as_json()})
    assert text.startswith("<!-- aiinfra-plan:dev -->")
    assert text.index("DATA LOSS") < text.index("**Plan:**") < text.index("<details>")
    assert "| ~ | (outside components) | containerservice:AgentPool `pool-gpu` | `maxCount`: `4` → `8` |" in text


def test_a_file_that_is_not_a_plan_is_a_clear_error():
    with pytest.raises(DiffError, match="plan.resources"):
        check_plan_document({"cost": {}}, "x.json")


def test_comparing_plans_of_different_stacks_says_so():
    base = document(storage())
    base["plan"]["stack"] = "prd"
    assert "note: the base plan is of stack 'prd', not 'dev'" in render_diff(diff_plans(base, document(storage())))


def test_unknown_ids_of_replaced_resources_do_not_match_other_unknowns():
    """Under `pulumi preview` semantics ids are unknown: an unknown input elsewhere is not the replaced resource's id."""
    kv, other = (
        vault("westus3"),
        resource(
            "azure-native:network:PrivateEndpoint",
            "pe",
            {"privateEndpointName": "pe", "resourceGroupName": RG, "subnet": {"id": "<computed>"}},
        ),
    )
    kv["id"] = "<computed>"
    moved = copy.deepcopy(kv)
    moved["inputs"]["vaultName"] = "kv-acme2"
    diff = diff_plans(document(kv, other), document(moved, other))
    assert [c.name for c in diff.changes] == ["kv"]


def test_long_values_keep_both_ends():
    rid = f"{SUB}/Microsoft.MachineLearningServices/workspaces/mlw-research"
    text = show_value(rid, limit=40)
    assert len(text) == 40 and text.startswith('"/subscri') and text.endswith('workspaces/mlw-research"')


def test_a_huge_change_still_fits_a_github_comment():
    from aiinfra.engine.markdown import COMMENT_LIMIT

    pools = [pool(4.0, f"p{i:04d}") for i in range(600)]
    grown = [pool(8.0, f"p{i:04d}") for i in range(600)]
    for p in grown:
        p["inputs"]["vmSize"] = "Standard_NC96ads_A100_v4_with_a_long_suffix_to_make_rows_long"
    diff = diff_plans(document(*pools), document(*grown))
    text = render_markdown({**document(*grown), "cost": {}, "diff": diff.as_json()})
    assert len(text) < COMMENT_LIMIT and "more rows left out" in text and text.startswith("<!-- aiinfra-plan:dev -->")


def test_a_cascaded_id_on_an_ignored_path_is_no_change():
    kv_id = f"{SUB}/Microsoft.KeyVault/vaults/kv-acme"
    endpoint = resource(
        "azure-native:network:PrivateEndpoint",
        "kv-pe",
        {
            "privateEndpointName": "pe",
            "resourceGroupName": RG,
            "privateLinkServiceConnections": [{"privateLinkServiceId": kv_id}],
        },
        ignoreChanges=["privateLinkServiceConnections"],
    )
    diff = diff_plans(document(vault(), endpoint), document(vault(name="kv-acme2"), endpoint))
    assert [c.name for c in diff.changes] == ["kv"]


def _role_assignment(principal: str, **options: Any) -> dict[str, Any]:
    return resource(
        "azure-native:authorization:RoleAssignment",
        "ra",
        {
            "scope": f"{SUB}/Microsoft.Storage/storageAccounts/stacme",
            "roleAssignmentName": "6f1c3e1a-0000-4000-8000-000000000001",
            "principalId": principal,
            "principalType": "ServicePrincipal",
            "roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/ba92f5b4-2d11-453d-a403-e96b0029c9fe",
        },
        rid="/ra",
        **options,
    )


@pytest.mark.parametrize("delete_first", [False, True])
def test_a_role_assignment_with_a_new_principal_is_replaced_by_the_provider(delete_first):
    """Review finding 6b: pulumi-azure-native forces replacement of a role assignment whose principalId changes
    (provider/pkg/gen/replacement.go forceNewMap; pulumi/pulumi-azure-native#771, PR #1010); the diff says so, and
    says when the old one goes first (deleteBeforeReplace)."""
    options = {"deleteBeforeReplace": True} if delete_first else {}
    diff = diff_plans(
        document(_role_assignment("11111111-1111-1111-1111-111111111111", **options)),
        document(_role_assignment("22222222-2222-2222-2222-222222222222", **options)),
    )
    [change] = diff.changes
    assert change.op == REPLACE
    [prop] = change.properties
    assert prop.path == "principalId" and prop.effect == REPLACE and "forceNewMap" in (prop.why or "")
    assert ("[delete before replace]" in render_diff(diff)) is delete_first


def test_a_role_assignment_on_a_new_scope_is_replaced():
    old = _role_assignment("11111111-1111-1111-1111-111111111111")
    new = copy.deepcopy(old)
    new["inputs"]["scope"] = f"{SUB}/Microsoft.KeyVault/vaults/kvacme"
    [change] = diff_plans(document(old), document(new)).changes
    assert change.op == REPLACE


def test_moving_a_private_cluster_to_another_dns_zone_is_refused():
    """Learn, "Create a private AKS cluster": the private DNS zone cannot be changed after the cluster is created."""

    def cluster(zone: str) -> dict[str, Any]:
        return resource(
            "azure-native:containerservice:ManagedCluster",
            "aks",
            {
                "resourceName": "aks-acme",
                "resourceGroupName": RG,
                "location": "westus3",
                "apiServerAccessProfile": {"enablePrivateCluster": True, "privateDNSZone": f"{SUB}/{zone}"},
            },
            rid=f"{SUB}/Microsoft.ContainerService/managedClusters/aks-acme",
        )

    zones = "Microsoft.Network/privateDnsZones/"
    diff = diff_plans(
        document(cluster(zones + "privatelink.westus3.azmk8s.io")),
        document(cluster(zones + "aks.privatelink.westus3.azmk8s.io")),
    )
    change = by_name(diff, "aks")
    assert change.op == UPDATE and change.refused
    assert "private DNS zone" in render_diff(diff)
