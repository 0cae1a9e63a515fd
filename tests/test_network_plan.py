"""The address plan carved from one VNet space."""

import ipaddress
import itertools

import pytest

from aiinfra.components.network_plan import SUBNET_LAYOUT, AddressPlanError, carve


@pytest.mark.parametrize("space", ["10.10.0.0/16", "10.0.0.0/8", "172.16.0.0/20", "192.168.4.0/22"])
def test_subnets_fit_inside_the_space_without_overlap(space):
    network = ipaddress.IPv4Network(space)
    subnets = carve(space)
    assert set(subnets) == {purpose for purpose, _ in SUBNET_LAYOUT}
    blocks = [ipaddress.IPv4Network(s.cidr) for s in subnets.values()]
    for block in blocks:
        assert block.subnet_of(network)
    for a, b in itertools.combinations(blocks, 2):
        assert not a.overlaps(b), (a, b)


def test_container_apps_subnet_meets_the_workload_profile_minimum():
    assert ipaddress.ip_network(carve("192.168.4.0/22")["container-apps"].cidr).prefixlen <= 27


def test_plan_is_stable():
    assert carve("10.20.0.0/16") == carve("10.20.0.0/16")
    assert carve("10.20.0.0/16")["private-endpoints"].cidr == "10.20.144.0/21"


@pytest.mark.parametrize(
    "space,message",
    [
        ("10.0.0.0/33", "not a valid IPv4 CIDR"),
        ("10.0.0.1/16", "not a valid IPv4 CIDR"),
        ("nonsense", "not a valid IPv4 CIDR"),
        ("10.0.0.0/24", "too small"),
        ("8.8.0.0/16", "not a private"),
    ],
)
def test_bad_address_spaces_are_rejected(space, message):
    with pytest.raises(AddressPlanError, match=message):
        carve(space)
