"""Deployability of Container Apps: what makes the first `pulumi up` of an app fail although every property is valid.

A Container App is created with its first revision, so everything the revision needs must exist when ARM creates it:

- its images: an image in a private registry the program creates (or any registry the program does not fill) does not
  exist yet, and the revision fails with `MANIFEST_UNKNOWN`;
- its Key Vault secret references: a secret nobody created makes the create fail with "Unable to get value using
  Managed identity".

The program either creates them (a `keyvault:Secret`, a `docker-build:index:Image` / `docker:index:Image` pushed to the
registry) or declares them as existing in this rule's config. Where a value is unknown during preview, the program's
wiring (property dependencies on the registry or vault it creates) decides. A GPU workload profile added to an
existing environment (Azure accepts GPU profiles only at creation) is not checked: a policy sees the planned inputs,
not the deployed ones.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, PolicyResource, Severity

from ._props import CONTAINER_APP, CONTAINER_REGISTRY, KEY_VAULT, canonical_type, get, items
from ._rule import UNKNOWN, Rule, known

CONCERN = "deployability"
KEY_VAULT_SECRET = "azure-native:keyvault:Secret"
DOCKER_IMAGES = {
    "docker-build:index:Image": "tags",
    "docker:index:Image": "imageName",
    "docker:index:RegistryImage": "name",
}
ACR_SUFFIXES = (".azurecr.io", ".azurecr.cn", ".azurecr.us")
_VAULT_SECRET_URL = re.compile(r"^https://([^./]+)\.vault\.[^/]+/secrets/([^/?#]+)", re.IGNORECASE)


def _type(resource: PolicyResource) -> str:
    return canonical_type(resource.resource_type)


def _value(resource: PolicyResource, *path: str | int) -> Any:
    return known(lambda: get(resource.props, *path))


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in items(value) if isinstance(v, str)] if value is not UNKNOWN else []


def _patterns(config: Mapping[str, Any], key: str) -> list[str]:
    return [p for p in config.get(key) or [] if isinstance(p, str) and p]


def _matches(value: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(value.lower(), p.lower()) for p in patterns)


def _depends_on(resource: PolicyResource, key: str, wanted: Callable[[PolicyResource], bool]) -> list[PolicyResource]:
    return [d for d in resource.property_dependencies.get(key, []) if wanted(d)]


# --- images ---------------------------------------------------------------------------------------------------


def _registry_hosts(resources: list[PolicyResource]) -> dict[str, PolicyResource]:
    """Login server (lower case) -> registry created by this program (from its output, else its name)."""
    hosts: dict[str, PolicyResource] = {}
    for registry in (r for r in resources if _type(r) == CONTAINER_REGISTRY):
        server = _value(registry, "loginServer")
        name = _value(registry, "registryName")
        if isinstance(server, str) and server:
            hosts[server.lower()] = registry
        elif isinstance(name, str) and name:
            hosts[f"{name.lower()}.azurecr.io"] = registry
    return hosts


def _pushed_images(resources: list[PolicyResource]) -> set[str]:
    """Image references the program builds or pushes itself (lower case)."""
    pushed: set[str] = set()
    for resource in resources:
        key = DOCKER_IMAGES.get(resource.resource_type)
        if key:
            pushed.update(t.lower() for t in _texts(_value(resource, key)))
    return pushed


def _containers(app: PolicyResource) -> list[tuple[str, Any]]:
    found = []
    for kind in ("containers", "initContainers"):
        listed = _value(app, "template", kind)
        for i, container in enumerate(items(listed) if listed is not UNKNOWN else []):
            found.append((f"template.{kind}[{i}].image", known(lambda c=container: get(c, "image"))))
    return found


def check_app_images(
    resources: list[PolicyResource], config: Mapping[str, Any], exempt: Callable[[PolicyResource], bool]
) -> Iterator[tuple[str, str | None]]:
    hosts = _registry_hosts(resources)
    pushed = _pushed_images(resources)
    existing = _patterns(config, "existingImages")
    builders = [r for r in resources if r.resource_type in DOCKER_IMAGES]
    for app in (r for r in resources if _type(r) == CONTAINER_APP and not exempt(r)):
        for path, image in _containers(app):
            if isinstance(image, str) and image:
                host = image.split("/", 1)[0].lower() if "/" in image else ""
                private = host in hosts or host.endswith(ACR_SUFFIXES)
                if not private or image.lower() in pushed or _matches(image, existing):
                    continue
                made_here = (
                    f"registry {hosts[host].name}, which this program creates (empty at the first deploy)"
                    if host in hosts
                    else f"registry {host}"
                )
                yield (
                    f"{path} '{image}' is in {made_here}, and the program neither pushes it nor declares it "
                    "existing: creating the app fails with MANIFEST_UNKNOWN until the image is pushed. Create the "
                    "app with a public bootstrap image and let the release set the image (ignoreChanges on it), "
                    "or list the image in this rule's existingImages.",
                    app.urn,
                )
            elif image is UNKNOWN:
                # Unknown during preview: built from a registry the program creates, and nothing pushes to it.
                registries = _depends_on(app, "template", lambda d: _type(d) == CONTAINER_REGISTRY)
                if registries and not builders and not existing:
                    yield (
                        f"{path} is built from the login server of registry {registries[0].name}, which this "
                        "program creates and nothing in it pushes to: the registry is empty at the first deploy, "
                        "so creating the app fails with MANIFEST_UNKNOWN. Start from a public bootstrap image, or "
                        "declare the image in existingImages.",
                        app.urn,
                    )


# --- Key Vault secrets ------------------------------------------------------------------------------------------


def _created_secrets(resources: list[PolicyResource]) -> tuple[set[tuple[str, str]], set[str]]:
    """(vault, secret) pairs, and the names of secrets whose vault name is unknown during preview, lower case, that
    the program creates."""
    pairs: set[tuple[str, str]] = set()
    unplaced: set[str] = set()
    for secret in (r for r in resources if _type(r) == KEY_VAULT_SECRET):
        name, vault = _value(secret, "secretName"), _value(secret, "vaultName")
        if isinstance(name, str) and name:
            if isinstance(vault, str) and vault:
                pairs.add((vault.lower(), name.lower()))
            else:
                unplaced.add(name.lower())
    return pairs, unplaced


def check_app_secrets(
    resources: list[PolicyResource], config: Mapping[str, Any], exempt: Callable[[PolicyResource], bool]
) -> Iterator[tuple[str, str | None]]:
    pairs, unplaced = _created_secrets(resources)
    names = unplaced | {name for _, name in pairs}
    existing = _patterns(config, "existingSecrets")
    vaults_here = any(_type(r) == KEY_VAULT for r in resources)
    for app in (r for r in resources if _type(r) == CONTAINER_APP and not exempt(r)):
        secrets = _value(app, "configuration", "secrets")
        for i, secret in enumerate(items(secrets) if secrets is not UNKNOWN else []):
            url = known(lambda s=secret: get(s, "keyVaultUrl"))
            if url is None:
                continue  # a plain value or no secret reference: nothing to look up
            path = f"configuration.secrets[{i}].keyVaultUrl"
            parsed = _VAULT_SECRET_URL.match(url) if isinstance(url, str) else None
            if parsed:
                vault, name = parsed.group(1).lower(), parsed.group(2).lower()
                if (
                    (vault, name) in pairs
                    or name in unplaced
                    or _matches(f"{vault}/{name}", existing)
                    or _matches(name, existing)
                ):
                    continue
                yield (
                    f"{path} '{url}' names secret '{name}' in vault '{vault}', which the program neither creates "
                    '(keyvault:Secret) nor declares existing: creating the app fails with "Unable to get value '
                    "using Managed identity\". Create it from a Pulumi secret, or list '<vault>/<secret>' in this "
                    "rule's existingSecrets.",
                    app.urn,
                )
            elif url is UNKNOWN and vaults_here:
                # The vault URI is unknown during preview: match by the app's secret name.
                name = known(lambda s=secret: get(s, "name"))
                if isinstance(name, str) and name and name.lower() not in names and not _matches(name, existing):
                    yield (
                        f"{path} is built from a vault this program creates, and no keyvault:Secret named "
                        f"'{name}' is created: creating the app fails with \"Unable to get value using Managed "
                        'identity". Create the secret from a Pulumi secret, or list it in existingSecrets.',
                        app.urn,
                    )


_LIST_OF_PATTERNS = {"type": "array", "items": {"type": "string", "minLength": 1}, "default": []}

RULES: list[Rule] = [
    Rule(
        name="container-app-image-available",
        concern=CONCERN,
        summary="A Container App's image in a private registry must be pushed by the program or declared existing: "
        "the first revision is created with the app, and an image missing from a registry the program "
        "just created fails it (MANIFEST_UNKNOWN).",
        fix=(
            'In Python: `template=app.TemplateArgs(containers=[app.ContainerArgs(image=...)])` (ARM properties.template.containers[0].image) with `ignore_changes=["template.containers[0].image"]`. '
            "Create the app with a public bootstrap image and let the model release set the image (ignoreChanges "
            "on template.containers[0].image), push the image in the program, or list it (shell wildcards allowed) "
            "in existingImages."
        ),
        severity=Severity.MEDIUM,
        default_level=EnforcementLevel.ADVISORY,
        sources=(
            "Microsoft Learn: Revisions in Azure Container Apps (a revision is created with the app)",
            "Microsoft Learn: Azure Container Apps image pull with managed identity",
            "aiinfra",
        ),
        config={
            "existingImages": {
                **_LIST_OF_PATTERNS,
                "description": "Images known to be in their registry "
                "before the deploy (`<login server>/<repository>:<tag>`, wildcards allowed).",
            }
        },
        stack_check=check_app_images,
    ),
    Rule(
        name="container-app-secret-available",
        concern=CONCERN,
        summary="A Key Vault secret a Container App references must be created by the program (keyvault:Secret) or "
        "declared existing: the app cannot be created while the secret is missing.",
        fix="Create the secret from a Pulumi secret (`keyvault.Secret(properties=keyvault.SecretPropertiesArgs(value=...))`, ARM properties.value; never a plaintext value in config), or list "
        "`<vault>/<secret>` (wildcards allowed) in existingSecrets.",
        severity=Severity.MEDIUM,
        default_level=EnforcementLevel.ADVISORY,
        sources=("Microsoft Learn: Manage secrets in Azure Container Apps (Key Vault references)", "aiinfra"),
        config={
            "existingSecrets": {
                **_LIST_OF_PATTERNS,
                "description": "Key Vault secrets known to exist before "
                "the deploy, as `<vault>/<secret>` or `<secret>` (wildcards allowed).",
            }
        },
        stack_check=check_app_secrets,
    ),
]
