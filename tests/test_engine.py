"""The offline engine runs any Pulumi Python program, deterministically, and says clearly what it cannot do."""

from __future__ import annotations

import gc
import json
import re
from pathlib import Path

import pytest

from aiinfra.engine import EngineError, ProgramError, ProgramFailure, run_program
from aiinfra.engine.arm import arm_type, resource_id
from stacks import preview

FIXTURES = Path(__file__).parent / "fixtures"


def program(directory: Path, name: str, source: str, config: str = "config: {}\n") -> Path:
    """A Pulumi project in `directory`: `name`, stack `dev` with `config`, `__main__.py` holding `source`."""
    (directory / "Pulumi.yaml").write_text(f"name: {name}\nruntime: python\n")
    (directory / "Pulumi.dev.yaml").write_text(config)
    (directory / "__main__.py").write_text(source)
    return directory


@pytest.mark.integration  # the CLI runs the program in its own process
def test_two_runs_give_byte_identical_json(tmp_path, capsys):
    paths = []
    for i in range(2):
        path = tmp_path / f"plan-{i}.json"
        assert preview.main(["prd", "--json", str(path), "--quiet", "--no-policies"]) == 0
        paths.append(path)
    capsys.readouterr()
    assert paths[0].read_bytes() == paths[1].read_bytes()
    document = json.loads(paths[0].read_text())
    assert document["plan"]["resourceCount"] == len(document["plan"]["resources"]) > 50


def test_records_what_the_engine_would_see(plan_of):
    plan = plan_of("prd")
    by_urn = plan.by_urn()
    account = next(r for r in plan.resources if r.type == "azure-native:storage:StorageAccount")
    assert account.protect is True
    assert account.parent and by_urn[account.parent].type == "aiinfra:shared:SharedServices"
    assert account.dependencies, "the storage account depends on the resource group and the CMK grant"
    assert all(dep in by_urn for deps in account.property_dependencies.values() for dep in deps)
    assert re.fullmatch(
        r"/subscriptions/0{8}-0{4}-0{4}-0{4}-0{12}/resourceGroups/rg-aiinfra-prd-wus3/providers/"
        r"Microsoft\.Storage/storageAccounts/st[a-z0-9]+",
        account.id or "",
    )
    identity = next(r for r in plan.resources if r.type == "azure-native:managedidentity:UserAssignedIdentity")
    assert re.fullmatch(r"[0-9a-f-]{36}", identity.outputs["principalId"])


@pytest.mark.integration  # the program runs in its own process
def test_runs_a_strangers_program(tmp_path):
    config = "config:\n  stranger:size: 3\n  stranger:password:\n    secure: v1:abc\n"
    program(
        tmp_path,
        "stranger",
        config=config,
        source=(
            "import pulumi\n"
            "from pulumi_azure_native import resources, network\n"
            "cfg = pulumi.Config()\n"
            "assert cfg.require_secret('password') is not None\n"
            "rg = resources.ResourceGroup('rg', resource_group_name='rg-stranger')\n"
            "for i in range(cfg.require_int('size')):\n"
            "    network.VirtualNetwork(f'vnet{i}', resource_group_name=rg.name,\n"
            "        address_space={'address_prefixes': [f'10.{i}.0.0/16']})\n"
            "pulumi.export('rg', rg.name)\n"
        ),
    )
    plan = run_program(tmp_path, "dev")
    assert sorted(r.name for r in plan.resources) == ["rg", "vnet0", "vnet1", "vnet2"]
    assert plan.stack_outputs == {"rg": "rg-stranger"}


@pytest.mark.integration  # the program runs in its own process
def test_every_invoke_is_answered_never_an_unknown_invoke_error(tmp_path):
    """Any data source of any provider the program imported gets an answer with every field its SDK declares."""
    program(
        tmp_path,
        "lookup",
        (
            "import pulumi\n"
            "from pulumi_azure_native import machinelearningservices, network, operationalinsights\n"
            "vnet = network.get_virtual_network(resource_group_name='rg', virtual_network_name='vnet')\n"
            "subnet = network.get_subnet(resource_group_name='rg', virtual_network_name='vnet', subnet_name='snet')\n"
            "law = operationalinsights.get_shared_keys(resource_group_name='rg', workspace_name='law')\n"
            "ml = machinelearningservices.list_workspace_keys_output(resource_group_name='rg', workspace_name='mlw')\n"
            "pulumi.export('vnet', vnet.id)\n"
            "pulumi.export('vnetType', vnet.type)\n"
            "pulumi.export('subnet', subnet.name)\n"
            "pulumi.export('lawKey', pulumi.Output.from_input(law.primary_shared_key))\n"
            "pulumi.export('mlKey', ml.user_storage_key)\n"
            "pulumi.export('mlSecret', ml.apply(lambda r: r.user_storage_key is not None))\n"
        ),
    )
    outputs = run_program(tmp_path, "dev").stack_outputs
    assert outputs["vnet"] == (
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
        "Microsoft.Network/virtualNetworks/vnet"
    )
    assert outputs["vnetType"] == "Microsoft.Network/virtualNetworks"
    assert outputs["subnet"] == "snet"
    assert re.fullmatch(r"[A-Za-z0-9+/=]{64}", outputs["lawKey"])  # a plain invoke's value: what the SDK gives
    assert outputs["mlKey"] == "[secret]" and outputs["mlSecret"] == "[secret]"  # list* answers are secrets


