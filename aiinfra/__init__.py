"""aiinfra: Pulumi components, a CrossGuard policy pack and an offline preview engine for secure, cost-governed
Azure AI/GPU infrastructure.

- `aiinfra.components`: the ComponentResources (SharedServices, SecureWorkspace, GpuComputePool, AksGpuCluster,
  BatchGpuPool, ContainerAppsGpu, ...), each with a typed args model.
- `aiinfra.policies`: the policy pack (`pulumi preview --policy-pack <its folder>`); rules judge any program.
- `aiinfra.engine`: runs any Pulumi Python program offline under Pulumi's mocks, with the pack, cost and diagram.
- `aiinfra.catalog`: facts about Azure (GPU sizes, retirements) that all three share.

In the repository the package's parts keep their own folders (components/, engine/, policies/); `aiinfra/` links
them into one importable package, and the wheel lays them out under `aiinfra/`.
"""

__version__ = "0.2.0"
