"""Stack config errors: the file, the YAML key path, the reason, exit 2, no traceback, nothing registered."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from stacks import preview
from stacks.config import PlatformConfig, parse_platform_config

REPO = Path(__file__).resolve().parent.parent


def dev_config() -> dict:
    return yaml.safe_load((REPO / "Pulumi.dev.yaml").read_text())


def write(tmp_path: Path, document: dict) -> Path:
    path = tmp_path / "Pulumi.trial.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def run_preview(capsys, stack_file: Path) -> tuple[int, str]:
    code = preview.main(["dev", "--stack-file", str(stack_file), "--no-policies", "--quiet"])
    captured = capsys.readouterr()
    return code, captured.err


def platform(document: dict) -> dict:
    return document["config"]["aiinfra:platform"]


@pytest.mark.parametrize(
    "mutate,expected",
    [
        (
            lambda p: p["shared"].update(adressSpace="10.0.0.0/16"),
            "aiinfra:platform.shared.adressSpace: unknown key; did you mean 'addressSpace'?",
        ),
        (
            lambda p: p["shared"]["budget"].update(amount="lots"),
            "aiinfra:platform.shared.budget.amount: Input should be a valid number",
        ),
        (
            lambda p: p["shared"].update(addressSpace="10.0.0.0/33"),
            "aiinfra:platform.shared.addressSpace: '10.0.0.0/33' is not a valid IPv4 CIDR block",
        ),
        (lambda p: p.pop("location"), "aiinfra:platform.location: required key is missing"),
        (lambda p: p.update(location="westus33"), "aiinfra:platform.location: unknown Azure region 'westus33'"),
        (lambda p: p["tags"].pop("costCenter"), "aiinfra:platform.tags: missing required tag(s) costCenter"),
        (
            lambda p: p["shared"]["lifecycle"].update(modelsArchiveAfterDays=10),
            "aiinfra:platform.shared.lifecycle: modelsArchiveAfterDays (10) must be greater than modelsCoolAfterDays (30)",
        ),
    ],
)
@pytest.mark.integration  # the CLI runs the program in its own process
def test_config_errors_name_file_and_yaml_path(tmp_path, capsys, mutate, expected):
    document = dev_config()
    mutate(platform(document))
    stack_file = write(tmp_path, document)
    code, err = run_preview(capsys, stack_file)
    assert code == 2
    assert f"error: {stack_file}: invalid stack config:" in err
    assert expected in err
    assert "Traceback" not in err


@pytest.mark.integration  # the CLI runs the program in its own process
def test_missing_platform_key(tmp_path, capsys):
    document = dev_config()
    del document["config"]["aiinfra:platform"]
    code, err = run_preview(capsys, write(tmp_path, document))
    assert code == 2
    assert "missing required key aiinfra:platform" in err


def test_missing_stack_file_is_a_usage_error(tmp_path, capsys):
    code, err = run_preview(capsys, tmp_path / "nope.yaml")
    assert code == 2 and "no such stack file" in err


@pytest.mark.integration  # the CLI runs the program in its own process
def test_secure_values_do_not_break_offline_runs(tmp_path, capsys):
    document = dev_config()
    document["config"]["aiinfra:unrelatedSecret"] = {"secure": "v1:AAAABBBBCCCC"}
    code, err = run_preview(capsys, write(tmp_path, document))
    assert code == 0, err


@pytest.mark.integration  # the CLI runs the program in its own process
def test_error_exits_2_without_traceback_in_a_real_process(tmp_path):
    document = dev_config()
    platform(document)["shared"]["natGatway"] = True
    stack_file = write(tmp_path, document)
    result = subprocess.run(
        [sys.executable, "-m", "stacks.preview", "dev", "--stack-file", str(stack_file)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "natGatway: unknown key; did you mean 'natGateway'?" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_every_environment_config_is_valid():
    for env in ("dev", "test", "prd"):
        document = yaml.safe_load((REPO / f"Pulumi.{env}.yaml").read_text())
        config = parse_platform_config(platform(document), f"Pulumi.{env}.yaml")
        assert isinstance(config, PlatformConfig)
        assert config.environment == env
