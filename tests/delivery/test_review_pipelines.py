"""The review and idempotency parts of the pipelines (issue 17): every environment's plan compared with the base
branch and posted on pull requests, on both platforms; the sandbox idempotency run that never starts without
credentials and always cleans up after itself."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from test_delivery_pipelines import (
    ADO,
    CALLER,
    ENVIRONMENTS,
    REPO,
    WORKFLOWS,
    _defaults,
    _expand,
    job_permissions,
    load,
    pulumi_pin,
    steps_using,
    triggers,
)

IDEMPOTENCY = WORKFLOWS / "infra-idempotency.yml"
ADO_IDEMPOTENCY = REPO / "pipelines" / "idempotency.yml"
BASE_PLAN = REPO / "pipelines" / "scripts" / "base-plan.sh"


def expanded(path: Path) -> dict:
    pipeline = load(path)
    return _expand(pipeline, _defaults(pipeline.get("parameters")), path.parent)


# --- the plan comment -----------------------------------------------------------------------------------------


def test_github_comments_every_environments_plan_compared_with_the_base_branch():
    workflow = load(CALLER)
    job = workflow["jobs"]["plan-comment"]
    assert job["needs"] == "preview" and "pull_request" in job["if"] and "!cancelled()" in job["if"], (
        "runs after the previews, also when one found mandatory violations"
    )
    assert job["strategy"]["matrix"]["environment"] == ENVIRONMENTS and job["strategy"]["fail-fast"] is False
    assert job_permissions(workflow, job) == {"contents": "read", "pull-requests": "write"}
    assert "id-token" not in job_permissions(workflow, job), "comparing plans needs no cloud credentials"
    (download,) = steps_using(job, "actions/download-artifact")
    assert download["with"]["name"] == "offline-preview-${{ matrix.environment }}"
    runs = "\n".join(s.get("run", "") for s in job["steps"])
    assert 'base-plan.sh ${{ matrix.environment }} "${{ github.base_ref }}"' in runs
    assert (
        '.venv/bin/aiinfra diff "$RUNNER_TEMP/base.json" offline-preview-${{ matrix.environment }}.json '
        "--markdown plan-comment-${{ matrix.environment }}.md" in runs
    )
    assert "$GITHUB_STEP_SUMMARY" in runs, "fork pull requests (read-only token) still see the plan"
    (post,) = steps_using(job, "actions/github-script")
    assert post["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    script = post["with"]["script"]
    assert "updateComment" in script and "createComment" in script and "startsWith(marker)" in script
    # The artifact it compares is the one the preview job uploads.
    preview = workflow["jobs"]["preview"]
    (upload,) = steps_using(preview, "actions/upload-artifact")
    assert upload["with"]["name"] == download["with"]["name"]


def test_ado_compares_and_posts_every_environment_on_pull_requests():
    jobs = {j["job"]: j for j in expanded(ADO)["stages"][0]["jobs"]}
    for env in ENVIRONMENTS:
        steps = jobs[f"preview_{env}"]["steps"]
        names = [s.get("displayName", "") for s in steps]
        compare = next(s for s in steps if "aiinfra diff" in s.get("script", ""))
        assert f"base-{env}.json" in compare["script"] and f"offline-preview-{env}.json" in compare["script"]
        assert f"plan-comment-{env}.md" in compare["script"] and "task.uploadsummary" in compare["script"]
        post = next(s for s in steps if "ado_pr_comment.py" in s.get("script", ""))
        assert post["env"] == {"SYSTEM_ACCESSTOKEN": "$(System.AccessToken)"}
        for step in (compare, post):
            assert "succeededOrFailed()" in step["condition"] and "'PullRequest'" in step["condition"]
        # After the offline preview that writes the plan it compares.
        writer = next(i for i, s in enumerate(steps) if f"-m stacks.preview {env} --json" in s.get("script", ""))
        assert writer < steps.index(compare) < steps.index(post), names


@pytest.mark.integration  # runs bash
def test_base_plan_script_is_valid_bash_with_an_empty_plan_fallback():
    """base-plan.sh's fallback: a stack the base branch does not have is an empty plan (every resource a create)."""
    text = BASE_PLAN.read_text()
    assert text.startswith("#!/usr/bin/env bash") and "set -euo pipefail" in text
    assert '"$status" -eq 2' in text and '"resources": []' in text
    assert subprocess.run(["bash", "-n", str(BASE_PLAN)], check=False).returncode == 0


# --- idempotency on a sandbox -----------------------------------------------------------------------------------


