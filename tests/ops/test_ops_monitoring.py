"""Alerts and cost anomalies: the action group, each alert's default and override, the budget's contact group."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from helpers import run_here

from aiinfra.components._base import ComponentArgsError
from aiinfra.components.naming import NamingConvention
from aiinfra.components.platform_monitoring import (
    AlertSettings,
    MonitoredAksCluster,
    PlatformAlertsArgs,
    aks_pool_at_max_query,
    window,
)
from stacks.config import ConfigError, parse_platform_config

REPO = Path(__file__).resolve().parents[2]
ACTION_GROUP = "azure-native:monitor:ActionGroup"
METRIC_ALERT = "azure-native:monitor:MetricAlert"
LOG_ALERT = "azure-native:monitor:ScheduledQueryRule"
BUDGET = "azure-native:consumption:Budget"


def platform(env: str) -> dict:
    return copy.deepcopy(yaml.safe_load((REPO / f"Pulumi.{env}.yaml").read_text())["config"]["aiinfra:platform"])


def criterion(alert) -> dict:
    (one,) = alert.inputs["criteria"]["allOf"]
    return one


def alerts(plan) -> dict:
    return {r.name.removeprefix("alerts-"): r for r in plan.of_type(METRIC_ALERT)}


def test_prd_action_group_emails_and_webhook(plan_of):
    plan = plan_of("prd")
    (group,) = plan.of_type(ACTION_GROUP)
    assert [r["emailAddress"] for r in group.inputs["emailReceivers"]] == [
        "ml-platform@contoso.com",
        "finops@contoso.com",
    ]
    assert all(r["useCommonAlertSchema"] is True for r in group.inputs["emailReceivers"])
    (hook,) = group.inputs["webhookReceivers"]
    assert hook["serviceUri"] == "https://oncall.contoso.com/hooks/azure-monitor"
    assert len(group.inputs["groupShortName"]) <= 12 and group.inputs["location"] == "Global"


def test_every_alert_notifies_the_action_group(plan_of):
    plan = plan_of("prd")
    (group,) = plan.of_type(ACTION_GROUP)
    for alert in plan.of_type(METRIC_ALERT):
        assert alert.inputs["actions"] == [{"actionGroupId": group.id}]
        assert alert.inputs["enabled"] is True and alert.inputs["autoMitigate"] is True
    (log,) = plan.of_type(LOG_ALERT)
    assert log.inputs["actions"]["actionGroups"] == [group.id]


def test_budget_notifications_go_to_the_action_group_too(plan_of):
    plan = plan_of("prd")
    (group,) = plan.of_type(ACTION_GROUP)
    (budget,) = plan.of_type(BUDGET)
    for notification in budget.inputs["notifications"].values():
        assert notification["contactGroups"] == [group.id]
        assert notification["contactEmails"]


def test_metric_names_aggregations_and_defaults(plan_of):
    dev = alerts(plan_of("dev"))
    idle = criterion(dev["aml-research-idle-gpu-nodes"])
    assert (
        idle["metricName"],
        idle["metricNamespace"],
        idle["timeAggregation"],
        idle["operator"],
        idle["threshold"],
    ) == ("Idle Nodes", "Microsoft.MachineLearningServices/workspaces", "Average", "GreaterThan", 0.0)
    assert idle["dimensions"] == [
        {"name": "ClusterName", "operator": "Include", "values": ["t4-lowpri", "t4x4-lowpri"]}
    ], "GPU clusters only, not image-build"
    assert dev["aml-research-idle-gpu-nodes"].inputs["windowSize"] == "PT1H"
    failed = criterion(dev["aml-research-failed-runs"])
    assert (failed["metricName"], failed["timeAggregation"], failed["threshold"]) == ("Failed Runs", "Total", 5.0)
    backlog = criterion(dev["batch-backlog"])
    assert (backlog["metricName"], backlog["metricNamespace"], backlog["timeAggregation"], backlog["threshold"]) == (
        "RunningNodeCount",
        "Microsoft.Batch/batchAccounts",
        "Total",
        2.0 * 60,
    ), "node-minutes: 2 nodes x 60 min"
    unusable = dev["batch-unusable-nodes"]
    assert criterion(unusable)["metricName"] == "UnusableNodeCount" and unusable.inputs["windowSize"] == "PT15M"
    assert (criterion(unusable)["timeAggregation"], criterion(unusable)["threshold"]) == ("Total", 15.0)
    assert unusable.inputs["severity"] == 1
    replicas = criterion(dev["aca-infer-at-max"])
    assert (replicas["metricName"], replicas["metricNamespace"], replicas["threshold"]) == (
        "Replicas",
        "Microsoft.App/containerApps",
        1.0,
    )
    assert dev["aca-infer-at-max"].inputs["windowSize"] == "PT30M"


def test_prd_overrides_apply(plan_of):
    prd = alerts(plan_of("prd"))
    idle = prd["aml-research-idle-gpu-nodes"]
    assert idle.inputs["windowSize"] == "PT30M" and idle.inputs["severity"] == 1
    assert criterion(prd["aml-research-failed-runs"])["threshold"] == 1.0, "the default where prd sets none"


def test_aks_gpu_pool_alert_counts_nodes_per_pool_in_container_insights(plan_of):
    plan = plan_of("prd")
    (log,) = plan.of_type(LOG_ALERT)
    (cluster,) = plan.of_type("azure-native:containerservice:ManagedCluster")
    (condition,) = log.inputs["criteria"]["allOf"]
    query = condition["query"]
    assert f'ClusterId =~ "{cluster.id}"' in query
    assert 'datatable(pool: string, maxCount: long) ["a100train", 8, "t4infer", 4]' in query
    assert condition["operator"] == "GreaterThan" and condition["threshold"] == 0
    assert log.inputs["scopes"] == [plan.of_type("azure-native:operationalinsights:Workspace")[0].id]
    assert log.inputs["kind"] == "LogAlert" and log.inputs["windowSize"] == "PT30M"


def test_query_shape():
    query = aks_pool_at_max_query("/subscriptions/s/rg/aks", {"gpu": 2})
    assert query.splitlines()[0] == "KubeNodeInventory"
    assert 'extract(@"^aks-([a-z0-9]+)-", 1, Computer)' in query
    assert "binsAtMax == bins" in query


def test_an_alert_can_be_switched_off(tmp_path):

    document = yaml.safe_load((REPO / "Pulumi.dev.yaml").read_text())
    document["config"]["aiinfra:platform"]["monitoring"]["alerts"]["batchBacklog"] = {"enabled": False}
    document["config"]["aiinfra:platform"]["monitoring"]["alerts"]["aksGpuPoolAtMax"] = {"enabled": False}
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(yaml.safe_dump(document))
    plan = run_here(REPO, "dev", path)
    assert "batch-backlog" not in alerts(plan) and "batch-unusable-nodes" in alerts(plan)
    assert not plan.of_type(LOG_ALERT)


def test_no_monitoring_block_creates_no_alerts_and_keeps_the_budget_as_it_was(tmp_path):

    document = yaml.safe_load((REPO / "Pulumi.dev.yaml").read_text())
    del document["config"]["aiinfra:platform"]["monitoring"]
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(yaml.safe_dump(document))
    plan = run_here(REPO, "dev", path)
    assert not plan.of_type(ACTION_GROUP) and not plan.of_type(METRIC_ALERT)
    (budget,) = plan.of_type(BUDGET)
    assert all("contactGroups" not in n for n in budget.inputs["notifications"].values())


@pytest.mark.parametrize(
    "mutate,expected",
    [
        (lambda m: m.update(emails=[]), "monitoring.emails: List should have at least 1 item"),
        (lambda m: m.update(emails=["ops"]), "monitoring.emails: not e-mail addresses: ops"),
        (lambda m: m.update(webhookUrl="http://x"), "monitoring.webhookUrl: String should match pattern"),
        (
            lambda m: m["alerts"].update(amlFailedRuns={"windowMinutes": 45}),
            "monitoring.alerts.amlFailedRuns.windowMinutes: 45 is not a window Azure Monitor takes",
        ),
        (
            lambda m: m["alerts"].update(amlFailedRuns={"severity": 5}),
            "monitoring.alerts.amlFailedRuns.severity: Input should be less than or equal to 4",
        ),
        (lambda m: m["alerts"].update(gpuIdle={}), "monitoring.alerts.gpuIdle: unknown key"),
    ],
)
def test_config_errors_name_the_key(mutate, expected):
    config = platform("dev")
    mutate(config["monitoring"])
    with pytest.raises(ConfigError) as error:
        parse_platform_config(config, "Pulumi.dev.yaml")
    assert f"aiinfra:platform.{expected}" in str(error.value)


def test_aks_pool_alert_needs_log_analytics():
    with pytest.raises(ComponentArgsError, match="needs log_analytics_workspace_id"):
        PlatformAlertsArgs(
            naming=NamingConvention(prefix="contoso", environment="dev", location="westus3"),
            resource_group_name="rg",
            action_group_id="/ag",
            aks_cluster=MonitoredAksCluster(cluster_id="/aks", gpu_pools={"gpu": 2}),
        )


def test_windows_are_iso_8601():
    assert [window(m) for m in (5, 15, 30, 60, 360, 720, 1440)] == [
        "PT5M",
        "PT15M",
        "PT30M",
        "PT1H",
        "PT6H",
        "PT12H",
        "P1D",
    ]
    defaults = AlertSettings()
    assert defaults.aml_idle_gpu_nodes.window_minutes == 60 and defaults.batch_unusable_nodes.window_minutes == 15
