"""Azure ML compute instances: one personal development workstation per listed data scientist, that stops itself.

Called by SecureWorkspace (one small hook); kept in its own module. Each instance is:

- assigned to one user by Entra ID object id and tenant (`personalComputeInstanceSettings.assignedUser`) and
  personal: only that user can use it or its applications (`computeInstanceAuthorizationType: personal`,
  `applicationSharingPolicy: Personal`);
- private: no public IP (`enableNodePublicIp: false`), SSH closed (`sshSettings.sshPublicAccess: Disabled`), local
  auth off (`disableLocalAuth: true`), in the workspace's managed network (no subnet of our own: Azure rejects one
  there) or in the shared AML compute subnet when the workspace has no managed network;
- cheap: stopped after `idleShutdownMinutes` without activity (`idleTimeBeforeShutdown`, ISO 8601; Azure accepts
  15 minutes to 3 days) and by a stop schedule every evening; started by a start schedule on working days.

Sources: Microsoft Learn, "Create an Azure Machine Learning compute instance" (create on behalf of a user, idle
shutdown between 15 minutes and three days, schedules with cron and time zone, no public IP; the instance's name is
part of its regional DNS name, so it must not collide with another workspace's in the region), and
azure-rest-api-specs
`machineLearningServices` `ComputeInstanceProperties` (`personalComputeInstanceSettings`, `idleTimeBeforeShutdown`,
`schedules.computeStartStop`, `sshSettings`, `enableNodePublicIp`).
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
from pulumi_azure_native import machinelearningservices as ml
from pydantic import Field, field_validator

from aiinfra.catalog.cpu_skus import WorkstationVmSize
from aiinfra.catalog.schedules import CronError, parse_cron

from ._aml import ComputePlacement, workspace_compute
from ._base import ArgsModel, duplicates
from .naming import NamingConvention

_UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
MIN_IDLE_SHUTDOWN_MINUTES = 15
MAX_IDLE_SHUTDOWN_MINUTES = 3 * 24 * 60
DEFAULT_START_CRON = "0 8 * * 1-5"
DEFAULT_STOP_CRON = "0 18 * * 1-5"


def _cron(expression: str | None) -> str | None:
    if expression is None:
        return None
    try:
        parse_cron(expression)
    except CronError as exc:
        raise ValueError(str(exc)) from None
    return expression.strip()


class ComputeInstanceSchedule(ArgsModel):
    """When the instance starts and stops by itself (cron, in `timeZone`)."""

    start: str | None = DEFAULT_START_CRON
    """Start cron (minute hour * * days), e.g. `0 8 * * 1-5`; null: the user starts it when needed."""
    stop: str = DEFAULT_STOP_CRON
    """Stop cron, e.g. `0 18 * * 1-5`: an instance left running is stopped every evening."""
    time_zone: str = Field(default="UTC", min_length=1)
    """Time zone of both crons, as Azure ML names them (Windows time zone ids, e.g. `UTC`,
    `W. Europe Standard Time`, `Pacific Standard Time`)."""

    @field_validator("start", "stop")
    @classmethod
    def _valid_cron(cls, value: str | None) -> str | None:
        return _cron(value)


class ComputeInstanceSettings(ArgsModel):
    """One data scientist's compute instance (an entry of `computeInstances`)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9]{1,15}$")
    """Short name of the instance, usually its user (e.g. `alice`); its Azure name is `ci<hash>-<name>`, unique in
    the region as Azure requires."""
    user_object_id: str = Field(pattern=_UUID)
    """Entra ID object id of the user the instance is created for (only they can use it)."""
    user_tenant_id: str = Field(pattern=_UUID)
    """Entra ID tenant id of that user."""
    vm_size: WorkstationVmSize = "Standard_D4s_v5"
    """CPU size (catalogue: D*s_v5, D*ds_v5, E*s_v5) or GPU size (the GPU catalogue); retired sizes are refused."""
    idle_shutdown_minutes: int = Field(default=30, ge=MIN_IDLE_SHUTDOWN_MINUTES, le=MAX_IDLE_SHUTDOWN_MINUTES)
    """Stop after this many minutes without activity (Azure accepts 15 minutes to 3 days)."""
    schedule: ComputeInstanceSchedule = Field(default_factory=ComputeInstanceSchedule)
    """Start/stop schedule; the default starts at 08:00 and stops at 18:00 UTC, Monday to Friday."""


def validate_compute_instances(instances: list[ComputeInstanceSettings]) -> list[ComputeInstanceSettings]:
    repeated = duplicates(i.name for i in instances)
    if repeated:
        raise ValueError(f"duplicate compute instance name(s) {', '.join(repeated)}")
    return instances


