"""What a platform engineer relies on in each environment's Azure ML workspaces, from the recorded plan."""

from __future__ import annotations

import re
from collections.abc import Callable

import yaml
from aml_rbac import grants
from helpers import children, group_ids, one, private_endpoints_to, run_here, waits_for_rbac, zone_names_of

from aiinfra.components.interfaces import BUILTIN_ROLES
from aiinfra.components.secure_workspace import FQDN_RULE_SETS, OutboundRule, fqdn_rule_set_rules
from aiinfra.components.shared_services import COSMOS_DB_APPLICATION_IDS
from aiinfra.engine import Plan, Registration

WORKSPACE = "azure-native:machinelearningservices:Workspace"
COMPUTE = "azure-native:machinelearningservices:Compute"
COMPONENT = "aiinfra:ml:SecureWorkspace"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
ROLE_DEFINITION = "azure-native:authorization:RoleDefinition"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
GROUP = "azuread:index/group:Group"
WS = "Microsoft.MachineLearningServices/workspaces"


def config_of(repo, env: str) -> dict:
    return yaml.safe_load((repo / f"Pulumi.{env}.yaml").read_text())["config"]["aiinfra:platform"]


def components(plan: Plan) -> list[Registration]:
    found = plan.of_type(COMPONENT)
    assert found, "every environment has at least one workspace"
    return found


def managed_network_components(plan: Plan) -> list[Registration]:
    """The workspaces with a managed network (all but the AKS workspace `aksml`: Kubernetes compute is not
    supported in a managed network)."""
    found = [
        c for c in components(plan) if workspace_of(plan, c).inputs["managedNetwork"]["isolationMode"] != "Disabled"
    ]
    assert found
    return found


def workspace_of(plan: Plan, component: Registration) -> Registration:
    [workspace] = children(plan, component, WORKSPACE)
    return workspace


def by_id(plan: Plan, type_token: str, rid: str) -> Registration:
    [found] = [r for r in plan.of_type(type_token) if r.id == rid]
    return found


def role_guid(assignment: Registration) -> str:
    return assignment.inputs["roleDefinitionId"].rsplit("/", 1)[-1]


def test_each_configured_workspace_is_built(plan, env, repo):
    names = {w["name"] for w in config_of(repo, env)["workspaces"]}
    assert {workspace_of(plan, c).inputs["friendlyName"] for c in components(plan)} == names
    exported = plan.stack_outputs["mlWorkspaces"]
    assert set(exported) == names
    for component in components(plan):
        workspace = workspace_of(plan, component)
        assert exported[workspace.inputs["friendlyName"]]["id"] == workspace.id


def test_no_public_access(plan):
    for component in components(plan):
        workspace = workspace_of(plan, component)
        assert workspace.inputs["publicNetworkAccess"] == "Disabled"
        assert workspace.inputs["allowPublicAccessWhenBehindVnet"] is False


def test_private_endpoint_registers_in_both_azure_ml_zones(plan):
    for component in components(plan):
        workspace = workspace_of(plan, component)
        [endpoint] = private_endpoints_to(plan, workspace)
        assert group_ids(endpoint) == ["amlworkspace"]
        assert zone_names_of(plan, endpoint) == {"privatelink.api.azureml.ms", "privatelink.notebooks.azure.net"}
        subnet = one(plan, "azure-native:network:Subnet", "shared-snet-private-endpoints")
        assert endpoint.inputs["subnet"]["id"] == subnet.id


def test_linked_to_the_shared_services_with_identity_based_datastores(plan):
    shared = {
        key: one(plan, token, name)
        for key, token, name in (
            ("keyVault", "azure-native:keyvault:Vault", "shared-kv"),
            ("storageAccount", "azure-native:storage:StorageAccount", None),
            ("containerRegistry", "azure-native:containerregistry:Registry", None),
            ("applicationInsights", "azure-native:applicationinsights:Component", None),
        )
    }
    for component in components(plan):
        workspace = workspace_of(plan, component)
        for key, resource in shared.items():
            assert workspace.inputs[key] == resource.id, key
        assert workspace.inputs["systemDatastoresAuthMode"].lower() == "identity"
        assert workspace.inputs["enableDataIsolation"] is True  # several workspaces share storage, vault, registry
        identity = workspace.inputs["identity"]
        # Issue 12 item 14: user-assigned only (no system-assigned principal without grants).
        assert identity["type"] == "UserAssigned"
        primary = workspace.inputs["primaryUserAssignedIdentity"]
        assert primary in identity["userAssignedIdentities"]
        assert by_id(plan, IDENTITY, primary).parent == component.urn


