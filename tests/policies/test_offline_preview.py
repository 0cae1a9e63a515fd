"""The offline driver and `stacks.preview`: a stranger's insecure program fails, ours pass, bad config and a broken
pack give clear errors, and the pack process never outlives the run."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from aiinfra.engine import Plan, run_program
from aiinfra.engine.analyzer import (
    COMPUTED_MARKER,
    UNKNOWN,
    PolicyError,
    PolicyPackProcess,
    _wire_value,
    analyze_plan,
    load_pack,
    render_policy_report,
)
from stacks import preview

pytestmark = pytest.mark.integration  # the CLI: programs in their own process, the pack over gRPC

REPO = Path(__file__).resolve().parents[2]
PACK = REPO / "policies"
INSECURE = REPO / "tests" / "fixtures" / "insecure_program"


@pytest.fixture(scope="module")
def insecure_plan() -> Plan:
    return run_program(INSECURE, "dev")


def run_preview(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = preview.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def insecure_preview(capsys: pytest.CaptureFixture[str], env: str, tmp_path: Path) -> tuple[int, str, dict]:
    document = tmp_path / "plan.json"
    code, out, _ = run_preview(
        capsys,
        "dev",
        "--project-dir",
        str(INSECURE),
        "--policy-pack",
        str(PACK),
        "--policy-pack-config",
        str(PACK / "config" / f"{env}.json"),
        "--quiet",
        "--json",
        str(document),
    )
    return code, out, json.loads(document.read_text())


def flagged(document: dict, level: str) -> set[tuple[str, str]]:
    return {
        (v["resourceName"], v["policy"]) for v in document["policies"]["violations"] if v["enforcementLevel"] == level
    }


def test_insecure_stranger_program_fails_dev(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, document = insecure_preview(capsys, "dev", tmp_path)
    assert code == preview.EXIT_POLICY
    assert {
        ("gpu-cluster", "gpu-pool-scale-to-zero"),
        ("gpu-cluster", "gpu-pool-low-priority"),
        ("gpu-cluster", "gpu-sku-not-retired"),
        ("data", "storage-shared-key-disabled"),
        ("data", "storage-no-public-blob-access"),
    } <= flagged(document, "mandatory")
    assert ("workspace", "public-network-access-disabled") in flagged(document, "advisory")
    assert "minNodeCount 2" in out and "fix:" in out
    summary = document["policies"]["summary"]
    assert (
        out.rstrip()
        .splitlines()[-1]
        .startswith(f"Policy violations: {summary['mandatory']} mandatory, {summary['advisory']} advisory")
    )


def test_insecure_stranger_program_fails_prd_on_network_and_cmk(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, document = insecure_preview(capsys, "prd", tmp_path)
    assert code == preview.EXIT_POLICY
    assert {
        ("workspace", "public-network-access-disabled"),
        ("data", "cmk-storage"),
        ("workspace", "cmk-ml-workspace"),
        ("data", "public-network-access-disabled"),
    } <= flagged(document, "mandatory")
    assert ("gpu-cluster", "gpu-pool-low-priority") not in flagged(document, "mandatory") | flagged(
        document, "advisory"
    )


SECURE = REPO / "tests" / "fixtures" / "secure_program"


def test_compliant_stranger_program_covering_every_service_passes_prd(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Secure settings written through the real SDK produce the wire names the rules read: nothing is flagged."""
    document = tmp_path / "plan.json"
    code, out, _ = run_preview(
        capsys,
        "prd",
        "--project-dir",
        str(SECURE),
        "--policy-pack",
        str(PACK),
        "--policy-pack-config",
        str(PACK / "config" / "prd.json"),
        "--quiet",
        "--json",
        str(document),
    )
    report = json.loads(document.read_text())["policies"]
    assert code == preview.EXIT_OK and report["violations"] == [], out
    types = {r["type"] for r in json.loads(document.read_text())["plan"]["resources"]}
    assert {
        "azure-native:containerservice:AgentPool",
        "azure-native:batch:Pool",
        "azure-native:app:ContainerApp",
        "azure-native:cognitiveservices:Account",
        "azure-native:machinelearningservices:Compute",
    } <= types


