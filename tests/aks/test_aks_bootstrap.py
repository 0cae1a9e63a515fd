"""The AKS prerequisite bootstrap/ owns: the subscription feature encryption at host needs."""

from __future__ import annotations

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


def test_no_feature_registration_when_the_platform_turns_encryption_at_host_off(repo, tmp_path):
    platform = (repo / "Pulumi.dev.yaml").read_text()
    assert "      skuTier: Free\n" in platform
    (tmp_path / "Pulumi.dev.yaml").write_text(
        platform.replace("      skuTier: Free\n", "      skuTier: Free\n      encryptionAtHost: false\n", 1)
    )
    # bootstrap/ reads ../Pulumi.<stack>.yaml next to itself: run a copy of it beside the edited platform file.
    import shutil

    shutil.copytree(repo / "bootstrap", tmp_path / "bootstrap")
    for name in ("stacks", "aiinfra", "components", "engine", "policies"):
        target = repo / name
        (tmp_path / name).symlink_to(target.resolve(), target_is_directory=True)
    plan = run_here(tmp_path / "bootstrap", "dev")
    assert not plan.of_type(FEATURE)
