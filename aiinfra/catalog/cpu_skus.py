"""The CPU VM sizes aiinfra offers for interactive work (Azure ML compute instances), as a small typed catalogue.

Current general-purpose and memory-optimised sizes only. Sources: Microsoft Learn, "Dsv5 sizes series",
"Ddsv5 sizes series" and "Esv5 sizes series" (vCPUs and memory per size), and "Previous-gen and retired VM sizes"
(Dv2/DSv2 and older are previous-generation; the ones Azure has retired are refused through the GPU catalogue's
retirement list, which is where Azure's retirements of N-series sizes are kept).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator

from . import gpu_skus


@dataclass(frozen=True)
class CpuSku:
    name: str
    vcpus: int
    memory_gib: int
    family: str
    """The vCPU quota family, as quota requests and `az vm list-usage` name it."""


CPU_CATALOGUE: dict[str, CpuSku] = {
    sku.name: sku
    for sku in (
        CpuSku("Standard_D2s_v5", 2, 8, "standardDSv5Family"),
        CpuSku("Standard_D4s_v5", 4, 16, "standardDSv5Family"),
        CpuSku("Standard_D8s_v5", 8, 32, "standardDSv5Family"),
        CpuSku("Standard_D16s_v5", 16, 64, "standardDSv5Family"),
        CpuSku("Standard_D4ds_v5", 4, 16, "standardDDSv5Family"),
        CpuSku("Standard_D8ds_v5", 8, 32, "standardDDSv5Family"),
        CpuSku("Standard_E4s_v5", 4, 32, "standardESv5Family"),
        CpuSku("Standard_E8s_v5", 8, 64, "standardESv5Family"),
        CpuSku("Standard_E16s_v5", 16, 128, "standardESv5Family"),
    )
}


class UnknownVmSizeError(ValueError):
    """A VM size that is neither in the CPU nor in the GPU catalogue (or was retired)."""


def lookup_workstation_size(size: str) -> str:
    """`size` in Azure's spelling when it is a catalogued CPU size or a catalogued (not retired) GPU size.

    Retired sizes fail naming their retirement date; unknown sizes fail listing the CPU sizes and pointing at the
    GPU catalogue.
    """
    lowered = size.strip().lower()
    for name in CPU_CATALOGUE:
        if name.lower() == lowered:
            return name
    if gpu_skus.is_gpu_size(size) or gpu_skus.retired_on(size):
        try:
            return gpu_skus.lookup(size).name
        except gpu_skus.UnknownGpuSkuError as exc:
            raise UnknownVmSizeError(str(exc)) from None
    raise UnknownVmSizeError(
        f"'{size}' is not a catalogued VM size; use a CPU size ({', '.join(CPU_CATALOGUE)}) "
        "or a GPU size from the GPU catalogue (e.g. Standard_NC4as_T4_v3)"
    )


WorkstationVmSize = Annotated[str, AfterValidator(lookup_workstation_size)]
"""A CPU or GPU VM size from the catalogues, normalised to Azure's spelling; retired and unknown sizes fail."""
