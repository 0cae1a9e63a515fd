"""The serverless GPU profiles of Container Apps, catalogued once for the component and the quota view."""

from __future__ import annotations

from aiinfra.catalog.serverless_gpus import SERVERLESS_GPUS, serverless_gpu


def test_lookup_is_case_insensitive_and_knows_only_catalogued_profiles() -> None:
    t4 = serverless_gpu("consumption-gpu-nc8as-t4")
    assert t4 is not None and t4 is SERVERLESS_GPUS["Consumption-GPU-NC8as-T4"]
    assert t4.gpus == 1 and t4.gpu_model == "NVIDIA T4"
    assert serverless_gpu("Consumption") is None and serverless_gpu(None) is None
