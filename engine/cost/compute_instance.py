"""How many hours a month an Azure ML compute instance runs, read from its start/stop schedules (any program's).

A compute instance is billed while it runs, not per job: the estimate prices it "while running" for the hours its
schedules keep it on (`properties.properties.schedules.computeStartStop`, cron triggers), an upper bound since idle
shutdown (`idleTimeBeforeShutdown`) stops it sooner. Without a start schedule it starts on demand, and without a stop
schedule nothing stops it but idle shutdown: both are priced as running all month, and say so. One small hook in
pricing.py calls it.
"""

from __future__ import annotations

from typing import Any

from aiinfra.catalog.schedules import HOURS_PER_MONTH, CronError, monthly_running_hours


def compute_instance_hours(compute_properties: Any) -> tuple[float, list[str]]:
    """(hours a month it runs at most, notes) for the `properties` input of a ComputeInstance compute."""
    inner: Any = compute_properties.get("properties") if isinstance(compute_properties, dict) else None
    if not isinstance(inner, dict):
        inner = {}
    schedules = (inner.get("schedules") or {}).get("computeStartStop")
    starts: list[str] = []
    stops: list[str] = []
    for entry in schedules or []:
        if not isinstance(entry, dict) or str(entry.get("status", "Enabled")).lower() == "disabled":
            continue
        cron: Any = entry.get("cron")
        cron = cron if isinstance(cron, dict) else {}
        expression = cron.get("expression") if str(entry.get("triggerType", "")).lower() == "cron" else None
        if not isinstance(expression, str):
            return float(HOURS_PER_MONTH), ["a schedule that is not a cron expression: priced as running all month"]
        (starts if str(entry.get("action", "")).lower() == "start" else stops).append(expression)
    idle = inner.get("idleTimeBeforeShutdown")
    idle_note = f"; idle shutdown after {idle} stops it sooner" if isinstance(idle, str) else ""
    if not stops:
        return float(HOURS_PER_MONTH), [f"no stop schedule: priced as running all month{idle_note}"]
    if not starts:
        return float(HOURS_PER_MONTH), [
            "no start schedule (started on demand): priced as running until its stop "
            f"schedule every day of the month, at most 730 h{idle_note}"
        ]
    try:
        hours = monthly_running_hours(starts, stops)
    except CronError as exc:
        return float(HOURS_PER_MONTH), [f"{exc}: priced as running all month"]
    return hours, [f"while running: {hours:g} h/month on its start/stop schedule{idle_note}"]
