"""GPU pools as the cost rules see them, whatever service runs them (AML compute, AKS node pool, Batch pool).

The pools, their sizes and priorities are read by aiinfra.catalog.pools (one reader for the pack, the cost
estimate and the diagram), Batch autoscale formulas by aiinfra.catalog.batch_formula, and which sizes exist or are
retired come from aiinfra.catalog.gpu_skus: facts about Azure, not configuration.
"""

from __future__ import annotations

from typing import Any

from aiinfra.catalog.gpu_skus import CATALOGUE, OTHER_CURRENT_GPU_SIZES, is_gpu_size, retired_on
from aiinfra.catalog.pools import Pool as Pool
from aiinfra.catalog.pools import pools as pools

# Current GPU sizes an AI platform plausibly runs: the catalogue's and the other current sizes it names.
CURRENT_GPU_SKUS: tuple[str, ...] = (*CATALOGUE, *OTHER_CURRENT_GPU_SIZES)


def is_gpu_sku(vm_size: Any) -> bool:
    return is_gpu_size(vm_size)


def is_retired_sku(vm_size: Any) -> bool:
    return retired_on(vm_size) is not None