def test_compliant_program_meets_only_the_dev_cost_rules(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    document = tmp_path / "plan.json"
    code, _, _ = run_preview(
        capsys,
        "prd",
        "--project-dir",
        str(SECURE),
        "--policy-pack",
        str(PACK),
        "--policy-pack-config",
        str(PACK / "config" / "dev.json"),
        "--quiet",
        "--json",
        str(document),
    )
    assert code == preview.EXIT_POLICY
    assert flagged(json.loads(document.read_text()), "mandatory") == {
        ("gpu", "gpu-pool-low-priority"),
        ("inference", "gpu-pool-low-priority"),
    }


def test_no_policies_flag(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_preview(
        capsys, "dev", "--project-dir", str(INSECURE), "--policy-pack", str(PACK), "--no-policies", "--quiet"
    )
    assert code == preview.EXIT_OK and "Policy violations" not in out


def justified_advisories() -> dict[str, set[str]]:
    """policy -> envs, from the "Advisory findings on our own stacks" table of policies/README.md."""
    text = (PACK / "README.md").read_text()
    section = text.split("### Advisory findings on our own stacks")[1].split("\n#")[0]
    rows = [line.split("|") for line in section.splitlines() if line.startswith("| `")]
    return {row[1].strip().strip("`"): {e.strip() for e in row[2].split(",")} for row in rows}


@pytest.mark.parametrize("env", ["dev", "test", "prd"])
def test_our_environments_pass_their_policy_config(plan_of: Callable[[str], Plan], env: str) -> None:
    """Our stacks (the plans the rest of the suite shares) under their environment's config: nothing mandatory, and
    every advisory finding is one the policy README justifies for that environment."""
    report = analyze_plan(plan_of(env), PACK, PACK / "config" / f"{env}.json")
    assert report.mandatory == [], render_policy_report(report)
    justified = justified_advisories()
    unjustified = [v for v in report.advisory if env not in justified.get(v.policy, set())]
    assert unjustified == [], render_policy_report(report)
    # the Azure ML extension's local-accounts exemption is shown, not silently passed
    assert any(
        v.policy == "aks-local-accounts-azureml-exemption" and v.resource_name == "aks-cluster" for v in report.advisory
    )


STRANGER = REPO / "tests" / "fixtures" / "stranger_program"


@pytest.fixture(scope="module")
def stranger_plan() -> Plan:
    return run_program(STRANGER, "dev")


# What each bad-* resource of the stranger program breaks (its comments say the same); rules disabled by an env's
# config are only expected where they run.
STRANGER_BAD = {
    "bad-cmk": {"keyvault-key-hsm", "keyvault-key-expiry-rotation"},
    "bad-aks": {
        "aks-entra-id-rbac",
        "aks-network-policy",
        "aks-kms-etcd-encryption",
        "aks-azure-policy-addon",
        "aks-defender-profile",
        "aks-local-accounts-disabled",
        "aks-encryption-at-host",
        "aks-node-ssh-disabled",
    },
    "bad-gpu-pool": {"aks-gpu-pool-shape"},
    "team-aks-ml": {"aks-local-accounts-azureml-exemption"},
    "bad-ws": {"ml-managed-network-outbound"},
    "bad-notebook": {"ml-compute-instance-hardening", "local-auth-disabled"},
    "bad-batch-pool": {"batch-pool-disk-encryption", "batch-pool-in-vnet"},
    "bad-cae": {"container-apps-dedicated-profile-scale"},
    "bad-openai": {"cognitive-outbound-restricted", "private-endpoint-group-id-valid"},
    "bad-pe-openai": {"private-endpoint-auto-approved"},
    "bad-nsg-rule": {"nsg-management-ports-closed"},
    "bad-container": {"storage-no-public-blob-access"},
    "bad-cosmos": {"local-auth-disabled"},
    "bad-ip": {"allowed-locations", "required-tags"},
}


@pytest.mark.parametrize("env", ["dev", "test", "prd"])
def test_stranger_program_ok_resources_get_no_finding_and_bad_ones_theirs(stranger_plan: Plan, env: str) -> None:
    report = analyze_plan(stranger_plan, PACK, PACK / "config" / f"{env}.json")
    names = {r.name for r in stranger_plan.resources}
    ok = {n for n in names if n.startswith("ok-")}
    assert len(ok) >= 15
    assert [v for v in report.violations if v.resource_name in ok] == [], render_policy_report(report)
    found: dict[str, set[str]] = {}
    for v in report.violations:
        found.setdefault(v.resource_name, set()).add(v.policy)
    for name, policies in STRANGER_BAD.items():
        expected = {p for p in policies if report.levels[p] != "disabled"}
        assert expected <= found.get(name, set()), (name, expected - found.get(name, set()))
    # free resources (resource group, VNet, NSG) are never asked for tags
    assert not any(
        v.policy == "required-tags"
        for v in report.violations
        if v.resource_name in ("team-rg", "ok-vnet", "ok-nsg", "team-nsg")
    )


def test_stranger_program_covers_every_new_rule_in_both_forms() -> None:
    """Every rule added for issue 15 has a bad-* form in the stranger program (and its ok-* twin, by the test above)."""
    new_rules = {
        "aks-entra-id-rbac",
        "aks-network-policy",
        "aks-encryption-at-host",
        "aks-node-ssh-disabled",
        "aks-kms-etcd-encryption",
        "aks-azure-policy-addon",
        "aks-defender-profile",
        "aks-gpu-pool-shape",
        "aks-local-accounts-azureml-exemption",
        "ml-managed-network-outbound",
        "ml-compute-instance-hardening",
        "batch-pool-disk-encryption",
        "batch-pool-in-vnet",
        "container-apps-dedicated-profile-scale",
        "keyvault-key-hsm",
        "keyvault-key-expiry-rotation",
        "cognitive-outbound-restricted",
        "private-endpoint-auto-approved",
        "private-endpoint-group-id-valid",
        "allowed-locations",
        "nsg-management-ports-closed",
    }
    assert new_rules <= set().union(*STRANGER_BAD.values())


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy-config.json"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            '{"gpu-pool-max-node": {"maxNodes": 3}}',
            "unknown policy 'gpu-pool-max-node' (did you mean 'gpu-pool-max-nodes'?)",
        ),
        (
            '{"gpu-pool-max-nodes": "blocking"}',
            "policy 'gpu-pool-max-nodes', field 'enforcementLevel': \"blocking\" is not",
        ),
        (
            '{"gpu-pool-max-nodes": {"maxNodes": "four"}}',
            "policy 'gpu-pool-max-nodes', field 'maxNodes': 'four' is not of",
        ),
        ('{"gpu-sku-allowed": {"allowedSkus": ["Standard_D4s_v5"]}}', "field 'allowedSkus[0]'"),
        ('{"required-tags": {"requiredTag": ["owner"]}}', "field 'requiredTag': not a setting of this policy"),
        ('{"gpu-pool-scale-to-zero": {"exemptions": [{"resource": "x"}]}}', "field 'exemptions[0]': 'reason' is a"),
        ('{"all": {"enforcementLevel": "advisory", "maxNodes": 1}}', "policy 'all' accepts only an enforcement level"),
        ('{"gpu-pool-max-nodes": 3}', "policy 'gpu-pool-max-nodes': expected an enforcement level string or an object"),
        ("[1, 2]", "expected a JSON object"),
        ("{not json", "not valid JSON"),
    ],
)
def test_policy_config_errors_are_clear(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, expected: str
) -> None:
    config = write(tmp_path, text)
    code, _, err = run_preview(
        capsys,
        "dev",
        "--project-dir",
        str(INSECURE),
        "--policy-pack",
        str(PACK),
        "--policy-pack-config",
        str(config),
        "--quiet",
    )
    assert code == preview.EXIT_USAGE
    assert str(config) in err and expected in err, err
    assert "Traceback" not in err


