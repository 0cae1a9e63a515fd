# pyright: reportArgumentType=false, reportMissingImports=false, reportAttributeAccessIssue=false, reportGeneralTypeIssues=false
# (another team's program, written as teams write them: plain dicts, its own venv's packages and modules)
"""An app team's style: the network comes from another stack, through a StackReference."""

import pulumi
from pulumi_azure_native import network, resources

hub = pulumi.StackReference(f"acme/network-hub/{pulumi.get_stack()}")
subnet_id = hub.require_output("aksSubnetId")
rg = resources.ResourceGroup("api", resource_group_name="rg-scoring-api")
network.PrivateEndpoint("api-pe", resource_group_name=rg.name, private_endpoint_name="pe-scoring",
                        subnet={"id": subnet_id},
                        private_link_service_connections=[{
                            "name": "blob", "group_ids": ["blob"],
                            "private_link_service_id": hub.require_output("containerId")}])
pulumi.export("subnet", subnet_id)
