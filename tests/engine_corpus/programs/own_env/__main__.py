# pyright: reportArgumentType=false, reportMissingImports=false, reportAttributeAccessIssue=false, reportGeneralTypeIssues=false
# (another team's program, written as teams write them: plain dicts, its own venv's packages and modules)
"""A product team's style: settings split over small modules of its own, and a package only its venv has."""

import sys

import config
import engine
import pulumi
import stacks
import teamlib  # installed only in this project's venv
from pulumi_azure_native import resources

rg = resources.ResourceGroup(f"{stacks.PREFIX}-rg", resource_group_name=teamlib.group_name(stacks.PREFIX))
pulumi.export("replicas", config.REPLICAS)
pulumi.export("engine", engine.NAME)
pulumi.export("interpreter", sys.prefix)
pulumi.export("teamlib", teamlib.__file__)
