"""aiinfra's offline engine: runs any Pulumi Python program under a recording mock monitor.

It knows no aiinfra component and no policy: `run_program` gives a `Plan` of every registration,
which the policy driver, the cost estimator and the diagram read like any other program's plan.
"""

from .monitor import Registration
from .runner import EngineError, Plan, ProgramError, run_program

__all__ = ["EngineError", "Plan", "ProgramError", "Registration", "run_program"]
