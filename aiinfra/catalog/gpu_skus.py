"""The GPU VM sizes aiinfra accepts, as a typed catalogue; retired sizes are rejected by name.

One catalogue for AML compute, AKS node pools and Batch pools. Sources: Microsoft Learn, "Sizes for
virtual machines in Azure" (NCasT4_v3, NC A100 v4, ND A100 v4, NC H100 v5, ND H100 v5 series) and the
retirement notices for NC, NCv2, ND (2023-09-06) and NCv3, NDv2 (2025-09-30).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator


@dataclass(frozen=True)
class GpuSku:
    name: str
    gpu_model: str
    gpu_memory_gib: int
    gpu_count: int
    vcpus: int
    memory_gib: int
    family: str
    """The vCPU quota family, as quota requests and `az vm list-usage` name it."""
    mig_profiles: tuple[str, ...] = ()
    """AKS `gpuInstanceProfile` values the GPU supports (Multi-Instance GPU); empty when it has none."""


_A100_MIG = ("MIG1g", "MIG2g", "MIG3g", "MIG4g", "MIG7g")

CATALOGUE: dict[str, GpuSku] = {
    sku.name: sku
    for sku in (
        GpuSku("Standard_NC4as_T4_v3", "NVIDIA T4", 16, 1, 4, 28, "standardNCASv3_T4Family"),
        GpuSku("Standard_NC8as_T4_v3", "NVIDIA T4", 16, 1, 8, 56, "standardNCASv3_T4Family"),
        GpuSku("Standard_NC16as_T4_v3", "NVIDIA T4", 16, 1, 16, 110, "standardNCASv3_T4Family"),
        GpuSku("Standard_NC64as_T4_v3", "NVIDIA T4", 16, 4, 64, 440, "standardNCASv3_T4Family"),
        GpuSku(
            "Standard_NC24ads_A100_v4", "NVIDIA A100 80GB PCIe", 80, 1, 24, 220, "StandardNCADSA100v4Family", _A100_MIG
        ),
        GpuSku(
            "Standard_NC48ads_A100_v4", "NVIDIA A100 80GB PCIe", 80, 2, 48, 440, "StandardNCADSA100v4Family", _A100_MIG
        ),
        GpuSku(
            "Standard_NC96ads_A100_v4", "NVIDIA A100 80GB PCIe", 80, 4, 96, 880, "StandardNCADSA100v4Family", _A100_MIG
        ),
        GpuSku("Standard_ND96asr_v4", "NVIDIA A100 40GB SXM", 40, 8, 96, 900, "standardNDASv4_A100Family", _A100_MIG),
        GpuSku(
            "Standard_ND96amsr_A100_v4",
            "NVIDIA A100 80GB SXM",
            80,
            8,
            96,
            1900,
            "standardNDAMSv4_A100Family",
            _A100_MIG,
        ),
        GpuSku("Standard_NC40ads_H100_v5", "NVIDIA H100 NVL", 94, 1, 40, 320, "standardNCadsH100v5Family", _A100_MIG),
        GpuSku("Standard_NC80adis_H100_v5", "NVIDIA H100 NVL", 94, 2, 80, 640, "standardNCadsH100v5Family", _A100_MIG),
        GpuSku(
            "Standard_ND96isr_H100_v5", "NVIDIA H100 80GB SXM", 80, 8, 96, 1900, "standardNDSH100v5Family", _A100_MIG
        ),
    )
}

# Sizes that exist and are current, but that aiinfra's components do not offer (partial-GPU A10 sizes, meant for
# visualisation and small inference): the policy pack's default allow-list accepts them in anyone's program.
# Source: Microsoft Learn, "NVadsA10 v5-series" and "NC A10 v4-series" size pages.
OTHER_CURRENT_GPU_SIZES: tuple[str, ...] = (
    "Standard_NV6ads_A10_v5",
    "Standard_NV12ads_A10_v5",
    "Standard_NV18ads_A10_v5",
    "Standard_NV36ads_A10_v5",
    "Standard_NC8ads_A10_v4",
    "Standard_NC16ads_A10_v4",
    "Standard_NC32ads_A10_v4",
)

RETIREMENT_SOURCE = (
    "Microsoft Learn, 'Previous-gen and retired VM sizes' (NC, NC_Promo, NCv2, ND, NV, NV_Promo: "
    "2023-09-06; NCv3 and NDv2: 2025-09-30)"
)
# Size -> the date Azure retired it. These must be rejected, not priced or deployed (source: RETIREMENT_SOURCE).
RETIRED: dict[str, str] = {
    **{s: "2023-09-06" for s in ("Standard_NC6", "Standard_NC12", "Standard_NC24", "Standard_NC24r")},
    **{
        s: "2023-09-06"
        for s in ("Standard_NC6_Promo", "Standard_NC12_Promo", "Standard_NC24_Promo", "Standard_NC24r_Promo")
    },
    **{s: "2023-09-06" for s in ("Standard_NC6s_v2", "Standard_NC12s_v2", "Standard_NC24s_v2", "Standard_NC24rs_v2")},
    **{s: "2023-09-06" for s in ("Standard_ND6s", "Standard_ND12s", "Standard_ND24s", "Standard_ND24rs")},
    **{s: "2023-09-06" for s in ("Standard_NV6", "Standard_NV12", "Standard_NV24")},
    **{s: "2023-09-06" for s in ("Standard_NV6_Promo", "Standard_NV12_Promo", "Standard_NV24_Promo")},
    **{s: "2025-09-30" for s in ("Standard_NC6s_v3", "Standard_NC12s_v3", "Standard_NC24s_v3", "Standard_NC24rs_v3")},
    "Standard_ND40rs_v2": "2025-09-30",
}
_RETIRED_LOWER = {name.lower(): name for name in RETIRED}


def is_gpu_size(vm_size: object) -> bool:
    """Every Azure GPU family is an N-series size (NC, ND, NG, NV)."""
    return isinstance(vm_size, str) and vm_size.strip().lower().startswith("standard_n")


def retired_on(vm_size: object) -> str | None:
    """The date Azure retired `vm_size` (case-insensitive, as Azure treats sizes), or None for a size in service."""
    if not isinstance(vm_size, str):
        return None
    name = _RETIRED_LOWER.get(vm_size.strip().lower())
    return RETIRED[name] if name else None


class UnknownGpuSkuError(ValueError):
    """A VM size that is not a supported GPU size."""


def _canonical(size: str) -> str | None:
    lowered = size.strip().lower()
    for name in (*CATALOGUE, *RETIRED):
        if name.lower() == lowered:
            return name
    return None


def lookup(size: str) -> GpuSku:
    """The catalogue entry for `size` (case-insensitive, as Azure treats VM sizes).

    Raises UnknownGpuSkuError naming the retirement date for retired sizes, and listing the valid sizes.
    """
    canonical = _canonical(size)
    valid = ", ".join(CATALOGUE)
    if canonical in RETIRED:
        raise UnknownGpuSkuError(
            f"'{size}' was retired by Azure on {RETIRED[canonical]} and can no longer be deployed; "
            f"use one of: {valid} (e.g. Standard_NC4as_T4_v3 for T4 or Standard_NC24ads_A100_v4 for A100)"
        )
    if canonical is None:
        raise UnknownGpuSkuError(f"'{size}' is not a supported GPU VM size; use one of: {valid}")
    return CATALOGUE[canonical]


def _validate_size(size: str) -> str:
    return lookup(size).name


GpuVmSize = Annotated[str, AfterValidator(_validate_size)]
"""A GPU VM size from the catalogue, normalised to Azure's spelling; retired and unknown sizes fail."""
