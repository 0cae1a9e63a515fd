"""aiinfra's CrossGuard policy pack (the pack itself lives in `aiinfra_policies/`; `__main__.py` serves it).

This package marker only lets tools and tests import `policies.aiinfra_policies` and run
`python -m policies.table`; the Pulumi CLI runs `__main__.py` with this directory on `sys.path`.
"""
