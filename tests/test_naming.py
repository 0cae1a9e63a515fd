"""Azure name rules: length, charset, determinism, uniqueness across environments."""

import re

import pytest

from aiinfra.components.naming import RULES, NamingConvention, NamingError, validate

CONVENTIONS = [
    NamingConvention(prefix=p, environment=e, location=loc)
    for p in ("aiinfra", "contosoml1", "ab")
    for e in ("dev", "test", "prd", "sbx123")
    for loc in ("westus3", "southcentralus", "germanywestcentral")
]
WORKLOADS = [(), ("research",), ("computer-vision-and-speech",), ("x",)]


@pytest.mark.parametrize(
    "service,pattern,max_len",
    [
        ("storage_account", r"[a-z0-9]{3,24}", 24),
        ("key_vault", r"[a-z][a-z0-9-]{1,22}[a-z0-9]", 24),
        ("container_registry", r"[a-z0-9]{5,50}", 50),
        ("batch_account", r"[a-z0-9]{3,24}", 24),
        ("machine_learning_workspace", r"[A-Za-z0-9][A-Za-z0-9_-]{2,32}", 33),
    ],
)
def test_globally_constrained_names_follow_azure_rules(service, pattern, max_len):
    for convention in CONVENTIONS:
        for parts in WORKLOADS:
            name = convention.name(service, *parts)
            assert re.fullmatch(pattern, name), (service, name)
            assert len(name) <= max_len
            assert "--" not in name


def test_names_are_deterministic_and_differ_by_environment():
    a = NamingConvention(prefix="aiinfra", environment="dev", location="westus3")
    again = NamingConvention(prefix="aiinfra", environment="dev", location="westus3")
    prd = NamingConvention(prefix="aiinfra", environment="prd", location="westus3")
    for service in RULES:
        assert a.name(service, "research") == again.name(service, "research")
        assert a.name(service, "research") != prd.name(service, "research")


def test_unique_seed_changes_only_globally_unique_names():
    plain = NamingConvention(prefix="aiinfra", environment="dev", location="westus3")
    seeded = NamingConvention(prefix="aiinfra", environment="dev", location="westus3", unique_seed="sub-1")
    assert plain.name("storage_account") != seeded.name("storage_account")
    assert plain.name("virtual_network") == seeded.name("virtual_network")


def test_long_workloads_keep_distinct_names_after_truncation():
    n = NamingConvention(prefix="aiinfra", environment="prd", location="westus3")
    a = n.name("key_vault", "computer-vision-team-a")
    b = n.name("key_vault", "computer-vision-team-b")
    assert a != b and len(a) <= 24 and len(b) <= 24


def test_validate_rejects_bad_names():
    with pytest.raises(NamingError, match="3-24"):
        validate("storage_account", "st")
    with pytest.raises(NamingError, match="may only contain"):
        validate("storage_account", "St-Account")
    with pytest.raises(NamingError, match="start with a letter"):
        validate("key_vault", "1vault")


def test_convention_rejects_bad_prefix_with_field_name():
    with pytest.raises(ValueError, match="prefix"):
        NamingConvention(prefix="Contoso!", environment="dev", location="westus3")


def test_unknown_args_key_from_python_gets_a_python_spelled_suggestion():
    with pytest.raises(ValueError, match="unique_sed: unknown key; did you mean 'unique_seed'"):
        NamingConvention(
            prefix="aiinfra",
            environment="dev",
            location="westus3",
            unique_sed="x",  # pyright: ignore[reportCallIssue]  # the misspelling is what is tested
        )


def test_names_kept_by_soft_delete_change_with_the_seed():
    """Issue 12 item 4: an Azure ML workspace keeps its name 14 days after deletion (Learn, "Workspace soft
    deletion"), so like Key Vault it carries the hash suffix and a new seed frees it."""
    first = NamingConvention(prefix="aiinfra", environment="dev", location="westus3", unique_seed="sub|proj|dev")
    second = first.model_copy(update={"unique_seed": "sub|proj|dev|r2"})
    for service, parts in (
        ("machine_learning_workspace", ("research",)),
        ("key_vault", ()),
        ("key_vault", ("cmk",)),
        ("storage_account", ()),
        ("container_registry", ()),
    ):
        assert first.name(service, *parts) != second.name(service, *parts), service
        assert first.name(service, *parts) == first.name(service, *parts)
    assert first.name("virtual_network") == second.name("virtual_network")
    assert RULES["machine_learning_workspace"].kept_after_delete
