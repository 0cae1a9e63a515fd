"""PlatformMonitoring: who is told, and when, that a GPU platform is wasting money or failing; CostAnomalyAlert.

Seed 000 asks not to run GPUs "24/7 without monitoring" and for cost anomaly detection; seed 004 for GPU utilisation
and queue depth. Two components:

- **PlatformMonitoring** (`aiinfra:monitor:PlatformMonitoring`, in the platform stack, created first so the budget
  can name it): the environment's action group (e-mail receivers from config, an optional webhook);
- **PlatformAlerts** (`aiinfra:monitor:PlatformAlerts`, a child of it, created once the watched resources exist):
  the alert rules that matter on a GPU platform, each with a default threshold and window that config can override
  or switch off:

  - AML GPU nodes idle: workspaces' `Idle Nodes` (dimension `ClusterName` = the GPU clusters), average > 0, 60 min;
  - AML failed runs: workspaces' `Failed Runs`, total >= 1 in 60 min;
  - Batch backlog: batchAccounts' `RunningNodeCount`, total (node-minutes): every node busy for 60 min;
  - Batch unusable nodes: batchAccounts' `UnusableNodeCount`, total (node-minutes): 1 on average for 15 min;
  - Container Apps at max: containerApps' `Replicas`, minimum >= the app's maxReplicas for 30 min;
  - AKS GPU pool at max: Container insights' `KubeNodeInventory`, nodes per GPU pool = its maxCount for 30 min.

  Metric names are the "Name in REST API" column of Microsoft Learn's "Supported metrics" pages for
  Microsoft.MachineLearningServices/workspaces, Microsoft.Batch/batchAccounts and Microsoft.App/containerApps. Batch
  publishes no pending-task metric (the same page; `$PendingTasks` exists only inside autoscale formulas), so the
  backlog alert fires when every node the pool may have is busy for the window: the queue is longer than the pool.
  AKS publishes no per-pool node count metric, so the pool alert counts nodes per pool in Container insights'
  `KubeNodeInventory` table (node names are `aks-<pool>-<id>-vmss<n>`; Learn, "Container insights log tables" and
  "Node pools in AKS"). The budget already e-mails; its notifications also go to this action group
  (`contactGroups` of the budget, via SharedServicesArgs.budget_action_group_ids).

- **CostAnomalyAlert** (`aiinfra:monitor:CostAnomalyAlert`, in bootstrap/): a Cost Management scheduled action of kind
  `InsightAlert` (the anomaly alert) with the `ms:DailyAnomalyByResourceGroup` view. Azure offers anomaly alerts at
  subscription scope only (Learn, "Identify anomalies and unexpected changes in cost": create an anomaly alert;
  REST "Scheduled Actions - Create Or Update By Scope", InsightAlert example), which the pipeline's deployer, scoped
  to one resource group, cannot and should not write: the administrator's bootstrap creates it.
"""

from __future__ import annotations

import re
from typing import Literal

import pulumi
from pulumi_azure_native import costmanagement, monitor
from pydantic import Field, field_validator, model_validator

from ._base import ArgsModel, InputStr, publish
from .interfaces import CommonArgs, child_opts
from .naming import NamingConvention

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Azure Monitor metric alerts take these window sizes (REST `MetricAlertProperties.windowSize`).
WINDOW_MINUTES = (5, 15, 30, 60, 360, 720, 1440)


def window(minutes: int) -> str:
    """ISO 8601 duration of a metric alert window, e.g. 60 -> PT1H."""
    return (
        f"PT{minutes // 60}H"
        if minutes % 60 == 0 and minutes < 1440
        else ("P1D" if minutes == 1440 else f"PT{minutes}M")
    )


def frequency(minutes: int) -> str:
    """How often the rule is evaluated: every 5 minutes, 15 for windows of 6 hours and more (<= the window)."""
    return "PT15M" if minutes >= 360 else "PT5M"


class AlertSetting(ArgsModel):
    """One alert rule: on or off, and for how long the condition must hold."""

    enabled: bool = True
    """False: the rule is not created."""
    window_minutes: int = 60
    """How long the condition must hold: one of 5, 15, 30, 60, 360, 720, 1440 (the windows Azure Monitor takes)."""
    threshold: float | None = None
    """The limit where the alert has a number of its own (failed runs, unusable nodes); None: the default."""
    severity: int = Field(default=2, ge=0, le=4)
    """Azure Monitor severity, 0 (critical) to 4 (verbose)."""

    @field_validator("window_minutes")
    @classmethod
    def _window(cls, minutes: int) -> int:
        if minutes not in WINDOW_MINUTES:
            raise ValueError(
                f"{minutes} is not a window Azure Monitor takes; use one of "
                f"{', '.join(map(str, WINDOW_MINUTES))} minutes"
            )
        return minutes


