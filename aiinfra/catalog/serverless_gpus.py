"""Serverless GPU workload profiles of Azure Container Apps: what a replica gets and where Azure offers it.

One catalogue for the ContainerAppsGpu component (which profiles it accepts, in which regions) and the offline engine's
quota view (GPUs per replica); the cost estimate prices any `Consumption-GPU-*` profile from the price table.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServerlessGpu:
    """One serverless GPU workload profile type: what a replica gets and where Azure offers it."""

    gpu_model: str
    vcpus: float
    memory_gib: float
    default_name: str
    """The name ContainerAppsGpu gives the profile when config names none."""
    regions: frozenset[str]
    gpus: int = 1
    """GPUs a replica gets: one whole GPU (the quota is counted in GPUs)."""


# Microsoft Learn, "Using serverless GPUs in Azure Container Apps" (supported regions, 2025-06) and "Workload profiles
# in Azure Container Apps" (a replica gets one whole GPU with up to 8 vCPU / 56 GiB on T4, 24 vCPU / 220 GiB on A100).
SERVERLESS_GPUS: dict[str, ServerlessGpu] = {
    "Consumption-GPU-NC8as-T4": ServerlessGpu(
        "NVIDIA T4",
        8,
        56,
        "gpu-t4",
        frozenset(
            {
                "australiaeast",
                "brazilsouth",
                "centralindia",
                "eastus",
                "francecentral",
                "italynorth",
                "japaneast",
                "northcentralus",
                "southcentralus",
                "southeastasia",
                "southindia",
                "swedencentral",
                "westeurope",
                "westus",
                "westus2",
                "westus3",
            }
        ),
    ),
    "Consumption-GPU-NC24-A100": ServerlessGpu(
        "NVIDIA A100",
        24,
        220,
        "gpu-a100",
        frozenset({"australiaeast", "brazilsouth", "eastus", "italynorth", "swedencentral", "westus", "westus3"}),
    ),
}


def serverless_gpu(profile_type: object) -> ServerlessGpu | None:
    """The catalogued serverless GPU profile `profile_type` names (case-insensitive, as Azure compares it), or None."""
    if not isinstance(profile_type, str):
        return None
    return next((gpu for name, gpu in SERVERLESS_GPUS.items() if name.lower() == profile_type.strip().lower()), None)