def test_an_invoke_of_an_sdk_we_do_not_know_gets_an_empty_answer_not_a_crash():
    from aiinfra.engine.invokes import answer_invoke

    assert answer_invoke("acme:index/getThing:getThing", {"name": "x"}, lambda _id: None) == {}


@pytest.mark.integration  # the program runs in its own process
def test_program_run_error_is_reported_without_traceback(tmp_path):
    program(tmp_path, "failing", "import pulumi\nraise pulumi.RunError('bad input: fix X')\n")
    with pytest.raises(ProgramError, match="bad input: fix X"):
        run_program(tmp_path, "dev")


@pytest.mark.integration  # the program runs in its own process
def test_a_program_that_exits_is_a_failed_program_not_a_crash_of_the_engine(tmp_path):
    program(tmp_path, "exiting", "import sys\nsys.exit(4)\n")
    with pytest.raises(ProgramFailure, match=r"sys.exit\(4\)"):
        run_program(tmp_path, "dev")


@pytest.mark.integration  # the program runs in its own process
def test_aliases_are_dropped_and_the_programs_own_transformations_still_run(tmp_path):
    # Aliases only match URNs in a stack's state, which an offline preview has none of: the engine drops them (the
    # SDK would resolve ~20 per azure-native resource) before the program's own transformations see the resource,
    # and leaves the program's options object as it was.
    program(
        tmp_path,
        "aliased",
        (
            "import pulumi\n"
            "from pulumi_azure_native import resources\n"
            "seen = []\n"
            "def tag(args):\n"
            "    seen.append(args.opts.aliases)\n"
            "    return pulumi.ResourceTransformationResult(dict(args.props, tags={'team': 'ml'}), args.opts)\n"
            "pulumi.runtime.register_stack_transformation(tag)\n"
            "shared = pulumi.ResourceOptions(aliases=[pulumi.Alias(name='old')])\n"
            "for name in ('a', 'b'):\n"
            "    resources.ResourceGroup(name, resource_group_name=f'rg-{name}', opts=shared)\n"
            "pulumi.export('aliasesSeen', sum(len(a or []) for a in seen))\n"
            "pulumi.export('sharedAliases', len(shared.aliases))\n"
        ),
    )
    plan = run_program(tmp_path, "dev")
    assert [(r.name, r.inputs["tags"]) for r in plan.resources] == [("a", {"team": "ml"}), ("b", {"team": "ml"})]
    assert plan.stack_outputs == {"aliasesSeen": 0, "sharedAliases": 1}


@pytest.mark.integration  # the program runs in its own process
def test_the_cyclic_gc_is_off_during_a_run_and_as_it_was_after(tmp_path):
    program(tmp_path, "gc", "import gc, pulumi\npulumi.export('collecting', gc.isenabled())\n")
    assert gc.isenabled()
    assert run_program(tmp_path, "dev").stack_outputs == {"collecting": False}
    assert gc.isenabled()
    gc.disable()
    try:
        run_program(tmp_path, "dev")
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.parametrize(
    "content,message",
    [
        (None, "no Pulumi.yaml"),
        ("name: x\nruntime: nodejs\n", "Python programs only"),
        ("name: x\nruntime: python\nmain: nowhere/\n", "has no __main__.py"),
    ],
)
def test_bad_projects_are_usage_errors(tmp_path, content, message):
    if content is not None:
        (tmp_path / "Pulumi.yaml").write_text(content)
    with pytest.raises(EngineError, match=message):
        run_program(tmp_path, "dev")


def test_arm_types():
    assert arm_type("azure-native:network:PrivateEndpoint") == "Microsoft.Network/privateEndpoints"
    assert arm_type("azure-native:keyvault:Vault") == "Microsoft.KeyVault/vaults"
    assert arm_type("azure-native:machinelearningservices:Workspace") == "Microsoft.MachineLearningServices/workspaces"
    assert arm_type("azure-native:containerservice:ManagedCluster") == "Microsoft.ContainerService/managedClusters"
    # Fixed: the type's plural is not always ARM's collection (privateZones, natGatewaies and publicIPAddress were).
    assert arm_type("azure-native:privatedns:PrivateZone") == "Microsoft.Network/privateDnsZones"
    assert arm_type("azure-native:network:NatGateway") == "Microsoft.Network/natGateways"
    assert arm_type("azure-native:network:PublicIPAddress") == "Microsoft.Network/publicIPAddresses"
    assert arm_type("azure-native:network:Subnet") == "Microsoft.Network/virtualNetworks/subnets"
    assert arm_type("azuread:index/group:Group") is None


