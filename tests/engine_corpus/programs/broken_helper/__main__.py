"""A batch team's style: plain script, a naming helper of its own (which fails)."""

import naming
from pulumi_azure_native import resources, storage

rg = resources.ResourceGroup("jobs", resource_group_name="rg-batch-jobs")
storage.StorageAccount("data", resource_group_name=rg.name, kind="StorageV2", sku={"name": "Standard_LRS"},
                       account_name=naming.storage_name("stbatchjobs", "blob"))