def test_cmk_and_hbi_where_the_environment_asks(plan, env, repo):
    settings = {w["name"]: w for w in config_of(repo, env)["workspaces"]}
    for component in components(plan):
        workspace = workspace_of(plan, component)
        wanted = settings[workspace.inputs["friendlyName"]]
        assert workspace.inputs["hbiWorkspace"] is bool(wanted.get("hbiWorkspace", False))
        if not wanted.get("requireCmk"):
            assert "encryption" not in workspace.inputs
            continue
        encryption = workspace.inputs["encryption"]
        vault = one(plan, "azure-native:keyvault:Vault", "shared-kv-cmk")
        key = one(plan, "azure-native:keyvault:Key")
        cmk_identity = one(plan, IDENTITY, "shared-cmk-id")
        assert encryption["status"] == "Enabled"
        assert encryption["keyVaultProperties"]["keyVaultArmId"] == vault.id
        assert encryption["keyVaultProperties"]["keyIdentifier"].startswith(key.outputs["keyUri"])
        assert encryption["identity"]["userAssignedIdentity"] == cmk_identity.id
        assert cmk_identity.id in workspace.inputs["identity"]["userAssignedIdentities"]
        key_grant = one(plan, ROLE_ASSIGNMENT, "shared-cmk-crypto-user")
        # The key must be readable when the workspace is created, and the grant in effect (RBAC propagation).
        assert waits_for_rbac(plan, workspace, key_grant.urn)
        # Issue 12 item 1 (Learn "how-to-setup-customer-managed-keys"; AVM customer_managed_key example): the Azure
        # Cosmos DB service principal, looked up by application id, may wrap/unwrap with the key.
        cosmos = one(plan, ROLE_ASSIGNMENT, "shared-cmk-cosmos-db")
        assert cosmos.inputs["scope"] == key.id
        assert role_guid(cosmos) == BUILTIN_ROLES["Key Vault Crypto Service Encryption User"]
        assert cosmos.inputs["principalType"] == "ServicePrincipal"
        assert cosmos.inputs["principalId"] not in (
            cmk_identity.outputs["principalId"],
            COSMOS_DB_APPLICATION_IDS["AzureCloud"],
        )
        assert waits_for_rbac(plan, workspace, cosmos.urn)
    if env == "prd":
        assert all(
            workspace_of(plan, c).inputs["hbiWorkspace"] and "encryption" in workspace_of(plan, c).inputs
            for c in components(plan)
        )


def test_managed_network_is_provisioned_with_the_workspace_before_any_compute(plan, env):
    expected = "AllowInternetOutbound" if env == "dev" else "AllowOnlyApprovedOutbound"
    for component in managed_network_components(plan):
        workspace = workspace_of(plan, component)
        assert workspace.inputs["managedNetwork"]["isolationMode"] == expected
        assert workspace.inputs["provisionNetworkNow"] is True
        computes = [
            c
            for c in plan.of_type(COMPUTE)
            if c.inputs["workspaceName"] == workspace.inputs["workspaceName"]
            and c.inputs["properties"]["computeType"] == "AmlCompute"
        ]
        assert computes
        for compute in computes:
            assert workspace.urn in compute.dependencies, compute.name
            # Computes of a managed-network workspace live in the managed VNet: no subnet of ours.
            assert "subnet" not in compute.inputs["properties"]["properties"], compute.name


def test_managed_network_reaches_adls_through_a_private_endpoint(plan):
    storage = one(plan, "azure-native:storage:StorageAccount")
    for component in managed_network_components(plan):
        rules = workspace_of(plan, component).inputs["managedNetwork"]["outboundRules"]
        dfs = rules["aiinfra-storage-dfs"]
        assert dfs["type"] == "PrivateEndpoint" and dfs["category"] == "UserDefined"
        assert dfs["destination"] == {
            "serviceResourceId": storage.id,
            "subresourceTarget": "dfs",
            "sparkEnabled": False,
        }


