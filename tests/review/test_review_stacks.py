"""Reviewing a change to our own prd stack: the preview compared with the plan of main, end to end.

Each change is a stack file edited the way a pull request would edit `Pulumi.prd.yaml`, previewed with
`--compare BASE.json` against the plan of the unedited file (what the pipelines do on every pull request).
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from aiinfra.engine import cli
from stacks import preview

pytestmark = pytest.mark.integration  # the CLI on prd: the program in its own process, the pack over gRPC

REPO = Path(__file__).resolve().parents[2]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = preview.main(list(argv))
    return code, capsys.readouterr().out


def stack_file(tmp: Path, name: str, edit: Callable[[dict[str, Any]], None]) -> Path:
    document = yaml.safe_load((REPO / "Pulumi.prd.yaml").read_text())
    edit(document["config"]["aiinfra:platform"])
    path = tmp / f"Pulumi.{name}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def workspace(platform: dict[str, Any], name: str) -> dict[str, Any]:
    return next(w for w in platform["workspaces"] if w["name"] == name)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The plan of main: prd as committed, with policies, as `preview --json` writes it."""
    target = tmp_path_factory.mktemp("main") / "prd.json"
    assert preview.main(["prd", "--quiet", "--json", str(target)]) == 0
    return target


def grow(platform: dict[str, Any]) -> None:
    """Raise the vision A100 pool (and let it idle longer), add a T4 pool next to it."""
    vision = workspace(platform, "vision")
    vision["computePools"][0].update(maxNodes=8, idleMinutes=120)
    vision["computePools"].append(
        {
            "name": "t4-lowpri",
            "vmSize": "Standard_NC8as_T4_v3",
            "priority": "LowPriority",
            "maxNodes": 2,
            "idleMinutes": 10,
        }
    )


@pytest.fixture(scope="module")
def grown(base: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, dict[str, Any], str]:
    tmp = tmp_path_factory.mktemp("grown")
    target, markdown = tmp / "prd.json", tmp / "comment.md"
    buffer = io.StringIO()  # capsys is per test; this preview is shared by the module's tests
    with contextlib.redirect_stdout(buffer):
        code = preview.main(
            [
                "prd",
                "--stack-file",
                str(stack_file(tmp, "grow", grow)),
                "--compare",
                str(base),
                "--json",
                str(target),
                "--markdown",
                str(markdown),
            ]
        )
    return code, buffer.getvalue(), json.loads(target.read_text()), markdown.read_text()


def test_comparing_a_plan_with_itself_says_no_changes_on_one_screen(base: Path, capsys) -> None:
    code, out = run(capsys, "prd", "--quiet", "--compare", str(base))
    assert code == 0
    cloud = sum(1 for r in json.loads(base.read_text())["plan"]["resources"] if r["custom"])
    assert f"Plan: no changes ({cloud} resources unchanged)" in out
    assert "±$0" in out and "0 new finding(s)" in out
    summary = out.split("\nPolicies: pack")[0]
    assert len(summary.splitlines()) <= 25, summary
    assert "├─" not in out, "--quiet prints no tree"


def test_adding_and_raising_a_pool_is_a_create_and_an_update(grown) -> None:
    code, out, document, _ = grown
    assert code == 0, "a new advisory finding does not fail the preview"
    diff = document["diff"]
    changes = {c["name"]: c for c in diff["changes"]}
    raised = changes["ml-vision-a100-lowpri-compute"]
    assert raised["op"] == "update"
    paths = {p["path"]: (p["old"], p["new"]) for p in raised["properties"]}
    assert paths["properties.properties.scaleSettings.maxNodeCount"] == (4, 8)
    assert changes["ml-vision-t4-lowpri-compute"]["op"] == "create"
    assert diff["counts"]["create"] >= 1 and diff["counts"]["replace"] == 0 and diff["counts"]["delete"] == 0
    assert not diff["dataLoss"]
    # Printed by component, old -> new, with the summary line.
    assert "ml-vision (aiinfra:ml:SecureWorkspace)" in out
    assert "properties.properties.scaleSettings.maxNodeCount: 4 -> 8" in out
    assert f"Plan: {diff['summary']}" in out


def test_the_cost_delta_is_the_difference_of_the_two_estimates(grown, base: Path) -> None:
    _, out, document, _ = grown
    cost = document["diff"]["cost"]
    before = json.loads(base.read_text())["cost"]["totals"]
    after = document["cost"]["totals"]
    assert cost["total"]["maxHourlyDelta"] == pytest.approx(after["maxHourly"] - before["maxHourly"], abs=1e-3)
    assert cost["total"]["maxHourlyDelta"] > 0 and cost["total"]["idleMonthlyDelta"] == pytest.approx(0, abs=0.01)
    (vision,) = [c for c in cost["components"] if c["component"] == "ml-vision"]
    assert vision["maxHourlyDelta"] == pytest.approx(cost["total"]["maxHourlyDelta"], abs=1e-3)
    assert cost["budgets"] and "Cost: idle" in out and "(+$" in out


def test_the_policy_delta_names_the_new_finding(grown) -> None:
    _, out, document, _ = grown
    policies = document["diff"]["policies"]
    assert policies["baseHasPolicies"] and not policies["resolved"]
    assert [(f["policy"], f["resourceName"]) for f in policies["new"]] == [
        ("gpu-pool-idle-scale-down", "ml-vision-a100-lowpri-compute")
    ]
    assert "New policy findings:" in out


