# pyright: reportArgumentType=false, reportMissingImports=false, reportAttributeAccessIssue=false, reportGeneralTypeIssues=false
# (another team's program, written as teams write them: plain dicts, its own venv's packages and modules)
"""A governance team's style: tags and protection applied by transforms, a hook to notify on create."""

import pulumi
from pulumi_azure_native import network, resources


def cost_center(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
    if not args.type_.startswith("azure-native:") or args.type_ == "azure-native:resources:ResourceGroup":
        return None
    props = dict(args.props)
    props["tags"] = {**(props.get("tags") or {}), "cost-center": "ml-platform"}
    return pulumi.ResourceTransformResult(props, args.opts)


def protect(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult:
    return pulumi.ResourceTransformResult(args.props, pulumi.ResourceOptions.merge(
        args.opts, pulumi.ResourceOptions(protect=True)))


def announce(args: pulumi.ResourceHookArgs) -> None:
    print(f"created {args.urn}")


pulumi.runtime.register_resource_transform(cost_center)
hook = pulumi.ResourceHook("announce-create", announce)
rg = resources.ResourceGroup("platform", resource_group_name="rg-governed")
network.VirtualNetwork("core", resource_group_name=rg.name, address_space={"address_prefixes": ["10.1.0.0/16"]},
                       opts=pulumi.ResourceOptions(transforms=[protect],
                                                   hooks=pulumi.ResourceHookBinding(after_create=[hook])))
