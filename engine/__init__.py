"""aiinfra's offline engine: runs any Pulumi Python program under a recording mock monitor.

It knows no aiinfra component and no policy: `run_program` gives a `Plan` of every registration,
which the policy driver, the cost estimator and the diagram read like any other program's plan.
"""

from .plan import Plan, Registration
from .runner import EngineError, ProgramError, ProgramFailure, run_program

__all__ = ["EngineError", "Plan", "ProgramError", "ProgramFailure", "Registration", "run_program"]