def test_fqdn_rules_come_with_a_firewall_sku_only_where_configured(plan, env, repo):
    settings = {w["name"]: w for w in config_of(repo, env)["workspaces"]}
    for component in components(plan):
        network = workspace_of(plan, component).inputs["managedNetwork"]
        name = workspace_of(plan, component).inputs["friendlyName"]
        configured = {r["name"]: r for r in settings[name].get("outboundRules", [])}
        for rule_name, rule in configured.items():
            assert network["outboundRules"][rule_name]["type"] == rule["type"]
        fqdn = {r["destination"] for r in network.get("outboundRules", {}).values() if r["type"] == "FQDN"}
        if network["isolationMode"] == "AllowOnlyApprovedOutbound":
            # Issue 12 item 9 (Learn, managed network: "Access public machine learning packages"): image builds
            # reach pypi, conda and Docker Hub by default; each FQDN rule needs the firewall.
            sets = settings[name].get("fqdnRuleSets", ["python-packages", "docker-hub"])
            assert {h for s in sets for h in FQDN_RULE_SETS[s]} <= fqdn
            assert {"pypi.org", "*.pythonhosted.org", "*.anaconda.org", "docker.io"} <= fqdn
            assert network["firewallSku"] == settings[name].get("firewallSku", "Basic")
        else:
            assert not fqdn and "firewallSku" not in network
    if env == "prd":
        # Learn's "Use HuggingFace models" list, exactly (plus the Hub API host).
        learn = {
            "docker.io",
            "*.docker.io",
            "*.docker.com",
            "production.cloudflare.docker.com",
            "cdn.auth0.com",
            "cdn-lfs.huggingface.co",
        }
        research = workspace_of(plan, next(c for c in components(plan) if c.name == "ml-research"))
        hosts = {
            r["destination"] for r in research.inputs["managedNetwork"]["outboundRules"].values() if r["type"] == "FQDN"
        }
        assert learn <= hosts and "huggingface.co" in hosts


def test_fqdn_rule_sets_skip_hosts_a_rule_of_the_caller_allows():
    own = [OutboundRule(name="hf", type="FQDN", destination="huggingface.co")]
    rules = fqdn_rule_set_rules(["huggingface", "docker-hub"], own)
    destinations = [r.destination for r in rules.values()]
    assert "huggingface.co" not in destinations
    assert len(destinations) == len(set(destinations)) == len(FQDN_RULE_SETS["huggingface"]) - 1
    assert all(name.startswith("aiinfra-fqdn-") for name in rules)


def test_workspace_identity_is_granted_its_roles_before_the_workspace(plan):
    storage = one(plan, "azure-native:storage:StorageAccount")
    vault = one(plan, "azure-native:keyvault:Vault", "shared-kv")
    registry = one(plan, "azure-native:containerregistry:Registry")
    insights = one(plan, "azure-native:applicationinsights:Component")
    required = {
        (storage.id, "Contributor"),
        (storage.id, "Storage File Data Privileged Contributor"),
        (vault.id, "Contributor"),
        (vault.id, "Key Vault Administrator"),
        (registry.id, "Contributor"),
        (insights.id, "Contributor"),
        (storage.id, "Azure AI Enterprise Network Connection Approver"),
        (vault.id, "Azure AI Enterprise Network Connection Approver"),
        (registry.id, "Azure AI Enterprise Network Connection Approver"),
    }
    for component in managed_network_components(plan):
        workspace = workspace_of(plan, component)
        identity = by_id(plan, IDENTITY, workspace.inputs["primaryUserAssignedIdentity"])
        mine = [
            a
            for a in children(plan, component, ROLE_ASSIGNMENT)
            if a.inputs["principalId"] == identity.outputs["principalId"]
        ]
        granted = {(a.inputs["scope"], role_guid(a)) for a in mine}
        for scope, role in required:
            assert (scope, BUILTIN_ROLES[role]) in granted, (component.name, role)
            [assignment] = [a for a in mine if a.inputs["scope"] == scope and role_guid(a) == BUILTIN_ROLES[role]]
            # Created before the workspace, and given time to take effect (issue 12 item 5).
            assert waits_for_rbac(plan, workspace, assignment.urn), (component.name, role)
        assert (workspace.id, BUILTIN_ROLES["Contributor"]) in granted
        # Review finding 3: with data isolation on and shared keys off, the user-assigned workspace identity still
        # needs its blob role from us (Learn, "Set up authentication between Azure Machine Learning and other
        # services": RBAC roles by scenario lists Storage Blob Data Contributor for a user-assigned workspace identity,
        # and its role assignments are "managed by you"; quickstart machine-learning-dependencies-role-assignment).
        # It is account-wide (no GUID before the workspace exists) and in place before the workspace.
        assert workspace.inputs["enableDataIsolation"] is True
        [blob] = [a for a in mine if role_guid(a) == BUILTIN_ROLES["Storage Blob Data Contributor"]]
        assert blob.inputs["scope"] == storage.id and "condition" not in blob.inputs
        assert waits_for_rbac(plan, workspace, blob.urn), component.name
        # Issue 12 item 8 (Learn, managed network): Reader on the storage private endpoints it reaches.
        storage_endpoints = [pe for pe in private_endpoints_to(plan, storage) if pe.name.startswith("shared-")]
        assert len(storage_endpoints) == 3
        for endpoint in storage_endpoints:
            assert (endpoint.id, BUILTIN_ROLES["Reader"]) in granted, endpoint.name
        # Issue 12 item 7: no workload identity holds a role on the vault with the customer-managed key.
        for cmk_vault in [v for v in plan.of_type("azure-native:keyvault:Vault") if v.name == "shared-kv-cmk"]:
            assert not [a for a in plan.of_type(ROLE_ASSIGNMENT) if a.inputs["scope"] == cmk_vault.id]


