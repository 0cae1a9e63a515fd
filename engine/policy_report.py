"""Policy results as CI files: SARIF 2.1.0 for GitHub code scanning, JUnit XML for the Azure DevOps test tab.

`write_policy_report(report, path, artifact)` picks the format by extension (`.sarif` / `.sarif.json`, `.xml`). It
knows no policy: it renders any pack's `PolicyReport`. Each result carries the policy's fix text (the pack's
remediation: azure-native argument and ARM property path) so a reviewer needs nothing else.

SARIF: one rule per policy in `tool.driver.rules` (help = the fix), one result per violation with level `error`
(mandatory) or `warning` (advisory), a logical location for the resource (its URN) and a physical location on the
program's `Pulumi.yaml` (GitHub code scanning needs a file in the repository; a resource has no line of its own).
Spec: https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html; GitHub's accepted subset:
https://docs.github.com/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning

JUnit: one `<testsuite>` per policy, one `<testcase>` per violating resource (`<failure>` when mandatory, passing
with the finding in `<system-out>` when advisory), one passing `<testcase>` for a policy nothing violated and a
`<skipped>` one for a disabled policy — the shape Azure DevOps' PublishTestResults@2 (JUnit) reads.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from .analyzer import PolicyReport, Violation

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
INFORMATION_URI = "https://www.pulumi.com/docs/using-pulumi/crossguard/"
_SARIF_LEVEL = {"mandatory": "error", "advisory": "warning", "remediate": "error"}
_SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}


class ReportFormatError(ValueError):
    """The report file's extension names no format we write."""


def report_format(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".sarif") or name.endswith(".sarif.json"):
        return "sarif"
    if name.endswith(".xml"):
        return "junit"
    raise ReportFormatError(
        f"--policy-report {path}: unknown format; name the file *.sarif (SARIF for GitHub code "
        "scanning) or *.xml (JUnit XML for Azure DevOps)"
    )


def _artifact_uri(artifact: Path) -> str:
    """The artifact relative to the working directory (the repository root in CI), forward slashes."""
    try:
        relative = os.path.relpath(artifact.resolve(), Path.cwd().resolve())
    except ValueError:  # another drive on Windows
        relative = str(artifact)
    return Path(relative).as_posix()


def sarif(report: PolicyReport, artifact: Path) -> dict[str, Any]:
    rules = sorted(report.policies, key=lambda p: p.name)
    index = {p.name: i for i, p in enumerate(rules)}
    uri = _artifact_uri(artifact)

    def rule(p: Any) -> dict[str, Any]:
        summary = p.description.split(" How to fix:")[0]
        return {
            "id": p.name,
            "name": "".join(part.capitalize() for part in p.name.split("-")),
            "shortDescription": {"text": summary},
            "fullDescription": {"text": p.description},
            "help": {
                "text": p.remediation or p.description,
                "markdown": f"**How to fix:** {p.remediation or p.description}",
            },
            "defaultConfiguration": {
                "level": _SARIF_LEVEL.get(report.levels.get(p.name, ""), "none"),
                "enabled": report.levels.get(p.name) != "disabled",
            },
            "properties": {
                "enforcementLevel": report.levels.get(p.name, p.enforcement_level),
                "security-severity": _SECURITY_SEVERITY.get(p.severity, "5.0"),
                "tags": ["security", "pulumi-policy"],
            },
        }

    seen: dict[str, int] = {}

    def result(v: Violation) -> dict[str, Any]:
        key = f"{v.policy}:{v.urn}"
        seen[key] = seen.get(key, 0) + 1  # a policy can report several findings on one resource
        return {
            "ruleId": v.policy,
            "ruleIndex": index[v.policy],
            "level": _SARIF_LEVEL.get(v.level, "note"),
            "message": {"text": f"{v.resource_name} ({v.resource_type}): {v.message} How to fix: {v.fix}"},
            "locations": [
                {
                    "physicalLocation": {"artifactLocation": {"uri": uri}, "region": {"startLine": 1}},
                    "logicalLocations": [{"name": v.resource_name, "fullyQualifiedName": v.urn, "kind": "resource"}],
                }
            ],
            "partialFingerprints": {"aiinfraPolicy/v1": f"{key}:{seen[key]}"},
            "properties": {"enforcementLevel": v.level, "severity": v.severity, "resourceType": v.resource_type},
        }

    known = [v for v in report.violations if v.policy in index]
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": f"pulumi-policy-{report.pack}",
                        "semanticVersion": report.version,
                        "version": report.version,
                        "informationUri": INFORMATION_URI,
                        "rules": [rule(p) for p in rules],
                    }
                },
                "automationDetails": {"id": f"pulumi-policy/{report.pack}/"},
                "results": [result(v) for v in known],
                "properties": {"configFile": report.config_file, "resourcesAnalyzed": report.resources_analyzed},
            }
        ],
    }


def junit(report: PolicyReport, project: str) -> ET.Element:
    root = ET.Element("testsuites", name=f"pulumi policy pack {report.pack} ({project})")
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    by_policy: dict[str, list[Violation]] = {}
    for v in report.violations:
        by_policy.setdefault(v.policy, []).append(v)
    for policy in sorted(report.policies, key=lambda p: p.name):
        level = report.levels.get(policy.name, policy.enforcement_level)
        suite = ET.SubElement(root, "testsuite", name=policy.name)
        cases: list[ET.Element] = []
        if level == "disabled":
            case = ET.SubElement(suite, "testcase", classname=f"{report.pack}.{policy.name}", name="all resources")
            ET.SubElement(case, "skipped", message="disabled in this environment's policy config")
            cases.append(case)
        elif not by_policy.get(policy.name):
            cases.append(
                ET.SubElement(suite, "testcase", classname=f"{report.pack}.{policy.name}", name="all resources")
            )
        for v in by_policy.get(policy.name, []):
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"{report.pack}.{policy.name}",
                name=f"{v.resource_name} ({v.resource_type})",
            )
            detail = f"{v.message}\nHow to fix: {v.fix}\nResource: {v.urn}"
            if v.level == "mandatory":
                failure = ET.SubElement(case, "failure", message=v.message, type=f"{v.level}/{v.severity}")
                failure.text = detail
            else:
                ET.SubElement(case, "system-out").text = f"[{v.level}] {detail}"
            cases.append(case)
        failures = sum(1 for c in cases if c.find("failure") is not None)
        skipped = sum(1 for c in cases if c.find("skipped") is not None)
        suite.set("tests", str(len(cases)))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
        suite.set("skipped", str(skipped))
        totals["tests"] += len(cases)
        totals["failures"] += failures
        totals["skipped"] += skipped
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("errors", "0")
    return root


def write_policy_report(report: PolicyReport, path: Path, artifact: Path, project: str = "") -> str:
    """Write `report` to `path` in the format its extension names; returns the format written."""
    kind = report_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "sarif":
        path.write_text(json.dumps(sarif(report, artifact), indent=2) + "\n")
    else:
        tree = ET.ElementTree(junit(report, project or report.pack))
        ET.indent(tree)
        tree.write(path, encoding="utf-8", xml_declaration=True)
    return kind
