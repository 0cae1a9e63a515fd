"""Carve one VNet address space into the subnets every aiinfra environment uses.

Pure logic, tested without an engine. Each purpose gets a fixed share of the space so that adding a
workload never renumbers an existing subnet (renumbering a subnet in use fails in Azure).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

# Purpose -> prefix length relative to the VNet's (e.g. +2 on a /16 gives a /18).
# Sized for what lives there: AKS nodes with Azure CNI overlay need a node subnet only (pods get
# overlay addresses); AML compute and Batch need one address per node; Container Apps workload
# profile environments need at least a /27, Microsoft recommends /23 for consumption + profiles.
SUBNET_LAYOUT: tuple[tuple[str, int], ...] = (
    ("aks", 2),
    ("aml-compute", 3),
    ("batch", 3),
    ("container-apps", 4),
    ("private-endpoints", 5),
)
MIN_PREFIX = {"container-apps": 27, "private-endpoints": 28, "aks": 26, "aml-compute": 28, "batch": 28}


class AddressPlanError(ValueError):
    """The address space cannot hold the subnets."""


@dataclass(frozen=True)
class Subnet:
    purpose: str
    cidr: str

    @property
    def usable_addresses(self) -> int:
        # Azure reserves five addresses in every subnet.
        return ipaddress.ip_network(self.cidr).num_addresses - 5


def carve(address_space: str) -> dict[str, Subnet]:
    """Subnets for each purpose, allocated largest first so they pack without gaps or overlap."""
    try:
        network = ipaddress.ip_network(address_space, strict=True)
    except ValueError as exc:
        raise AddressPlanError(f"'{address_space}' is not a valid IPv4 CIDR block: {exc}") from None
    if not isinstance(network, ipaddress.IPv4Network):
        raise AddressPlanError(f"'{address_space}' must be IPv4")
    if not network.is_private:
        raise AddressPlanError(f"'{address_space}' is not a private (RFC 1918) range")
    if network.prefixlen > 22:
        raise AddressPlanError(f"'{address_space}' is too small: use a /22 or larger (e.g. 10.10.0.0/16)")

    subnets: dict[str, Subnet] = {}
    cursor = int(network.network_address)
    for purpose, extra_bits in sorted(SUBNET_LAYOUT, key=lambda item: item[1]):
        prefix = min(network.prefixlen + extra_bits, MIN_PREFIX[purpose])
        size = 2 ** (32 - prefix)
        cursor = (cursor + size - 1) // size * size  # align to the block size
        block = ipaddress.IPv4Network(f"{ipaddress.IPv4Address(cursor)}/{prefix}")
        if not block.subnet_of(network):
            raise AddressPlanError(f"'{address_space}' cannot hold the {purpose} subnet (/{prefix})")
        subnets[purpose] = Subnet(purpose, str(block))
        cursor += size
    return subnets
