"""The policy pack's entry point, run by the Pulumi CLI (`pulumi preview --policy-pack policies`) as a script with
this directory on sys.path: it builds the PolicyPack, which serves the Analyzer gRPC protocol and prints its port."""

from pulumi_policy import EnforcementLevel, PolicyPack

from aiinfra.policies import PACK_DESCRIPTION, PACK_NAME, policies
from aiinfra.policies._fastpath import install

install()  # convert each resource's properties once per Analyze call, not once per policy

PolicyPack(
    name=PACK_NAME,
    description=PACK_DESCRIPTION,
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=policies(),
)
