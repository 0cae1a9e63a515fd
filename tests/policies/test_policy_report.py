"""`--policy-report FILE`: SARIF 2.1.0 (GitHub code scanning) by `.sarif`, JUnit XML (Azure DevOps) by `.xml`.

Structure is checked against what the consumers require: the SARIF 2.1.0 spec's required properties (as a JSON
schema subset: version, runs[].tool.driver.name, results[].message.text, level enum, locations) plus GitHub's rules
(ruleId present in tool.driver.rules, a physical location with a relative artifact URI); JUnit's testsuites /
testsuite / testcase with failure, skipped and consistent counts.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from stacks import preview

pytestmark = pytest.mark.integration  # the CLI: programs in their own process, the pack over gRPC

REPO = Path(__file__).resolve().parents[2]
PACK = REPO / "policies"
STRANGER = REPO / "tests" / "fixtures" / "stranger_program"

# The parts of the SARIF 2.1.0 schema (sarif-schema-2.1.0.json) that a results file must satisfy, and GitHub's
# additions (rules with ids, a physical location per result).
_MESSAGE = {"type": "object", "required": ["text"], "properties": {"text": {"type": "string", "minLength": 1}}}
SARIF_SUBSET = {
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "version": {"const": "2.1.0"},
        "$schema": {"type": "string", "format": "uri"},
        "runs": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["tool", "results"],
                "properties": {
                    "tool": {
                        "type": "object",
                        "required": ["driver"],
                        "properties": {
                            "driver": {
                                "type": "object",
                                "required": ["name", "rules"],
                                "properties": {
                                    "name": {"type": "string", "minLength": 1},
                                    "rules": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "required": ["id", "shortDescription", "help"],
                                            "properties": {
                                                "id": {"type": "string"},
                                                "shortDescription": _MESSAGE,
                                                "fullDescription": _MESSAGE,
                                                "help": _MESSAGE,
                                                "defaultConfiguration": {
                                                    "type": "object",
                                                    "properties": {
                                                        "level": {"enum": ["none", "note", "warning", "error"]}
                                                    },
                                                },
                                            },
                                        },
                                    },
                                },
                            }
                        },
                    },
                    "results": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["ruleId", "message", "locations", "level"],
                            "properties": {
                                "ruleId": {"type": "string"},
                                "ruleIndex": {"type": "integer", "minimum": 0},
                                "level": {"enum": ["none", "note", "warning", "error"]},
                                "message": _MESSAGE,
                                "locations": {
                                    "type": "array",
                                    "minItems": 1,
                                    "items": {
                                        "type": "object",
                                        "required": ["physicalLocation"],
                                        "properties": {
                                            "physicalLocation": {
                                                "type": "object",
                                                "required": ["artifactLocation"],
                                                "properties": {
                                                    "artifactLocation": {
                                                        "type": "object",
                                                        "required": ["uri"],
                                                        "properties": {
                                                            "uri": {"type": "string", "pattern": "^[^/\\\\][^:]*$"}
                                                        },
                                                    },
                                                    "region": {
                                                        "type": "object",
                                                        "properties": {"startLine": {"type": "integer", "minimum": 1}},
                                                    },
                                                },
                                            }
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}


def run(tmp_path: Path, capsys: pytest.CaptureFixture[str], env: str, report: str) -> tuple[int, Path, dict]:
    path, document = tmp_path / report, tmp_path / "plan.json"
    code = preview.main(
        [
            "dev",
            "--project-dir",
            str(STRANGER),
            "--policy-pack",
            str(PACK),
            "--policy-pack-config",
            str(PACK / "config" / f"{env}.json"),
            "--quiet",
            "--json",
            str(document),
            "--policy-report",
            str(path),
        ]
    )
    out = capsys.readouterr().out
    assert f"Policy report ({'sarif' if report.endswith('.sarif') else 'junit'}): {path}" in out
    return code, path, json.loads(document.read_text())["policies"]


@pytest.fixture(autouse=True)
def _repo_cwd(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)  # CI runs from the repository root; artifact URIs are relative to it


def test_sarif_report_is_valid_and_matches_the_findings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, path, policies = run(tmp_path, capsys, "prd", "policy.sarif")
    assert code == preview.EXIT_POLICY
    sarif = json.loads(path.read_text())
    jsonschema.validate(sarif, SARIF_SUBSET)
    run0 = sarif["runs"][0]
    rules = run0["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    assert ids == sorted(policies["enforcementLevels"]) and len(set(ids)) == len(ids)
    results = run0["results"]
    assert len(results) == len(policies["violations"])
    for result in results:
        assert ids[result["ruleIndex"]] == result["ruleId"]
        assert (
            result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            == "tests/fixtures/stranger_program/Pulumi.yaml"
        )
        assert result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"].startswith("urn:pulumi:dev::")
    fingerprints = [r["partialFingerprints"]["aiinfraPolicy/v1"] for r in results]
    assert len(set(fingerprints)) == len(fingerprints)  # GitHub would merge results sharing one
    levels = {(r["ruleId"], r["locations"][0]["logicalLocations"][0]["name"]): r["level"] for r in results}
    assert levels[("nsg-management-ports-closed", "bad-nsg-rule")] == "error"
    assert levels[("private-endpoint-auto-approved", "bad-pe-openai")] == "warning"
    # each finding's text carries the fix: the azure-native argument and the ARM property path
    hsm = next(r for r in results if r["ruleId"] == "keyvault-key-hsm")
    assert "kty" in hsm["message"]["text"] and "ARM:" in hsm["message"]["text"]
    by_id = {r["id"]: r for r in rules}
    assert "min_count" in by_id["aks-gpu-pool-shape"]["help"]["text"]
    assert by_id["gpu-pool-low-priority"]["defaultConfiguration"] == {"level": "none", "enabled": False}


def test_junit_report_is_valid_and_counts_add_up(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, path, policies = run(tmp_path, capsys, "prd", "policy-results.xml")
    assert code == preview.EXIT_POLICY
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert sorted(s.get("name") for s in suites) == sorted(policies["enforcementLevels"])
    mandatory = [v for v in policies["violations"] if v["enforcementLevel"] == "mandatory"]
    failures = root.findall("./testsuite/testcase/failure")
    assert int(root.get("failures")) == len(failures) == len(mandatory)
    for suite in suites:
        cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(cases) >= 1
        assert int(suite.get("failures")) == len(suite.findall("testcase/failure"))
        assert int(suite.get("skipped")) == len(suite.findall("testcase/skipped"))
        assert all(c.get("classname") and c.get("name") for c in cases)
    assert int(root.get("tests")) == sum(int(s.get("tests")) for s in suites)
    disabled = next(s for s in suites if s.get("name") == "gpu-pool-low-priority")
    assert disabled.find("testcase/skipped") is not None
    nsg = next(s for s in suites if s.get("name") == "nsg-management-ports-closed")
    failure = nsg.find("testcase/failure")
    assert (
        failure is not None
        and "How to fix:" in (failure.text or "")
        and "bad-nsg-rule" in nsg.find("testcase").get("name")
    )
    advisory = next(s for s in suites if s.get("name") == "private-endpoint-auto-approved")
    assert advisory.find("testcase/failure") is None and "[advisory]" in advisory.find("testcase/system-out").text


def test_unknown_report_extension_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = preview.main(
        [
            "dev",
            "--project-dir",
            str(STRANGER),
            "--policy-pack",
            str(PACK),
            "--quiet",
            "--policy-report",
            str(tmp_path / "policy.txt"),
        ]
    )
    err = capsys.readouterr().err
    assert code == preview.EXIT_USAGE and "*.sarif" in err and "*.xml" in err and "Traceback" not in err
    assert not (tmp_path / "policy.txt").exists()