def check_emails(emails: list[str]) -> list[str]:
    """E-mail addresses, or a ValueError naming the ones that are not."""
    bad = [e for e in emails if not _EMAIL.match(e)]
    if bad:
        raise ValueError(f"not e-mail addresses: {', '.join(bad)}")
    return emails


def _alert(window_minutes: int = 60, threshold: float | None = None, severity: int = 2) -> AlertSetting:
    return AlertSetting(window_minutes=window_minutes, threshold=threshold, severity=severity)


class AlertSettings(ArgsModel):
    """Every alert of the platform, with its default."""

    aml_idle_gpu_nodes: AlertSetting = Field(default_factory=lambda: _alert(60))
    """GPU nodes of an AML cluster idle (no job) for the whole window: paid for and unused."""
    aml_failed_runs: AlertSetting = Field(default_factory=lambda: _alert(60, 1))
    """At least `threshold` failed runs in the window (default 1)."""
    batch_backlog: AlertSetting = Field(default_factory=lambda: _alert(60))
    """Every node the Batch pool may have is running tasks for the whole window: the queue outgrows the pool."""
    batch_unusable_nodes: AlertSetting = Field(default_factory=lambda: _alert(15, 1, 1))
    """At least `threshold` unusable Batch nodes for the window (default 1 for 15 minutes)."""
    container_apps_at_max: AlertSetting = Field(default_factory=lambda: _alert(30))
    """A GPU app at its maxReplicas for the whole window: requests queue up behind it."""
    aks_gpu_pool_at_max: AlertSetting = Field(default_factory=lambda: _alert(30))
    """An AKS GPU pool at its maxCount for the whole window: pods wait for nodes the autoscaler may not add."""


class AlertReceivers(ArgsModel):
    """Who an alert reaches: the action group's receivers."""

    emails: list[str] = Field(min_length=1)
    """Who the action group e-mails (and who gets the cost anomaly alert)."""
    webhook_url: str | None = Field(default=None, pattern=r"^https://\S+$")
    """An HTTPS webhook (e.g. an incident tool) the action group also calls, with the common alert schema."""

    @field_validator("emails")
    @classmethod
    def _emails(cls, emails: list[str]) -> list[str]:
        return check_emails(emails)


class PlatformMonitoringSettings(AlertReceivers):
    """What an environment chooses about its alerts (the `monitoring` section of stack config)."""

    alerts: AlertSettings = Field(default_factory=AlertSettings)
    """Each alert's window, threshold, severity, or `enabled: false`."""
    cost_anomaly_alert: bool = True
    """Bootstrap creates a daily cost anomaly alert (subscription scope) to `emails`."""


class MonitoredWorkspace(ArgsModel):
    """An AML workspace and the names of its GPU clusters."""

    name: str
    """Workload name (used in the alert names)."""
    workspace_id: InputStr
    """Resource id of the workspace."""
    gpu_cluster_names: list[str] = Field(default_factory=list)
    """Compute names of its GPU clusters (the `ClusterName` dimension)."""


class MonitoredBatchPool(ArgsModel):
    account_id: InputStr
    """Resource id of the Batch account."""
    max_nodes: int = Field(ge=1)
    """The pool's ceiling (dedicated + low-priority)."""


class MonitoredContainerApp(ArgsModel):
    name: str
    """App name (used in the alert names)."""
    app_id: InputStr
    """Resource id of the Container App."""
    max_replicas: int = Field(ge=1)
    """Its maxReplicas."""


class MonitoredAksCluster(ArgsModel):
    cluster_id: InputStr
    """Resource id of the AKS cluster."""
    gpu_pools: dict[str, int] = Field(default_factory=dict)
    """GPU pool name -> its maxCount."""


class PlatformMonitoringArgs(CommonArgs, AlertReceivers):
    """Args of PlatformMonitoring: the common args and who is told."""


