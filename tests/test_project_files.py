"""The project files the real Pulumi CLI reads are well-formed."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

REPO = Path(__file__).resolve().parent.parent
SCHEMA = Path(__file__).parent / "data" / "pulumi-project.schema.json"


def test_pulumi_yaml_matches_pulumis_schema():
    project = yaml.safe_load((REPO / "Pulumi.yaml").read_text())
    jsonschema.validate(project, json.loads(SCHEMA.read_text()))
    assert project["name"] == "aiinfra"
    assert project["main"] == "stacks/"
    assert project["runtime"]["name"] == "python"
    assert project["runtime"]["options"]["toolchain"] == "pip"
    assert (REPO / "stacks" / "__main__.py").is_file()


def test_stack_files_only_hold_config():
    for env in ("dev", "test", "prd"):
        document = yaml.safe_load((REPO / f"Pulumi.{env}.yaml").read_text())
        assert set(document) == {"config"}
        assert document["config"]["azure-native:location"] == document["config"]["aiinfra:platform"]["location"]


def test_requirements_lock_pins_every_dependency():
    for name in ("requirements.txt", "requirements-dev.txt"):
        lines = [line.split("#")[0].strip() for line in (REPO / name).read_text().splitlines()]
        pins = [line for line in lines if line]
        assert pins and all("==" in pin for pin in pins), name
    runtime = (REPO / "requirements.txt").read_text()
    for package in ("pulumi==", "pulumi-azure-native==3.", "pulumi-azuread==", "pydantic==2.", "pulumi-policy=="):
        assert package in runtime