def compute_instance_name(naming: NamingConvention, workspace: str, name: str) -> str:
    """`ci<5 hex>-<name>`: an instance's name is part of its regional DNS name (`<name>.<region>.instances.azureml.ms`),
    so the hash of the environment and workspace keeps two environments or workspaces from colliding; the name part
    ends the name, so the last segment has a letter, as Azure requires."""
    return f"ci{naming.suffix('compute-instance', workspace, name)}-{name}"


def idle_shutdown(minutes: int) -> str:
    """ISO 8601 duration for `idleTimeBeforeShutdown`, e.g. 60 -> `PT60M`."""
    if not MIN_IDLE_SHUTDOWN_MINUTES <= minutes <= MAX_IDLE_SHUTDOWN_MINUTES:
        raise ValueError(f"idle shutdown must be {MIN_IDLE_SHUTDOWN_MINUTES}-{MAX_IDLE_SHUTDOWN_MINUTES} minutes")
    return f"PT{minutes}M"


def _schedule(action: str, expression: str, time_zone: str) -> ml.ComputeStartStopScheduleArgs:
    return ml.ComputeStartStopScheduleArgs(
        action=ml.ComputePowerAction(action),
        trigger_type=ml.ComputeTriggerType.CRON,
        cron=ml.CronArgs(expression=expression, time_zone=time_zone),
        status=ml.ScheduleStatus.ENABLED,
    )


def compute_instances(
    parent: pulumi.Resource,
    component_name: str,
    *,
    instances: Sequence[ComputeInstanceSettings],
    naming: NamingConvention,
    workspace: str,
    placement: ComputePlacement,
) -> list[ml.Compute]:
    """One ComputeInstance per entry, each assigned to its user; see the module docstring for every setting."""
    return [
        workspace_compute(
            parent,
            f"{component_name}-ci-{instance.name}",
            placement=placement,
            compute_name=compute_instance_name(naming, workspace, instance.name),
            properties=ml.ComputeInstanceArgs(
                compute_type="ComputeInstance",
                compute_location=placement.location,
                description=f"Personal compute instance of {instance.name}",
                disable_local_auth=True,
                properties=_instance_properties(instance, placement.subnet_id),
            ),
            # `Compute - Update` takes only cluster scale settings, so what defines the instance (size, subnet,
            # assigned user, placement) replaces it; a replacement deletes the user's instance and its local disk,
            # so schedules, idle shutdown and the description are NOT replacement triggers: they are ignored after
            # creation (change them in studio, or with the `updateIdleShutdownSetting` action; REST "Compute").
            replace_on_changes=[
                "properties.computeLocation",
                "properties.properties.vmSize",
                "properties.properties.subnet",
                "properties.properties.personalComputeInstanceSettings",
            ],
            ignore_changes=[
                "properties.description",
                "properties.properties.schedules",
                "properties.properties.idleTimeBeforeShutdown",
            ],
        )
        for instance in instances
    ]


def _instance_properties(
    instance: ComputeInstanceSettings, subnet_id: pulumi.Input[str] | None
) -> ml.ComputeInstancePropertiesArgs:
    """Personal (assigned to one user), no public IP, SSH closed, idle shutdown and a start/stop schedule."""
    return ml.ComputeInstancePropertiesArgs(
        vm_size=instance.vm_size,
        application_sharing_policy=ml.ApplicationSharingPolicy.PERSONAL,
        compute_instance_authorization_type=ml.ComputeInstanceAuthorizationType.PERSONAL,
        personal_compute_instance_settings=ml.PersonalComputeInstanceSettingsArgs(
            assigned_user=ml.AssignedUserArgs(object_id=instance.user_object_id, tenant_id=instance.user_tenant_id)
        ),
        enable_node_public_ip=False,
        ssh_settings=ml.ComputeInstanceSshSettingsArgs(ssh_public_access=ml.SshPublicAccess.DISABLED),
        idle_time_before_shutdown=idle_shutdown(instance.idle_shutdown_minutes),
        schedules=ml.ComputeSchedulesArgs(compute_start_stop=_schedules(instance.schedule)),
        subnet=ml.ResourceIdArgs(id=subnet_id) if subnet_id is not None else None,
    )


def _schedules(schedule: ComputeInstanceSchedule) -> list[ml.ComputeStartStopScheduleArgs]:
    """The stop schedule, preceded by the start schedule when there is one."""
    stop = _schedule("Stop", schedule.stop, schedule.time_zone)
    if schedule.start is None:
        return [stop]
    return [_schedule("Start", schedule.start, schedule.time_zone), stop]


__all__ = [
    "ComputeInstanceSchedule",
    "ComputeInstanceSettings",
    "compute_instances",
    "compute_instance_name",
    "idle_shutdown",
    "validate_compute_instances",
]