def test_github_idempotency_never_runs_without_credentials_and_always_destroys():
    workflow = load(IDEMPOTENCY)
    assert set(triggers(workflow)) == {"workflow_dispatch", "schedule"}, "never on pull requests or pushes"
    assert workflow["permissions"] == {"contents": "read"}
    assert workflow["env"]["PULUMI_VERSION"] == pulumi_pin()
    (job,) = workflow["jobs"].values()
    for variable in (
        "AZURE_SANDBOX_CLIENT_ID",
        "AZURE_SANDBOX_SUBSCRIPTION_ID",
        "SANDBOX_PULUMI_BACKEND_URL",
        "SANDBOX_SECRETS_PROVIDER",
    ):
        assert f"vars.{variable} != ''" in job["if"]
    assert job["environment"] == "sandbox" and job["concurrency"]["cancel-in-progress"] is False
    assert job_permissions(workflow, job) == {"contents": "read", "id-token": "write"}
    (login,) = steps_using(job, "azure/login")
    assert set(login["with"]) == {"client-id", "tenant-id", "subscription-id"}
    assert job["env"]["ARM_USE_OIDC"] == "true"
    (cli,) = steps_using(job, "pulumi/actions")
    assert cli["with"] == {"pulumi-version": "${{ env.PULUMI_VERSION }}"}, "installs the pinned CLI only"

    runs = [s.get("run", "") for s in job["steps"]]
    order = [
        next(i for i, r in enumerate(runs) if pattern in r)
        for pattern in ("stacks.preview", "pulumi up ", "--expect-no-changes", "pulumi destroy")
    ]
    assert order == sorted(order), "offline gate, deploy, second run, destroy"
    for command in ("pulumi up ", "pulumi preview "):
        (script,) = [r for r in runs if command in r]
        assert '--policy-pack policies --policy-pack-config "policies/config/$STACK.json"' in script
    destroy = next(s for s in job["steps"] if "pulumi destroy" in s.get("run", ""))
    assert destroy["if"].startswith("always()") and "pulumi state unprotect" in destroy["run"]
    deploy = next(s for s in job["steps"] if "pulumi up " in s.get("run", ""))
    assert deploy["id"] == "deploy" and "aiinfra:platform.prefix" in deploy["run"], "a name prefix per run"
    assert "--path aiinfra:platform.createResourceGroup true" in deploy["run"], "its own group: no bootstrap needed"
    assert re.search(r'"sbx\$\(\( GITHUB_RUN_NUMBER % 1000000 \)\)"', deploy["run"]), "fits the prefix pattern"


def test_ado_idempotency_needs_its_variable_group_and_connection_and_always_destroys():
    pipeline = expanded(ADO_IDEMPOTENCY)
    assert pipeline["trigger"] == "none" and pipeline["pr"] == "none"
    assert [v["group"] for v in pipeline["variables"] if "group" in v] == ["aiinfra-sandbox"]
    variables = {v["name"]: v["value"] for v in pipeline["variables"] if "name" in v}
    assert variables["PULUMI_VERSION"] == pulumi_pin()
    (job,) = pipeline["jobs"]
    assert "SANDBOX_PULUMI_BACKEND_URL" in job["condition"] and "SANDBOX_SECRETS_PROVIDER" in job["condition"]
    tasks = [s for s in job["steps"] if s.get("task") == "AzureCLI@2"]
    assert all(
        t["inputs"]["azureSubscription"] == "aiinfra-sandbox" and t["inputs"]["addSpnToEnvironment"] is True
        for t in tasks
    )
    deploy, destroy = tasks
    script = " ".join(deploy["inputs"]["inlineScript"].split("\\\n"))
    assert script.index("pulumi up ") < script.index("pulumi preview ") and "--expect-no-changes" in script
    assert script.count("--policy-pack policies --policy-pack-config policies/config/dev.json") == 2
    assert 'ARM_OIDC_TOKEN="$idToken"' in script
    assert "aiinfra:platform.prefix" in script and "aiinfra:platform.createResourceGroup true" in script
    assert destroy["condition"] == "always()" and "pulumi destroy" in destroy["inputs"]["inlineScript"]
    scripts = [s.get("script", "") for s in job["steps"]]
    assert any("-m stacks.preview dev --json" in s for s in scripts), "the offline gate runs first"


def test_ado_comment_updates_its_own_thread_or_creates_one(tmp_path, monkeypatch):
    import importlib.util
    import io
    import json

    spec = importlib.util.spec_from_file_location(
        "ado_pr_comment", REPO / "pipelines" / "scripts" / "ado_pr_comment.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    comment = tmp_path / "c.md"
    comment.write_text("<!-- aiinfra-plan:prd -->\n### plan\n")
    for key, value in {
        "SYSTEM_ACCESSTOKEN": "t",
        "SYSTEM_COLLECTIONURI": "https://dev.azure.com/org/",
        "SYSTEM_TEAMPROJECTID": "p",
        "BUILD_REPOSITORY_ID": "r",
        "SYSTEM_PULLREQUEST_PULLREQUESTID": "7",
    }.items():
        monkeypatch.setenv(key, value)
    calls = []

    def fake(threads):
        def urlopen(request, timeout):
            calls.append((request.get_method(), request.full_url, json.loads(request.data) if request.data else None))
            body = {"value": threads} if request.get_method() == "GET" else {}
            return io.BytesIO(json.dumps(body).encode())

        return urlopen

    class Response(io.BytesIO):
        def __enter__(self):
            return self

        def __exit__(self, *exc) -> None:
            return None

    def patch(threads):
        opener = fake(threads)
        monkeypatch.setattr(module.urllib.request, "urlopen", lambda r, timeout: Response(opener(r, timeout).read()))

    monkeypatch.setattr("sys.argv", ["x", str(comment)])
    patch([{"id": 3, "comments": [{"id": 1, "content": "<!-- aiinfra-plan:prd -->\nold"}]}])
    assert module.main() == 0
    assert calls[-1][0] == "PATCH" and calls[-1][1].endswith("/pullRequests/7/threads/3/comments/1?api-version=7.1")
    calls.clear()
    patch([{"id": 4, "comments": [{"id": 1, "content": "<!-- aiinfra-plan:dev -->"}]}])
    assert module.main() == 0
    assert calls[-1][0] == "POST" and calls[-1][2]["comments"][0]["content"].startswith("<!-- aiinfra-plan:prd -->")