class PlatformAlertsArgs(CommonArgs):
    """Args of PlatformAlerts: the common args, the action group, each alert's setting and what to watch."""

    action_group_id: InputStr
    """The action group the alerts notify (`PlatformMonitoring.action_group_id`)."""
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    """Each alert's window, threshold, severity, or `enabled: false`."""
    workspaces: list[MonitoredWorkspace] = Field(default_factory=list)
    """AML workspaces to watch."""
    batch_pool: MonitoredBatchPool | None = None
    """The Batch GPU pool to watch."""
    container_apps: list[MonitoredContainerApp] = Field(default_factory=list)
    """GPU Container Apps to watch."""
    aks_cluster: MonitoredAksCluster | None = None
    """The AKS cluster whose GPU pools to watch (needs `log_analytics_workspace_id`, where Container insights
    writes)."""

    @model_validator(mode="after")
    def _aks_needs_logs(self) -> PlatformAlertsArgs:
        if (
            self.aks_cluster is not None
            and self.aks_cluster.gpu_pools
            and self.alerts.aks_gpu_pool_at_max.enabled
            and self.log_analytics_workspace_id is None
        ):
            raise ValueError(
                "aks_cluster needs log_analytics_workspace_id (the workspace Container insights writes "
                "to) for the GPU pool alert"
            )
        return self


def aks_pool_at_max_query(cluster_id: str, pools: dict[str, int], bin_minutes: int = 5) -> str:
    """KQL over Container insights: the GPU pools whose node count reached maxCount in every bin of the window."""
    table = ", ".join(f'"{name}", {count}' for name, count in sorted(pools.items()))
    names = ", ".join(f'"{name}"' for name in sorted(pools))
    return "\n".join(
        [
            "KubeNodeInventory",
            f'| where ClusterId =~ "{cluster_id}"',
            '| extend pool = extract(@"^aks-([a-z0-9]+)-", 1, Computer)',
            f"| where pool in ({names})",
            f"| summarize nodes = dcount(Computer) by pool, bin(TimeGenerated, {bin_minutes}m)",
            f"| join kind=inner (datatable(pool: string, maxCount: long) [{table}]) on pool",
            "| summarize bins = count(), binsAtMax = countif(nodes >= maxCount) by pool",
            "| where bins > 0 and binsAtMax == bins",
        ]
    )


class PlatformMonitoring(pulumi.ComponentResource):
    """The environment's action group: the e-mails (and webhook) every alert and the budget notify.

    Created before the other components, so the budget can name it; the alert rules (PlatformAlerts) are created
    under it once the resources they watch exist.
    """

    action_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: PlatformMonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("aiinfra:monitor:PlatformMonitoring", name, None, opts)
        n = args.naming
        group = monitor.ActionGroup(
            f"{name}-ag",
            action_group_name=n.name("action_group"),
            resource_group_name=args.resource_group_name,
            location="Global",  # action groups are global resources
            # groupShortName: at most 12 characters, shown in SMS and e-mail (REST ActionGroup.groupShortName).
            group_short_name=f"{n.prefix[:6]}-{n.environment}"[:12],
            enabled=True,
            email_receivers=[
                monitor.MicrosoftCommonEmailReceiverArgs(
                    name=f"email-{i}", email_address=e, use_common_alert_schema=True
                )
                for i, e in enumerate(args.emails)
            ],
            webhook_receivers=[
                monitor.WebhookReceiverArgs(name="webhook", service_uri=args.webhook_url, use_common_alert_schema=True)
            ]
            if args.webhook_url
            else None,
            tags=args.tags,
            opts=child_opts(self),
        )
        publish(self, action_group_id=group.id)