def test_missing_config_file_and_missing_pack(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run_preview(
        capsys,
        "dev",
        "--project-dir",
        str(INSECURE),
        "--policy-pack",
        str(PACK),
        "--policy-pack-config",
        str(tmp_path / "nope.json"),
        "--quiet",
    )
    assert code == preview.EXIT_USAGE and "nope.json: cannot read the policy config" in err
    code, _, err = run_preview(capsys, "dev", "--project-dir", str(INSECURE), "--policy-pack", str(tmp_path), "--quiet")
    assert code == preview.EXIT_USAGE and "no PulumiPolicy.yaml here" in err


def broken_pack(tmp_path: Path, main: str) -> Path:
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\n")
    (tmp_path / "__main__.py").write_text(main)
    return tmp_path


def test_pack_that_fails_to_start_is_reported_with_its_error(insecure_plan: Plan, tmp_path: Path) -> None:
    pack = broken_pack(tmp_path, "raise RuntimeError('policy module missing: aiinfra_policiez')\n")
    with pytest.raises(PolicyError) as failure:
        analyze_plan(insecure_plan, pack)
    assert "failed to start" in str(failure.value) and "aiinfra_policiez" in str(failure.value)


def test_pack_that_prints_before_its_port(insecure_plan: Plan, tmp_path: Path) -> None:
    pack = broken_pack(tmp_path, "print('hello')\nimport time\ntime.sleep(30)\n")
    with pytest.raises(PolicyError, match="printed 'hello' before its port"):
        analyze_plan(insecure_plan, pack)


def test_pack_process_is_stopped_after_use_and_after_errors(insecure_plan: Plan) -> None:
    process = PolicyPackProcess(load_pack(PACK), {"PATH": "/usr/bin:/bin"})
    with process:
        assert process.process.poll() is None
    assert process.process.poll() is not None
    failing = PolicyPackProcess(load_pack(PACK), {"PATH": "/usr/bin:/bin"})
    with pytest.raises(ZeroDivisionError), failing:
        _ = 1 / 0
    assert failing.process.poll() is not None


def test_values_are_marshalled_like_the_engine() -> None:
    ids = {
        "urn:a": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a",
        "urn:component": None,
    }
    recorded = {
        "id": {"$resourceReference": "urn:a"},
        "parent": {"$resourceReference": "urn:component"},
        "later": COMPUTED_MARKER,
        "nested": [{"x": COMPUTED_MARKER, "n": 2.0}],
    }
    assert _wire_value(recorded, ids) == {
        "id": ids["urn:a"],
        "parent": "urn:component",
        "later": UNKNOWN,
        "nested": [{"x": UNKNOWN, "n": 2.0}],
    }


def test_report_names_pack_levels_and_every_resource(insecure_plan: Plan) -> None:
    report = analyze_plan(insecure_plan, PACK, PACK / "config" / "prd.json", {"insecure-ml:gpuSize": "x"})
    assert report.pack == "aiinfra" and report.version == "0.2.0"
    assert report.levels["gpu-pool-low-priority"] == "disabled"
    assert report.resources_analyzed == len(insecure_plan.resources) + 1  # + the stack itself
    assert all(v.fix and v.resource_type for v in report.violations)


def test_a_teams_own_program_is_judged_by_our_pack_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    # No --policy-pack: the program has no pack of its own, so aiinfra's runs with its dev config.
    code, out, _ = run_preview(capsys, "dev", "--project-dir", str(INSECURE), "--quiet")
    assert code == preview.EXIT_POLICY
    assert f"config {PACK / 'config' / 'dev.json'}" in out
    assert "[mandatory] gpu-pool-scale-to-zero" in out