def test_quota_grows_with_the_pools(grown, base: Path) -> None:
    _, out, document, _ = grown

    def low_priority(doc: dict[str, Any]) -> float:
        return sum(
            q["amount"]
            for q in doc["quota"]
            if q["service"] == "Azure Machine Learning" and q["kind"] == "low-priority/Spot"
        )

    before = json.loads(base.read_text())
    # 4 more NC48ads_A100_v4 nodes (48 vCPUs each) and 2 NC8as_T4_v3 nodes (8 vCPUs each), all low-priority.
    assert low_priority(document) - low_priority(before) == 4 * 48 + 2 * 8
    assert "Quota needed at full scale" in out and "how to request" in out


def test_the_markdown_comment_has_tables_details_and_a_marker(grown) -> None:
    _, _, document, markdown = grown
    assert markdown.startswith("<!-- aiinfra-plan:prd -->")
    assert f"**Plan:** {document['diff']['summary']}" in markdown
    assert "| component | + create | ~ update | ± replace | - delete |" in markdown
    assert "#### Cost delta" in markdown and "#### Policy delta" in markdown
    assert markdown.count("<details>") == markdown.count("</details>") >= 3
    assert "gpu-pool-idle-scale-down" in markdown
    assert "Quota needed at full scale" in markdown


def test_removing_a_workspace_is_called_out_as_data_loss(base: Path, tmp_path: Path, capsys) -> None:
    def remove(platform: dict[str, Any]) -> None:
        platform["workspaces"] = [w for w in platform["workspaces"] if w["name"] != "vision"]

    target = tmp_path / "prd.json"
    code, out = run(
        capsys,
        "prd",
        "--stack-file",
        str(stack_file(tmp_path, "remove", remove)),
        "--compare",
        str(base),
        "--json",
        str(target),
        "--no-policies",
    )
    assert code == 0
    diff = json.loads(target.read_text())["diff"]
    ops = {c["name"]: c["op"] for c in diff["changes"]}
    assert ops["ml-vision-workspace"] == "delete" and ops["ml-vision-a100-lowpri-compute"] == "delete"
    assert all(op == "delete" for name, op in ops.items() if name.startswith("ml-vision"))
    assert diff["counts"]["create"] == 0
    loss = "DATA LOSS: Workspace 'ml-vision-workspace' (ml-vision) would be deleted"
    assert loss in out and out.index(loss) < out.index("Plan: 0 to create")
    assert "protected" in out
    assert diff["cost"]["total"]["idleMonthlyDelta"] < 0
    assert "Policies: the new plan has no policy results" in out


def test_flipping_create_only_properties_of_protected_resources(base: Path, tmp_path: Path, capsys) -> None:
    """Renaming the research workspace (its name is a URL path parameter) replaces it: data loss, and everything scoped
    to its id follows. Moving the Key Vault and the storage account to another region is refused by ARM: their specs
    do not mark `location` create-only, so azure-native sends an update."""
    document = json.loads(base.read_text())
    moved = copy.deepcopy(document)
    for r in moved["plan"]["resources"]:
        if r["type"] in ("azure-native:keyvault:Vault", "azure-native:storage:StorageAccount"):
            r["inputs"]["location"] = "eastus2"
        if r["name"] == "ml-research-workspace":
            r["inputs"]["workspaceName"] += "2"
    new = tmp_path / "moved.json"
    new.write_text(json.dumps(moved))
    markdown, result = tmp_path / "comment.md", tmp_path / "diff.json"
    code = cli.diff([str(base), str(new), "--markdown", str(markdown), "--json", str(result)])
    out = capsys.readouterr().out
    assert code == 0
    diff = json.loads(result.read_text())
    ops = {c["name"]: c for c in diff["changes"]}
    workspace = ops["ml-research-workspace"]
    assert workspace["op"] == "replace" and workspace["dataLoss"] and workspace["protect"]
    assert ops["ml-research-diag"]["op"] == "replace", "its resourceUri is the workspace's id: a path parameter"
    refused = {r["urn"]: r["paths"] for r in diff["refused"]}
    assert refused[ops["shared-st"]["urn"]] == ["location"] and refused[ops["shared-kv"]["urn"]] == ["location"]
    assert out.index("DATA LOSS: Workspace 'ml-research-workspace' (ml-research) would be replaced") < out.index(
        "Plan: "
    )
    assert "REFUSED: StorageAccount 'shared-st'" in out and "REFUSED: Vault 'shared-kv'" in out
    assert "> **DATA LOSS:** Workspace 'ml-research-workspace'" in markdown.read_text()


def test_the_full_preview_opens_with_the_summary(base: Path, capsys) -> None:
    code, out = run(capsys, "prd", "--no-policies")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("Offline preview of stack 'prd'")
    tree = next(i for i, line in enumerate(lines) if line.startswith("aiinfra-prd  (pulumi:pulumi:Stack)"))
    assert tree > 5 and any(line.startswith("  budget ") for line in lines[:tree])
    assert "\x1b[" not in out, "no colour codes outside a terminal"


def test_diff_of_unreadable_plans_is_a_usage_error(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    assert cli.diff([str(bad), str(bad)]) == cli.EXIT_USAGE
    assert "bad.json: not a plan this tool wrote" in capsys.readouterr().err
    assert preview.main(["prd", "--compare", str(tmp_path / "missing.json")]) == cli.EXIT_USAGE
    assert "missing.json: cannot read" in capsys.readouterr().err


def test_the_aiinfra_command_dispatches_diff(base: Path) -> None:
    import subprocess
    import sys

    script = Path(sys.executable).parent / "aiinfra"
    done = subprocess.run(
        [str(script), "diff", str(base), str(base), "--quiet"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "Plan: no changes" in done.stdout