class PlatformAlerts(pulumi.ComponentResource):
    """The alert rules that matter on a GPU platform (see the module docstring), notifying one action group."""

    alert_rule_names: list[str]

    def __init__(self, name: str, args: PlatformAlertsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("aiinfra:monitor:PlatformAlerts", name, None, opts)
        rules = [
            *self._workspace_alerts(name, args),
            *self._batch_alerts(name, args),
            *self._container_app_alerts(name, args),
            *self._aks_alerts(name, args),
        ]
        publish(self, alert_rule_names=[rule for rule in rules if rule is not None])

    def _workspace_alerts(self, name: str, args: PlatformAlertsArgs) -> list[str | None]:
        """Per Azure ML workspace: GPU nodes idle for the whole window (when it has GPU clusters), failed runs."""
        alerts = args.alerts
        rules: list[str | None] = []
        for ws in args.workspaces:
            if ws.gpu_cluster_names:
                rules.append(
                    self._metric(
                        name,
                        args,
                        f"aml-{ws.name}-idle-gpu-nodes",
                        ws.workspace_id,
                        alerts.aml_idle_gpu_nodes,
                        "Microsoft.MachineLearningServices/workspaces",
                        "Idle Nodes",
                        "Average",
                        "GreaterThan",
                        0,
                        f"GPU nodes of workspace {ws.name} idle (no job) for the whole window",
                        dimensions=[
                            monitor.MetricDimensionArgs(
                                name="ClusterName", operator="Include", values=ws.gpu_cluster_names
                            )
                        ],
                    )
                )
            rules.append(
                self._metric(
                    name,
                    args,
                    f"aml-{ws.name}-failed-runs",
                    ws.workspace_id,
                    alerts.aml_failed_runs,
                    "Microsoft.MachineLearningServices/workspaces",
                    "Failed Runs",
                    "Total",
                    "GreaterThanOrEqual",
                    alerts.aml_failed_runs.threshold or 1,
                    f"Runs failed in workspace {ws.name}",
                )
            )
        return rules

    def _batch_alerts(self, name: str, args: PlatformAlertsArgs) -> list[str | None]:
        """The Batch pool's backlog (every node busy for the whole window) and its unusable nodes.

        Batch node counts take only the Total aggregation, sampled every minute (Learn, "Supported metrics for
        Microsoft.Batch/batchAccounts": aggregation Total, time grain PT1M). Summed over the window they are
        node-minutes: >= maxNodes x window minutes means every node busy for the whole window, since a sample never
        exceeds maxNodes; for unusable nodes, >= threshold x window is that many on average."""
        pool = args.batch_pool
        if pool is None:
            return []
        backlog, unusable = args.alerts.batch_backlog, args.alerts.batch_unusable_nodes
        return [
            self._metric(
                name,
                args,
                "batch-backlog",
                pool.account_id,
                backlog,
                "Microsoft.Batch/batchAccounts",
                "RunningNodeCount",
                "Total",
                "GreaterThanOrEqual",
                pool.max_nodes * backlog.window_minutes,
                f"All {pool.max_nodes} Batch nodes busy for the whole window: the task queue is longer "
                "than the pool can serve",
            ),
            self._metric(
                name,
                args,
                "batch-unusable-nodes",
                pool.account_id,
                unusable,
                "Microsoft.Batch/batchAccounts",
                "UnusableNodeCount",
                "Total",
                "GreaterThanOrEqual",
                (unusable.threshold or 1) * unusable.window_minutes,
                "Batch nodes stuck unusable (on average over the window)",
            ),
        ]

    def _container_app_alerts(self, name: str, args: PlatformAlertsArgs) -> list[str | None]:
        """Per GPU container app: at its max replicas for the whole window."""
        return [
            self._metric(
                name,
                args,
                f"aca-{app.name}-at-max",
                app.app_id,
                args.alerts.container_apps_at_max,
                "Microsoft.App/containerApps",
                "Replicas",
                "Minimum",
                "GreaterThanOrEqual",
                app.max_replicas,
                f"GPU app {app.name} at its {app.max_replicas} max replicas",
            )
            for app in args.container_apps
        ]

    def _aks_alerts(self, name: str, args: PlatformAlertsArgs) -> list[str | None]:
        """A log alert over Container insights: an AKS GPU pool at its maxCount for the whole window."""
        cluster = args.aks_cluster
        setting = args.alerts.aks_gpu_pool_at_max
        if cluster is None or not cluster.gpu_pools or not setting.enabled:
            return []
        assert args.log_analytics_workspace_id is not None  # checked by the args model
        pools = dict(cluster.gpu_pools)
        query = pulumi.Output.from_input(cluster.cluster_id).apply(lambda cid: aks_pool_at_max_query(cid, pools))
        rule = args.naming.name("alert_rule", "aks-gpu-pool-at-max")
        monitor.ScheduledQueryRule(
            f"{name}-aks-gpu-pool-at-max",
            rule_name=rule,
            resource_group_name=args.resource_group_name,
            location=args.location,
            display_name=rule,
            description="An AKS GPU pool at its maxCount for the whole window: pods wait for GPU nodes",
            kind="LogAlert",
            enabled=True,
            severity=setting.severity,
            scopes=[args.log_analytics_workspace_id],
            window_size=window(setting.window_minutes),
            evaluation_frequency=frequency(setting.window_minutes),
            criteria=monitor.ScheduledQueryRuleCriteriaArgs(
                all_of=[
                    monitor.ConditionArgs(
                        query=query,
                        time_aggregation="Count",
                        operator="GreaterThan",
                        threshold=0,
                        failing_periods=monitor.ConditionFailingPeriodsArgs(
                            number_of_evaluation_periods=1, min_failing_periods_to_alert=1
                        ),
                    )
                ]
            ),
            actions=monitor.ActionsArgs(action_groups=[args.action_group_id]),
            auto_mitigate=True,
            tags=args.tags,
            opts=child_opts(self),
        )
        return [rule]

    def _metric(
        self,
        name: str,
        args: PlatformAlertsArgs,
        key: str,
        scope: pulumi.Input[str],
        setting: AlertSetting,
        namespace: str,
        metric: str,
        aggregation: Literal["Average", "Minimum", "Maximum", "Total"],
        operator: str,
        threshold: float,
        description: str,
        dimensions: list[monitor.MetricDimensionArgs] | None = None,
    ) -> str | None:
        """A metric alert on one resource notifying the action group; its rule name, or None when turned off."""
        if not setting.enabled:
            return None
        rule = args.naming.name("alert_rule", key)
        monitor.MetricAlert(
            f"{name}-{key}",
            rule_name=rule,
            resource_group_name=args.resource_group_name,
            location="global",  # metric alerts on a single resource are global resources
            description=description,
            enabled=True,
            severity=setting.severity,
            scopes=[scope],
            window_size=window(setting.window_minutes),
            evaluation_frequency=frequency(setting.window_minutes),
            criteria=monitor.MetricAlertSingleResourceMultipleMetricCriteriaArgs(
                odata_type="Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria",
                all_of=[
                    monitor.MetricCriteriaArgs(
                        criterion_type="StaticThresholdCriterion",
                        name=metric.replace(" ", ""),
                        metric_name=metric,
                        metric_namespace=namespace,
                        operator=operator,
                        threshold=float(threshold),
                        time_aggregation=aggregation,
                        dimensions=dimensions,
                    )
                ],
            ),
            actions=[monitor.MetricAlertActionArgs(action_group_id=args.action_group_id)],
            auto_mitigate=True,
            tags=args.tags,
            opts=child_opts(self),
        )
        return rule


class CostAnomalyAlertArgs(ArgsModel):
    """Args of CostAnomalyAlert."""

    naming: NamingConvention
    """Naming convention of the environment."""
    subscription_id: InputStr
    """The subscription whose daily cost anomalies are reported (anomaly alerts exist at subscription scope)."""
    emails: list[str] = Field(min_length=1)
    """Who gets the alert."""


class CostAnomalyAlert(pulumi.ComponentResource):
    """A daily Cost Management anomaly alert (scheduled action of kind InsightAlert) on a subscription."""

    scheduled_action_id: pulumi.Output[str]

    def __init__(self, name: str, args: CostAnomalyAlertArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("aiinfra:monitor:CostAnomalyAlert", name, None, opts)
        n = args.naming
        scope = pulumi.Output.concat("subscriptions/", args.subscription_id)
        action = costmanagement.ScheduledActionByScope(
            f"{name}-anomaly",
            name=f"anomaly-{n.prefix}-{n.environment}",
            scope=scope,
            kind=costmanagement.ScheduledActionKind.INSIGHT_ALERT,
            display_name=f"Cost anomalies ({n.prefix} {n.environment})",
            status=costmanagement.ScheduledActionStatus.ENABLED,
            view_id=pulumi.Output.concat(
                "/", scope, "/providers/Microsoft.CostManagement/views/ms:DailyAnomalyByResourceGroup"
            ),
            notification=costmanagement.NotificationPropertiesArgs(
                to=args.emails, subject=f"Cost anomaly detected: {n.prefix} {n.environment}"[:70]
            ),
            schedule=costmanagement.SchedulePropertiesArgs(
                frequency=costmanagement.ScheduleFrequency.DAILY,
                start_date="2026-12-01T00:00:00Z",
                end_date="2031-12-01T00:00:00Z",
            ),
            opts=child_opts(self),
        )
        publish(self, scheduled_action_id=action.id)
