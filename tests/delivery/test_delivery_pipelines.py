"""The deploy pipelines users copy (GitHub Actions and Azure Pipelines): the structure that keeps them safe.

OIDC only (no secret of any kind), the policy pack with the environment's config on every real preview and update,
every environment previewed on pull requests, and dev -> test -> prd with prd behind an approval-gated environment.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.integration  # runs the pipelines' bash scripts

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / ".github" / "workflows"
CALLER = WORKFLOWS / "infra.yml"
DEPLOY = WORKFLOWS / "infra-deploy.yml"
ADO = REPO / "pipelines" / "azure-pipelines.yml"
ENVIRONMENTS = ["dev", "test", "prd"]
PIPELINE_FILES = sorted([*WORKFLOWS.glob("*.yml"), *(REPO / "pipelines").rglob("*.yml")])

FORBIDDEN = [
    r"client-secret",
    r"ARM_CLIENT_SECRET",
    r"AZURE_CLIENT_SECRET",
    r"ARM_CLIENT_CERTIFICATE",
    r"servicePrincipalKey",
    r"\bcreds\s*:",
    r"AZURE_CREDENTIALS",
    r"password",
    r"passphrase",
    r"PULUMI_ACCESS_TOKEN",
    r"\$\{\{\s*secrets\.",
    r"\bsecret\s*:",
    r"storage[_-]?key",
    r"sas[_-]?token",
]


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    assert isinstance(document, dict), path
    return document


def triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    """`on:` — which YAML 1.1 (PyYAML) reads as the boolean True."""
    value = workflow.get("on", workflow.get(True))
    assert isinstance(value, dict), "workflow triggers must be a mapping"
    return value


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job.get("steps", []) if str(s.get("uses", "")).split("@")[0] == action]


def job_permissions(workflow: dict[str, Any], job: dict[str, Any]) -> dict[str, str]:
    return job.get("permissions", workflow.get("permissions", {}))


def pulumi_pin() -> str:
    match = re.search(r"^pulumi==(\S+)", (REPO / "requirements.txt").read_text(), re.MULTILINE)
    assert match
    return match.group(1)


# --- both platforms -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PIPELINE_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_no_secret_of_any_kind(path):
    text = path.read_text()
    for pattern in FORBIDDEN:
        assert not re.search(pattern, text, re.IGNORECASE), f"{path.name}: /{pattern}/ found"


def test_the_pipelines_exist_and_parse():
    assert {CALLER, DEPLOY, ADO} <= set(PIPELINE_FILES)
    for path in PIPELINE_FILES:
        load(path)


# --- GitHub Actions -------------------------------------------------------------------------------------------


def test_every_action_is_pinned_to_an_exact_version():
    for path in (CALLER, DEPLOY):
        for job in load(path)["jobs"].values():
            for step in job.get("steps", []):
                uses = step.get("uses")
                if uses is None:
                    continue
                assert re.fullmatch(r"[\w.-]+/[\w.-]+(/[\w.-]+)*@(v\d+\.\d+\.\d+|[0-9a-f]{40})", uses), (
                    f"{path.name}: {uses} is not pinned to an exact release or commit"
                )


def test_pulumi_cli_matches_the_pinned_sdk():
    for path in (CALLER, DEPLOY):
        assert load(path)["env"]["PULUMI_VERSION"] == pulumi_pin(), path.name
        for job in load(path)["jobs"].values():
            for step in steps_using(job, "pulumi/actions"):
                assert step["with"]["pulumi-version"] == "${{ env.PULUMI_VERSION }}"


def test_workflow_token_is_read_only_by_default():
    for path in (CALLER, DEPLOY):
        workflow = load(path)
        assert workflow["permissions"].get("contents") == "read"
        for job in workflow["jobs"].values():
            permissions = job_permissions(workflow, job)
            assert permissions != "write-all" and permissions.get("contents") in ("read", None)


def test_azure_login_is_oidc_with_the_id_token_permission():
    logins = 0
    for path in (CALLER, DEPLOY):
        workflow = load(path)
        for job in workflow["jobs"].values():
            for step in steps_using(job, "azure/login"):
                logins += 1
                assert set(step["with"]) == {"client-id", "tenant-id", "subscription-id"}
                assert job_permissions(workflow, job).get("id-token") == "write"
            if steps_using(job, "pulumi/actions"):
                assert job_permissions(workflow, job).get("id-token") == "write"
                assert job["env"]["ARM_USE_OIDC"] == "true"
                assert {"ARM_CLIENT_ID", "ARM_TENANT_ID", "ARM_SUBSCRIPTION_ID"} <= set(job["env"])
                assert all(str(job["env"][k]).startswith("${{ vars") for k in ("ARM_CLIENT_ID", "ARM_TENANT_ID"))
    assert logins == 2
    # The caller must hand the reusable deploy workflow the right to request a token.
    # (Refreshing that token during long runs: test_long_runs_keep_the_oidc_login_fresh.)
    for name, job in load(CALLER)["jobs"].items():
        if "uses" in job:
            assert job["permissions"] == {"contents": "read", "id-token": "write"}, name


def test_pull_requests_test_and_preview_every_environment_with_the_policy_pack():
    workflow = load(CALLER)
    assert "pull_request" in triggers(workflow) and triggers(workflow)["push"]["branches"] == ["main"]
    jobs = workflow["jobs"]
    assert [s["run"] for s in jobs["test"]["steps"] if "run" in s] == ["make setup", "make test"]

    preview = jobs["preview"]
    assert "pull_request" in preview["if"] and preview["needs"] == "test"
    matrix = preview["strategy"]["matrix"]["include"]
    assert [m["environment"] for m in matrix] == ENVIRONMENTS
    assert all(m["key"] == m["environment"].upper() for m in matrix)
    assert preview["strategy"]["fail-fast"] is False, "one environment's failure must not hide the others' previews"
    # Each environment's own read-only preview identity.
    assert "AZURE_PREVIEW_CLIENT_ID_{0}" in preview["env"]["ARM_CLIENT_ID"]

    runs = [s.get("run", "") for s in preview["steps"]]
    preview_run = (
        ".venv/bin/python -m stacks.preview ${{ matrix.environment }} --json "
        "offline-preview-${{ matrix.environment }}.json --policy-report policy-${{ matrix.environment }}.sarif"
    )
    assert preview_run in runs
    # The pack's findings go to code scanning as SARIF (issue 15), whatever the preview's exit code.
    (sarif,) = steps_using(preview, "github/codeql-action/upload-sarif")
    assert sarif["with"]["sarif_file"] == "policy-${{ matrix.environment }}.sarif"
    assert sarif["if"].startswith("always()") and preview["permissions"]["security-events"] == "write"
    assert "make setup" in runs
    upload = steps_using(preview, "actions/upload-artifact")
    assert len(upload) == 1 and upload[0]["with"]["path"] == "offline-preview-${{ matrix.environment }}.json"
    assert upload[0]["if"] == "always()"

    (pulumi,) = steps_using(preview, "pulumi/actions")
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["stack-name"] == "${{ matrix.environment }}"
    assert pulumi["with"]["policyPacks"] == "policies"
    assert pulumi["with"]["policyPackConfigs"] == "policies/config/${{ matrix.environment }}.json"
    for env in ENVIRONMENTS:
        assert (REPO / "policies" / "config" / f"{env}.json").is_file()


def test_every_pulumi_command_runs_the_policy_pack_with_its_environment_config():
    seen = set()
    for path in (CALLER, DEPLOY):
        for job in load(path)["jobs"].values():
            for step in steps_using(job, "pulumi/actions"):
                inputs = step["with"]
                seen.add(inputs["command"])
                stack_expression = inputs["stack-name"]
                assert inputs["policyPacks"] == "policies"
                assert inputs["policyPackConfigs"] == f"policies/config/{stack_expression}.json"
                assert inputs["cloud-url"] == "${{ vars.PULUMI_BACKEND_URL }}"
    assert seen == {"preview", "up"}


def test_main_deploys_dev_then_test_then_prd_each_in_its_environment():
    jobs = load(CALLER)["jobs"]
    chain = {name: job for name, job in jobs.items() if name.startswith("up-")}
    assert set(chain) == {"up-dev", "up-test", "up-prd"}
    assert "push" in chain["up-dev"]["if"] and "refs/heads/main" in chain["up-dev"]["if"]
    assert chain["up-dev"]["needs"] == "test"
    assert chain["up-test"]["needs"] == "up-dev"
    assert chain["up-prd"]["needs"] == "up-test"
    for env in ENVIRONMENTS:
        job = chain[f"up-{env}"]
        assert job["uses"] == "./.github/workflows/infra-deploy.yml"
        assert job["with"] == {"environment": env}

    deploy = load(DEPLOY)
    assert set(triggers(deploy)) == {"workflow_call"}
    (up,) = deploy["jobs"].values()
    # The job runs in the GitHub environment: prd's required reviewers gate it, and the deploy identity trusts
    # only the subject `repo:<owner>/<repo>:environment:<env>` such a job gets.
    assert up["environment"] == "${{ inputs.environment }}"
    assert up["concurrency"]["cancel-in-progress"] is False
    (pulumi,) = steps_using(up, "pulumi/actions")
    assert pulumi["with"]["command"] == "up" and pulumi["with"]["stack-name"] == "${{ inputs.environment }}"
    assert up["env"]["ARM_CLIENT_ID"] == "${{ vars.AZURE_CLIENT_ID }}"
    runs = [s.get("run", "") for s in up["steps"]]
    gate = [r for r in runs if "stacks.preview ${{ inputs.environment }}" in r]
    steps = [s.get("run") or s.get("uses", "") for s in up["steps"]]
    assert gate and steps.index(gate[0]) < steps.index(pulumi["uses"]), "the offline policy gate runs before up"


def test_bootstrap_exports_the_variables_the_workflows_read():
    from test_deployer_identity import bootstrap_plan  # same directory, shared plan cache

    outputs = bootstrap_plan("dev").stack_outputs
    caller, deploy = CALLER.read_text(), DEPLOY.read_text()
    for name in outputs["githubEnvironmentVariables"]:
        assert f"vars.{name}" in deploy
    for name in outputs["githubRepositoryVariables"]:
        generic = re.sub(r"_DEV$", "_{0}", name)
        assert f"vars.{name}" in caller or f"'{generic}'" in caller


# --- Azure Pipelines ------------------------------------------------------------------------------------------

_EXPRESSION = re.compile(r"\$\{\{\s*(?:parameters\.)?(\w+)\s*\}\}")
_EACH = re.compile(r"\$\{\{\s*each\s+(\w+)\s+in\s+parameters\.(\w+)\s*\}\}")


def _defaults(declared: list[dict[str, Any]] | None) -> dict[str, Any]:
    return {p["name"]: p["default"] for p in declared or [] if "default" in p}


def _expand(node: Any, params: dict[str, Any], here: Path) -> Any:
    """Compile-time expansion as Azure Pipelines does it: templates, parameters, `each`."""
    if isinstance(node, str):
        whole = _EXPRESSION.fullmatch(node.strip())
        if whole:
            return params[whole.group(1)]
        return _EXPRESSION.sub(lambda m: str(params[m.group(1)]), node)
    if isinstance(node, dict):
        return {key: _expand(value, params, here) for key, value in node.items()}
    if isinstance(node, list):
        out: list[Any] = []
        for item in node:
            if isinstance(item, dict) and len(item) == 1 and _EACH.fullmatch(str(next(iter(item)))):
                key = next(iter(item))
                variable, collection = _EACH.fullmatch(key).groups()  # type: ignore[union-attr]
                for value in params[collection]:
                    out.extend(_expand(item[key], {**params, variable: value}, here))
            elif isinstance(item, dict) and "template" in item:
                path = here / item["template"]
                template = load(path)
                given = _expand(item.get("parameters", {}), params, here)
                declared = {p["name"]: p for p in template.get("parameters", [])}
                assert set(given) <= set(declared), f"{path.name}: unknown parameters {set(given) - set(declared)}"
                for name, spec in declared.items():
                    value = given.get(name, spec.get("default"))
                    assert value is not None, f"{path.name}: parameter {name} is required"
                    if "values" in spec:
                        assert value in spec["values"], f"{path.name}: {name}={value}"
                body = next(template[k] for k in ("stages", "jobs", "steps") if k in template)
                out.extend(_expand(body, {**_defaults(template.get("parameters")), **given}, path.parent))
            else:
                out.append(_expand(item, params, here))
        return out
    return node


@pytest.fixture(scope="module")
def ado() -> dict[str, Any]:
    pipeline = load(ADO)
    return _expand(pipeline, _defaults(pipeline.get("parameters")), ADO.parent)


def _all_steps(ado: dict[str, Any]):
    for stage in ado["stages"]:
        for job in stage["jobs"]:
            steps = job["strategy"]["runOnce"]["deploy"]["steps"] if "deployment" in job else job["steps"]
            for step in steps:
                yield stage, job, step


def _pulumi_commands(ado: dict[str, Any]):
    for stage, job, step in _all_steps(ado):
        if step.get("task") == "AzureCLI@2":
            line = " ".join(step["inputs"]["inlineScript"].split("\\\n"))
            for command in re.findall(r"^\s*pulumi (preview|up) (.+)$", line, re.MULTILINE):
                yield stage, job, step, command


def test_ado_triggers_and_pinned_cli(ado):
    assert ado["trigger"]["branches"]["include"] == ["main"]
    assert ado["pr"]["branches"]["include"] == ["main"]
    variables = {v["name"]: v["value"] for v in ado["variables"] if "name" in v}
    assert variables["PULUMI_VERSION"] == pulumi_pin()
    groups = [v["group"] for v in ado["variables"] if "group" in v]
    assert groups == ["aiinfra-delivery"]


def test_ado_validates_every_environment_with_tests_offline_and_policy_previews(ado):
    validate = ado["stages"][0]
    assert validate["stage"] == "validate" and "condition" not in validate
    jobs = {j["job"]: j for j in validate["jobs"]}
    assert [s.get("script") for s in jobs["test"]["steps"] if "script" in s] == ["make setup", "make test"]
    for env in ENVIRONMENTS:
        job = jobs[f"preview_{env}"]
        assert job["dependsOn"] == "test"
        scripts = " ".join(s.get("script", "") for s in job["steps"])
        assert f"-m stacks.preview {env} --json" in scripts
        assert any(s.get("artifact", "").startswith(f"offline-preview-{env}") for s in job["steps"])
    previews = [
        (job["job"], step, command) for stage, job, step, command in _pulumi_commands(ado) if command[0] == "preview"
    ]
    assert sorted(name for name, _, _ in previews) == sorted(f"preview_{env}" for env in ENVIRONMENTS)
    for name, step, (_, arguments) in previews:
        env = name.removeprefix("preview_")
        assert step["inputs"]["azureSubscription"] == f"aiinfra-{env}-preview", "previews use the read-only identity"
        assert f"--stack {env} " in arguments


def test_ado_every_pulumi_command_runs_the_policy_pack_with_its_environment_config(ado):
    commands = list(_pulumi_commands(ado))
    assert {c[0] for *_, c in commands} == {"preview", "up"}
    for _, _, _, (_, arguments) in commands:
        env = re.search(r"--stack (\w+)", arguments).group(1)  # type: ignore[union-attr]
        assert "--policy-pack policies " in arguments
        assert f"--policy-pack-config policies/config/{env}.json" in arguments


def test_ado_login_is_workload_identity_federation_refreshed_for_long_runs(ado):
    for _, _, step, _ in _pulumi_commands(ado):
        script = step["inputs"]["inlineScript"]
        assert step["inputs"]["addSpnToEnvironment"] is True
        assert "ARM_USE_OIDC=true" in script and "$servicePrincipalKey" not in script
        # Not the one-shot $idToken (about 10 minutes): the refresher's file, renewed before it expires.
        assert 'ARM_OIDC_TOKEN="$idToken"' not in script
        start = script.index("azure-oidc-refresh.sh start")
        assert start < script.index("pulumi login") and "azure-oidc-refresh.sh stop" in script
        assert step["env"] == {"SYSTEM_ACCESSTOKEN": "$(System.AccessToken)"}


def test_ado_up_refreshes_so_release_owned_images_survive(ado):
    ups = [step for _, _, step, (command, _) in _pulumi_commands(ado) if command == "up"]
    assert len(ups) == len(ENVIRONMENTS)
    for step in ups:
        assert "extra=(--yes --skip-preview --refresh)" in step["inputs"]["inlineScript"]


def test_ado_deploys_dev_then_test_then_prd_on_approval_gated_environments(ado):
    stages = {s["stage"]: s for s in ado["stages"]}
    assert stages["deploy_dev"]["dependsOn"] == "validate"
    assert stages["deploy_test"]["dependsOn"] == "deploy_dev"
    assert stages["deploy_prd"]["dependsOn"] == "deploy_test"
    for env in ENVIRONMENTS:
        stage = stages[f"deploy_{env}"]
        assert "refs/heads/main" in stage["condition"] and "PullRequest" in stage["condition"]
        (job,) = stage["jobs"]
        # A deployment job on an Azure DevOps environment: its approvals and checks gate the stage.
        assert job["deployment"] and job["environment"] == f"aiinfra-{env}"
        steps = job["strategy"]["runOnce"]["deploy"]["steps"]
        assert steps[0] == {"checkout": "self"}
        ups = [step for _, j, step, (command, _) in _pulumi_commands(ado) if j is job and command == "up"]
        assert len(ups) == 1 and ups[0]["inputs"]["azureSubscription"] == f"aiinfra-{env}"


# --- OIDC tokens outlived by long runs ------------------------------------------------------------------------

REFRESHER = REPO / "pipelines" / "azure-oidc-refresh.sh"


def test_long_runs_keep_the_oidc_login_fresh():
    """Every GitHub job that logs in to Azure starts the refresher right after the login, before Pulumi runs."""
    for path in (CALLER, DEPLOY):
        for job in load(path)["jobs"].values():
            steps = job.get("steps", [])
            logins = [i for i, s in enumerate(steps) if str(s.get("uses", "")).startswith("azure/login@")]
            for i in logins:
                refresher = steps[i + 1]
                assert refresher["run"] == 'pipelines/azure-oidc-refresh.sh start >> "$GITHUB_ENV"'
                assert refresher.get("if") == steps[i].get("if")
                pulumi = [j for j, s in enumerate(steps) if str(s.get("uses", "")).startswith("pulumi/actions@")]
                assert pulumi and all(j > i + 1 for j in pulumi)


def test_github_up_refreshes_so_release_owned_images_survive():
    (step,) = steps_using(load(DEPLOY)["jobs"]["up"], "pulumi/actions")
    assert step["with"]["command"] == "up" and step["with"]["refresh"] is True


def _stub(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text("#!/usr/bin/env bash\n" + body)
    path.chmod(0o755)


@pytest.mark.parametrize("platform", ["github", "azure-devops"])
def test_refresher_renews_the_token_file_and_the_cli_login(tmp_path, platform):
    import os
    import subprocess
    import time

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    # A token endpoint that hands out a new token on every call, and an `az` that records its logins.
    _stub(
        bin_dir,
        "curl",
        f"n=$(( $(cat {tmp_path}/n 2>/dev/null || echo 0) + 1 )); echo $n > {tmp_path}/n\n"
        f'echo "curl $*" >> {calls}\n'
        'printf \'{"value": "gh-token-%s", "oidcToken": "ado-token-%s"}\' $n $n\n',
    )
    _stub(bin_dir, "az", f'echo "az $*" >> {calls}\n')
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "RUNNER_TEMP": str(tmp_path),
        "OIDC_REFRESH_SECONDS": "1",
        "ARM_CLIENT_ID": "client",
        "ARM_TENANT_ID": "tenant",
        "ARM_SUBSCRIPTION_ID": "sub",
    }
    if platform == "github":
        env.update(ACTIONS_ID_TOKEN_REQUEST_URL="https://token.example/?x=1", ACTIONS_ID_TOKEN_REQUEST_TOKEN="req")
    else:
        env.update(
            SYSTEM_OIDCREQUESTURI="https://dev.azure.com/org/proj/_apis/distributedtask/hubs/build/plans/p/"
            "jobs/j/oidctoken",
            SYSTEM_ACCESSTOKEN="sys",
            AZURESUBSCRIPTION_SERVICE_CONNECTION_ID="sc-id",
        )
    started = subprocess.run(["bash", str(REFRESHER), "start"], env=env, capture_output=True, text=True, timeout=30)
    try:
        assert started.returncode == 0, started.stderr
        token_file = tmp_path / "azure-federated-token"
        assert started.stdout.split() == [
            f"AZURE_FEDERATED_TOKEN_FILE={token_file}",
            f"ARM_OIDC_TOKEN_FILE_PATH={token_file}",
        ]
        prefix = "gh-token-" if platform == "github" else "ado-token-"
        assert token_file.read_text() == f"{prefix}1"
        assert oct(token_file.stat().st_mode & 0o777) == "0o600"
        deadline = time.time() + 15
        while time.time() < deadline and token_file.read_text() in (f"{prefix}1", f"{prefix}2"):
            time.sleep(0.2)
        assert token_file.read_text().startswith(prefix) and int(token_file.read_text()[len(prefix) :]) >= 3
    finally:
        subprocess.run(["bash", str(REFRESHER), "stop"], env=env, timeout=30, check=True)
    logins = [line for line in calls.read_text().splitlines() if line.startswith("az login")]
    assert len(logins) >= 3 and all("--federated-token" in line and "--username client" in line for line in logins)
    requests = [line for line in calls.read_text().splitlines() if line.startswith("curl")]
    if platform == "github":
        assert all("audience=api://AzureADTokenExchange" in r for r in requests)
    else:
        assert all("serviceConnectionId=sc-id" in r and "-X POST" in r for r in requests)
    # Stopped: no more refreshes, and the token file is gone.
    count = len(calls.read_text().splitlines())
    time.sleep(1.5)
    assert len(calls.read_text().splitlines()) == count and not (tmp_path / "azure-federated-token").exists()


def test_refresher_without_a_token_source_fails_clearly(tmp_path):
    import subprocess

    env = {
        "PATH": "/usr/bin:/bin",
        "RUNNER_TEMP": str(tmp_path),
        "ARM_CLIENT_ID": "c",
        "ARM_TENANT_ID": "t",
        "ARM_SUBSCRIPTION_ID": "s",
    }
    result = subprocess.run(["bash", str(REFRESHER), "start"], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode != 0 and "no OIDC token source" in result.stderr