RG = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg"


@pytest.mark.parametrize(
    "token,inputs,expected",
    [
        (
            "azure-native:network:Subnet",
            {"virtualNetworkName": "vnet", "subnetName": "snet"},
            RG + "/providers/Microsoft.Network/virtualNetworks/vnet/subnets/snet",
        ),
        (
            "azure-native:containerservice:AgentPool",
            {"resourceName": "aks", "agentPoolName": "gpu"},
            RG + "/providers/Microsoft.ContainerService/managedClusters/aks/agentPools/gpu",
        ),
        (
            "azure-native:machinelearningservices:Compute",
            {"workspaceName": "mlw", "computeName": "a100"},
            RG + "/providers/Microsoft.MachineLearningServices/workspaces/mlw/computes/a100",
        ),
        (
            "azure-native:keyvault:Key",
            {"vaultName": "kv", "keyName": "cmk"},
            RG + "/providers/Microsoft.KeyVault/vaults/kv/keys/cmk",
        ),
        (
            "azure-native:storage:BlobContainer",
            {"accountName": "st", "containerName": "data"},
            RG + "/providers/Microsoft.Storage/storageAccounts/st/blobServices/default/containers/data",
        ),
        (
            "azure-native:privatedns:PrivateRecordSet",
            {"privateZoneName": "z.io", "recordType": "A", "relativeRecordSetName": "@"},
            RG + "/providers/Microsoft.Network/privateDnsZones/z.io/A/@",
        ),
        # Extension resources nest under the id of what they extend.
        (
            "azure-native:monitor:DiagnosticSetting",
            {"resourceUri": RG + "/providers/Microsoft.KeyVault/vaults/kv", "name": "diag"},
            RG + "/providers/Microsoft.KeyVault/vaults/kv/providers/Microsoft.Insights/diagnosticSettings/diag",
        ),
        (
            "azure-native:kubernetesconfiguration:Extension",
            {
                "clusterRp": "Microsoft.ContainerService",
                "clusterResourceName": "managedClusters",
                "clusterName": "aks",
                "extensionName": "azureml",
            },
            RG
            + "/providers/Microsoft.ContainerService/managedClusters/aks/providers/Microsoft.KubernetesConfiguration/"
            "extensions/azureml",
        ),
    ],
)
def test_fabricated_ids_follow_arms_grammar(token, inputs, expected):
    assert resource_id(token, "logical", {"resourceGroupName": "rg", **inputs}) == expected


def test_a_role_assignment_without_a_name_gets_a_guid_as_the_provider_generates_one():
    rid = resource_id("azure-native:authorization:RoleAssignment", "ra", {"scope": RG})
    assert re.fullmatch(RG + r"/providers/Microsoft\.Authorization/roleAssignments/[0-9a-f-]{36}", rid or "")


def test_our_stacks_never_turn_an_output_into_a_string(plan):
    """str() of an Output is a placeholder sentence, never the value: the SDK warns, and the text would be deployed."""
    assert not [w for w in plan.warnings if "Calling __str__ on an Output" in w]


def test_every_id_of_our_stacks_is_unique(plan):
    ids = [r.id for r in plan.resources if r.custom and not r.type.startswith("pulumi:")]
    assert len(ids) == len(set(ids))
    assert not [w for w in plan.warnings if "same Azure resource" in w]


def test_two_resources_with_one_arm_id_are_reported(tmp_path):
    program(
        tmp_path,
        "twins",
        (
            "from pulumi_azure_native import network\n"
            "for name in ('a', 'b'):\n"
            "    network.VirtualNetwork(name, resource_group_name='rg', virtual_network_name='vnet-shared')\n"
        ),
    )
    plan = run_program(tmp_path, "dev", in_process=True)
    assert any("same Azure resource" in w and "virtualNetworks/vnet-shared" in w for w in plan.warnings)


def test_an_unquoted_date_in_a_stack_file_stays_the_string_it_was_written_as(tmp_path):
    """Like the Pulumi CLI (Go yaml.v3 into a generic value), `version: 2024-11-20` reaches the program as a
    string — before, the engine turned it into a date and crashed serialising the config."""
    from aiinfra.engine.runner import load_project, load_stack_config

    (tmp_path / "Pulumi.yaml").write_text("name: dated\nruntime: python\n")
    (tmp_path / "__main__.py").write_text("")
    (tmp_path / "Pulumi.dev.yaml").write_text(
        "config:\n  dated:model:\n    version: 2024-11-20\n  dated:since: 2026-12-01\n"
    )
    config, secrets, _ = load_stack_config(load_project(tmp_path), "dev", None)
    assert json.loads(config["dated:model"]) == {"version": "2024-11-20"}
    assert config["dated:since"] == "2026-12-01" and secrets == []
