"""The pack as the Pulumi CLI runs it (`pulumi preview --policy-pack policies`): a Python with aiinfra installed, where
the pack may use only aiinfra.policies, aiinfra.catalog, pulumi, pulumi_policy and the standard library (pydantic comes
with the catalogue). The components and the offline engine are not part of that path: a rule that reached them would
work in this repository's tests and fail for a team that installs the pack on its own."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PACK = Path(__file__).resolve().parents[2] / "policies"

PROGRAM = textwrap.dedent(
    """
    import sys

    class Forbidden:
        # Refuse the modules the pack must not need, as if only the pack and the catalogue were installed.
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] == "pulumi_azure_native" or name.startswith(("aiinfra.engine", "aiinfra.components")):
                raise ImportError(f"the pack imported {name}")
            return None

    sys.meta_path.insert(0, Forbidden())

    from aiinfra.policies import Resource, policies, rule

    assert len(policies()) > 40
    formula = "$TargetLowPriorityNodes = min(4, $PendingTasks.GetSample(1)); $TargetDedicatedNodes = 0"
    batch = Resource(
        "azure-native:batch:Pool",
        "train",
        "urn",
        {"vmSize": "Standard_NC4as_T4_v3", "scaleSettings": {"autoScale": {"formula": formula}}},
    )
    assert rule("gpu-pool-low-priority").run(batch) == []
    assert rule("gpu-pool-max-nodes").run(batch, {"maxNodes": 2}) == [
        "Batch pool 'train' can grow to 4 GPU nodes; the cap here is 2."
    ]
    aks = Resource("azure-native:containerservice:AgentPool", "gpu", "urn", {"vmSize": "Standard_NC4as_T4_v3"})
    assert rule("aks-gpu-pool-shape").run(aks)
    env = Resource(
        "azure-native:app:ManagedEnvironment",
        "env",
        "urn",
        {"workloadProfiles": [{"name": "a100", "workloadProfileType": "NC24-A100", "minimumCount": 1.0}]},
    )
    assert len(rule("container-apps-dedicated-profile-scale").run(env)) == 2
    loaded = sorted(m for m in sys.modules if m.startswith("aiinfra."))
    print(" ".join(loaded))
    """
)


@pytest.mark.integration  # a Python of its own, as the CLI starts the pack
def test_the_pack_runs_on_the_catalogue_alone() -> None:
    # Run from the pack's directory, as the CLI does (`python -m pulumi.policy <engine> .` there).
    result = subprocess.run(
        [sys.executable, "-c", PROGRAM], cwd=PACK, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    loaded = set(result.stdout.split())
    assert {"aiinfra.catalog.pools", "aiinfra.catalog.batch_formula", "aiinfra.catalog.wire"} <= loaded
    assert not [m for m in loaded if m.startswith(("aiinfra.engine", "aiinfra.components"))]