def test_data_scientists_get_data_roles_on_their_workspace_only(plan):
    """Issue 12 item 8 (Learn, "Use Azure Machine Learning with storage that has key access disabled"): with shared
    keys off, people need blob and file data roles; blob access is limited to the workspace's containers."""
    storage = one(plan, "azure-native:storage:StorageAccount")
    for component in components(plan):
        workspace = workspace_of(plan, component)
        group = [a for a in children(plan, component, ROLE_ASSIGNMENT) if a.name.endswith("-data-scientists-role")]
        scientists = group[0].inputs["principalId"]
        data = {
            role_guid(a): a
            for a in children(plan, component, ROLE_ASSIGNMENT)
            if a.inputs["principalId"] == scientists and a.inputs["scope"] == storage.id
        }
        blob = data[BUILTIN_ROLES["Storage Blob Data Contributor"]]
        assert blob.inputs["principalType"] == "Group"
        assert f"StringLike '*{workspace.outputs['workspaceId']}*'" in blob.inputs["condition"]
        assert BUILTIN_ROLES["Storage File Data Privileged Contributor"] in data


def test_compute_identity_can_pull_images_and_read_data_and_computes_wait_for_it(plan):
    for component in components(plan):
        computes = [
            c
            for c in plan.of_type(COMPUTE)
            if c.inputs["workspaceName"] == workspace_of(plan, component).inputs["workspaceName"]
            and c.inputs["properties"]["computeType"] == "AmlCompute"
        ]
        [identity_id] = {i for c in computes for i in c.inputs["identity"]["userAssignedIdentities"]}
        identity = by_id(plan, IDENTITY, identity_id)
        assert identity.parent == component.urn
        assert identity.id != workspace_of(plan, component).inputs["primaryUserAssignedIdentity"]
        # (Datastore roles on one container of another account are tested in tests/ops/test_ops_datastores.py.)
        grants_ = [
            a
            for a in children(plan, component, ROLE_ASSIGNMENT)
            if a.inputs["principalId"] == identity.outputs["principalId"]
            and "/blobServices/default/containers/" not in a.inputs["scope"]
        ]
        assert {role_guid(a) for a in grants_} == {
            BUILTIN_ROLES[r] for r in ("AcrPull", "Storage Blob Data Contributor", "Key Vault Secrets User")
        }
        # Issue 12 item 7: blob data only in this workspace's containers (ABAC on the container name).
        [blob] = [a for a in grants_ if role_guid(a) == BUILTIN_ROLES["Storage Blob Data Contributor"]]
        guid = workspace_of(plan, component).outputs["workspaceId"]
        assert blob.inputs["conditionVersion"] == "2.0"
        assert f"containers:name] StringLike '*{guid}*'" in blob.inputs["condition"]
        for compute in computes:
            assert all(waits_for_rbac(plan, compute, a.urn) for a in grants_), compute.name


def test_image_builds_run_on_a_scale_to_zero_cpu_cluster(plan):
    for component in components(plan):
        workspace = workspace_of(plan, component)
        build_name = workspace.inputs["imageBuildCompute"]
        [cluster] = [c for c in children(plan, component, COMPUTE) if c.inputs["computeName"] == build_name]
        props = cluster.inputs["properties"]["properties"]
        assert not props["vmSize"].startswith("Standard_N")  # CPU
        assert props["scaleSettings"]["minNodeCount"] == 0
        assert props["enableNodePublicIp"] is False


