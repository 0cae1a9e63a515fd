"""The AKS prerequisite bootstrap/ owns: the subscription feature encryption at host needs."""

from __future__ import annotations

import shutil

import pytest
from helpers import one, run_here

FEATURE = "azure-native:features:SubscriptionFeatureRegistration"


@pytest.mark.parametrize("env", ["dev", "prd"])
def test_bootstrap_registers_encryption_at_host_for_the_platform_aks(repo, env):
    plan = run_here(repo / "bootstrap", env)
    feature = one(plan, FEATURE)
    assert (feature.inputs["providerNamespace"], feature.inputs["featureName"]) == (
        "Microsoft.Compute",
        "EncryptionAtHost",
    )
    assert "encryptionAtHostFeatureState" in plan.stack_outputs


def bootstrap_plan_with(repo, tmp_path, *edits: tuple[str, str]):
    """The bootstrap plan of dev with each (old, new) replaced once in the platform's stack file."""
    platform = (repo / "Pulumi.dev.yaml").read_text()
    for old, new in edits:
        assert old in platform
        platform = platform.replace(old, new, 1)
    (tmp_path / "Pulumi.dev.yaml").write_text(platform)
    # bootstrap/ reads ../Pulumi.<stack>.yaml next to itself: run a copy of it beside the edited platform file.
    shutil.copytree(repo / "bootstrap", tmp_path / "bootstrap")
    for name in ("stacks", "aiinfra", "components", "engine", "policies"):
        target = repo / name
        (tmp_path / name).symlink_to(target.resolve(), target_is_directory=True)
    return run_here(tmp_path / "bootstrap", "dev")


AKS_OFF = ("      skuTier: Free\n", "      skuTier: Free\n      encryptionAtHost: false\n")
BATCH = "    batch:\n      vmSize: Standard_NC4as_T4_v3\n"
BATCH_ON = (BATCH, BATCH + "      encryptionAtHost: true\n")


def test_no_feature_registration_when_the_platform_turns_encryption_at_host_off(repo, tmp_path):
    plan = bootstrap_plan_with(repo, tmp_path, AKS_OFF)
    assert not plan.of_type(FEATURE)


def test_a_batch_pool_that_encrypts_at_host_gets_the_feature_too(repo, tmp_path):
    # batch.encryptionAtHost needs the same subscription feature (Learn, "Use the Azure CLI to enable end-to-end
    # encryption using encryption at host", Prerequisites), also when the AKS cluster does not encrypt at host.
    plan = bootstrap_plan_with(repo, tmp_path, AKS_OFF, BATCH_ON)
    assert one(plan, FEATURE).inputs["featureName"] == "EncryptionAtHost"