def test_diagnostics_send_the_aml_events_to_log_analytics(plan):
    logs = one(plan, "azure-native:operationalinsights:Workspace")
    for component in components(plan):
        workspace = workspace_of(plan, component)
        [setting] = [
            d for d in plan.of_type("azure-native:monitor:DiagnosticSetting") if d.inputs["resourceUri"] == workspace.id
        ]
        assert setting.inputs["workspaceId"] == logs.id
        categories = {entry["category"] for entry in setting.inputs["logs"] if entry["enabled"]}
        assert {"AmlComputeClusterEvent", "AmlComputeJobEvent", "AmlRunStatusChangedEvent"} <= categories
        assert all("categoryGroup" not in entry for entry in setting.inputs["logs"])


def test_prd_workspaces_are_protected_but_managed_network_ones_not_locked(plan, env):
    """Issue 12 item 6 (Learn, "Managed virtual network isolation", limitations): a scope lock blocks the managed
    network's operations and the replacement of computes: `protect` only."""
    locks = {lock.inputs["scope"] for lock in plan.of_type("azure-native:authorization:ManagementLockByScope")}
    managed = 0
    for component in components(plan):
        workspace = workspace_of(plan, component)
        assert workspace.protect is (env == "prd")
        if workspace.inputs["managedNetwork"]["isolationMode"] == "Disabled":
            continue  # the AKS workspace (issue 13): no managed network, so its lock stays where the env locks
        managed += 1
        assert workspace.id not in locks
    assert managed >= 1


_bootstrap_plans: dict[str, Plan] = {}


def data_scientist_role(plan: Plan, component: Registration, repo) -> Registration:
    """The workspace's own role, or (our stacks: the pipeline may not define roles, issue 14) bootstrap's."""
    own = children(plan, component, ROLE_DEFINITION)
    if own:
        [role] = own
        return role
    if plan.stack not in _bootstrap_plans:
        _bootstrap_plans[plan.stack] = run_here(repo / "bootstrap", plan.stack)
    [role] = [r for r in _bootstrap_plans[plan.stack].of_type(ROLE_DEFINITION) if r.name == "data-scientist-role"]
    return role


def test_data_scientists_get_a_custom_role_that_cannot_touch_compute_or_the_workspace(plan, repo):
    for component in components(plan):
        workspace = workspace_of(plan, component)
        role = data_scientist_role(plan, component, repo)
        assert workspace.id is not None
        group = workspace.id.split("/providers/")[0]
        assert role.inputs["assignableScopes"] in ([workspace.id], [group])
        assert role.inputs["roleType"] == "CustomRole"
        assert re.fullmatch(r"[0-9a-f-]{36}", role.inputs["roleDefinitionId"])
        [permission] = role.inputs["permissions"]
        actions, not_actions = permission["actions"], permission["notActions"]

        def can(operation: str, actions=actions, not_actions=not_actions) -> bool:
            return grants(actions, not_actions, f"{WS}/{operation}")

        for forbidden in (
            "computes/write",
            "computes/delete",
            "write",
            "delete",
            "computes/listKeys/action",
            "listKeys/action",
            "outboundRules/write",
            "privateEndpointConnections/write",
        ):
            assert not can(forbidden), forbidden
        for allowed in (
            "read",
            "jobs/write",
            "jobs/read",
            "computes/read",
            "experiments/runs/submit/action",
            "environments/write",
            "models/write",
            "data/versions/write",
            "datastores/read",
        ):
            assert can(allowed), allowed
        assert not permission["dataActions"]


def test_groups_get_their_roles_on_the_workspace(plan, env, repo):
    settings = {w["name"]: w for w in config_of(repo, env)["workspaces"]}
    for component in components(plan):
        workspace = workspace_of(plan, component)
        access = settings[workspace.inputs["friendlyName"]].get("access", {})
        groups = {g.name.removeprefix(component.name + "-"): g for g in children(plan, component, GROUP)}
        scientists = access.get("dataScientistsGroupObjectId") or groups["data-scientists"].outputs["objectId"]
        admins = access.get("adminsGroupObjectId") or groups["admins"].outputs["objectId"]
        assert set(groups) == {
            k
            for k, key in (("data-scientists", "dataScientistsGroupObjectId"), ("admins", "adminsGroupObjectId"))
            if not access.get(key)
        }
        assert all(g.inputs["securityEnabled"] is True for g in groups.values())
        on_workspace = [a for a in children(plan, component, ROLE_ASSIGNMENT) if a.inputs["scope"] == workspace.id]
        role = data_scientist_role(plan, component, repo)
        by_principal: dict[str, set[str]] = {}
        for assignment in on_workspace:
            if assignment.inputs["principalType"] == "Group":
                by_principal.setdefault(assignment.inputs["principalId"], set()).add(role_guid(assignment))
        assert by_principal[scientists] == {role.inputs["roleDefinitionId"]}
        assert by_principal[admins] == {BUILTIN_ROLES["AzureML Compute Operator"], BUILTIN_ROLES["Contributor"]}


def test_role_assignment_and_role_names_are_stable_across_runs(plan_of: Callable[[str], Plan], repo):
    first = plan_of("dev")
    again = run_here(repo, "dev")

    def names(p: Plan) -> dict[str, str]:
        found = {r.urn: r.inputs["roleAssignmentName"] for r in p.of_type(ROLE_ASSIGNMENT)}
        found.update({r.urn: r.inputs["roleDefinitionId"] for r in p.of_type(ROLE_DEFINITION)})
        return found

    assert names(first) == names(again)
    values = list(names(first).values())
    assert len(values) == len(set(values)), "every role assignment has its own name"


def test_dev_creates_groups_and_prd_uses_the_existing_ones(plan_of):
    dev, prd = plan_of("dev"), plan_of("prd")
    assert len(dev.of_type(GROUP)) == 2 * len(components(dev))
    assert not prd.of_type(GROUP)


def test_without_data_isolation_blob_roles_are_not_conditioned(repo, tmp_path):
    """The ABAC condition keys on the workspace GUID in container names, which only data isolation guarantees."""
    config = yaml.safe_load((repo / "Pulumi.dev.yaml").read_text())
    for workspace in config["config"]["aiinfra:platform"]["workspaces"]:
        workspace["enableDataIsolation"] = False
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text(yaml.safe_dump(config))
    plan = run_here(repo, "dev", stack_file=stack_file)
    blob = [
        a
        for a in plan.of_type(ROLE_ASSIGNMENT)
        if a.name.endswith("-st-storage-blob-data-contributor") and a.name.startswith("ml-") and "compute-id" in a.name
    ]
    assert blob and all("condition" not in a.inputs for a in blob)
    # The workspace identity's blob role is account-wide with or without isolation (review finding 3).
    workspace_blob = [
        a
        for a in plan.of_type(ROLE_ASSIGNMENT)
        if a.name.startswith("ml-") and a.name.endswith("-id-st-storage-blob-data-contributor")
    ]
    assert workspace_blob and all("condition" not in a.inputs for a in workspace_blob)


def test_no_grant_is_attempted_on_an_outbound_rule_target_outside_the_environment(plan_of):
    """The deployer's rights end at the environment's resource group (DeployerIdentity): an approver grant on another
    team's data lake would fail the whole `up` with AuthorizationFailed. The preview says who must approve instead."""
    plan = plan_of("prd")
    foreign = [
        r
        for r in plan.of_type(ROLE_ASSIGNMENT)
        if isinstance(r.inputs["scope"], str)
        and "/resourceGroups/rg-data-prd/" in r.inputs["scope"]
        and "network-connection-approver" in r.name
    ]
    assert foreign == []
    assert any("outside this environment's resource group" in w and "datalake" in w for w in plan.warnings)


def test_computes_wait_for_the_workspace_identitys_contributor_on_the_workspace(plan_of):
    """Learn, "Set up authentication between Azure Machine Learning and other services": a user-assigned workspace
    identity needs Contributor on the workspace; it can only follow the workspace, and computes wait for it."""
    from helpers import waits_for_rbac

    plan = plan_of("prd")
    grants = [r for r in plan.of_type(ROLE_ASSIGNMENT) if r.name.endswith("-id-mlw-contributor")]
    assert len(grants) == 3
    for grant in grants:
        workspace_component = grant.parent
        computes = [
            r for r in plan.of_type("azure-native:machinelearningservices:Compute") if r.parent == workspace_component
        ]
        assert computes and all(waits_for_rbac(plan, c, grant.urn) for c in computes), grant.name
