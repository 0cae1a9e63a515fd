"""The price table is data: a fresh Azure Retail Prices API export drops in without code changes; bad files say why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from plan_builder import PlanBuilder, aml_cluster

from aiinfra.engine.cost import PriceTableError, estimate, load_price_table
from stacks import preview

PROGRAM = Path(__file__).parent / "program"


def api_item(**overrides) -> dict:
    """An item as https://prices.azure.com/api/retail/prices returns it (fields it has that we do not read included)."""
    item = {
        "currencyCode": "USD",
        "tierMinimumUnits": 0.0,
        "retailPrice": 1.0,
        "unitPrice": 1.0,
        "armRegionName": "northeurope",
        "location": "EU North",
        "effectiveStartDate": "2026-10-01T00:00:00Z",
        "meterId": "00000000-0000-0000-0000-000000000001",
        "meterName": "NC4as T4 v3",
        "productId": "DZH318Z0BQ4N",
        "skuId": "DZH318Z0BQ4N/00FP",
        "productName": "Virtual Machines NCasT4_v3 Series",
        "skuName": "NC4as T4 v3",
        "serviceName": "Virtual Machines",
        "serviceId": "DZH313Z7MMC8",
        "serviceFamily": "Compute",
        "unitOfMeasure": "1 Hour",
        "type": "Consumption",
        "isPrimaryMeterRegion": True,
        "armSkuName": "Standard_NC4as_T4_v3",
    }
    return {**item, **overrides}


def api_page(items: list[dict]) -> dict:
    return {
        "BillingCurrency": "USD",
        "CustomerEntityId": "Default",
        "CustomerEntityType": "Retail",
        "Items": items,
        "NextPageLink": None,
        "Count": len(items),
    }


def write(path: Path, document) -> Path:
    path.write_text(json.dumps(document))
    return path


def t4_cluster_plan(region: str = "northeurope", priority: str = "Dedicated"):
    b = PlanBuilder()
    b.add(
        "azure-native:machinelearningservices:Compute",
        "t4",
        {**aml_cluster("Standard_NC4as_T4_v3", 1, 2, priority), "location": region},
    )
    b.add("azure-native:network:PrivateEndpoint", "pe", {"location": region})
    return b.plan()


def test_an_api_export_replaces_the_builtin_table(tmp_path):
    export = write(
        tmp_path / "prices.json",
        api_page(
            [
                api_item(),
                api_item(retailPrice=2.0, productName="Virtual Machines NCasT4_v3 Series Windows"),  # not Linux
                api_item(retailPrice=0.5, type="DevTestConsumption"),  # not pay-as-you-go
                api_item(retailPrice=5000.0, type="Reservation", reservationTerm="1 Year"),
                api_item(retailPrice=0.9, effectiveStartDate="2024-01-01T00:00:00Z"),  # an older price
                api_item(retailPrice=0.2, skuName="NC4as T4 v3 Spot", meterName="NC4as T4 v3 Spot"),
                api_item(retailPrice=0.25, skuName="NC4as T4 v3 Low Priority", meterName="NC4as T4 v3 Low Priority"),
                api_item(
                    serviceName="Virtual Network",
                    productName="Virtual Network Private Link",
                    skuName="Standard",
                    meterName="Standard Private Endpoint",
                    armSkuName="",
                    retailPrice=0.011,
                ),
                api_item(
                    serviceName="Virtual Network",
                    productName="Virtual Network Private Link",
                    skuName="Standard",
                    meterName="Standard Data Processed - Ingress",
                    armSkuName="",
                    unitOfMeasure="1 GB",
                    retailPrice=0.01,
                ),
            ]
        ),
    )
    table = load_price_table([export])
    dedicated = estimate(t4_cluster_plan(), table)
    rates = {i.resource.name: i.rate.hourly for i in dedicated.items}
    assert rates == {"t4": 1.0, "pe": pytest.approx(0.011)}
    assert dedicated.totals.idle_monthly == pytest.approx((1.0 + 0.011) * 730)
    low = estimate(t4_cluster_plan(priority="LowPriority"), table)
    (cluster,) = [i for i in low.items if i.resource.name == "t4"]
    assert cluster.rate.hourly == 0.25 and cluster.saving_hourly == pytest.approx(2 * 0.75)
    assert f"from {export}" in low.basis and "read not recorded" in low.basis
    # The built-in table does not have northeurope: the same plan is unpriced there.
    assert estimate(t4_cluster_plan()).totals.idle_complete is False


def test_a_plain_list_of_items_with_file_level_source_is_accepted(tmp_path):
    plain = write(tmp_path / "items.json", [api_item(retailPrice=1.5)])
    assert estimate(t4_cluster_plan(), load_price_table([plain])).items[0].rate.hourly == 1.5
    described = write(tmp_path / "page.json", {**api_page([api_item()]), "source": "my export", "readOn": "2026-11-01"})
    row = load_price_table([described]).rows[0]
    assert (row.source, row.read_on) == ("my export", "2026-11-01")


def test_later_files_win_and_the_environment_variable_selects_files(tmp_path, monkeypatch):
    first = write(tmp_path / "a.json", [api_item(retailPrice=1.0)])
    second = write(tmp_path / "b.json", [api_item(retailPrice=3.0)])
    assert estimate(t4_cluster_plan(), load_price_table([first, second])).items[0].rate.hourly == 3.0
    monkeypatch.setenv("AIINFRA_PRICES", f"{second}")
    table = load_price_table()
    assert table.files == [second]


def test_retired_sizes_stay_refused_whatever_the_table_says(tmp_path):
    export = write(
        tmp_path / "old.json",
        [
            api_item(
                armSkuName="Standard_NC6s_v3",
                skuName="NC6s v3",
                meterName="NC6s v3",
                armRegionName="eastus",
                retailPrice=3.06,
            )
        ],
    )
    b = PlanBuilder()
    b.add(
        "azure-native:machinelearningservices:Compute",
        "v100",
        {**aml_cluster("Standard_NC6s_v3", 1, 1), "location": "eastus"},
    )
    (item,) = estimate(b.plan(), load_price_table([export])).items
    assert item.idle_hourly is None and item.problem and "retired" in item.problem


def test_day_and_month_units_become_hourly(tmp_path):
    export = write(
        tmp_path / "acr.json",
        [
            api_item(
                serviceName="Container Registry",
                productName="Container Registry",
                skuName="Premium",
                meterName="Premium Registry Unit",
                armSkuName="",
                unitOfMeasure="1/Day",
                retailPrice=2.4,
            ),
        ],
    )
    b = PlanBuilder()
    b.add("azure-native:containerregistry:Registry", "acr", {"location": "northeurope", "sku": {"name": "Premium"}})
    (item,) = estimate(b.plan(), load_price_table([export])).items
    assert item.rate.hourly == pytest.approx(0.1)


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "not valid JSON"),
        ('{"items": []}', "expected a list of price items or an object with an 'Items' list"),
        (
            json.dumps(api_page([api_item(retailPrice="0.5")])),
            "Items[0].retailPrice: expected a non-negative number, got '0.5'",
        ),
        (
            json.dumps([api_item(), {k: v for k, v in api_item().items() if k != "unitOfMeasure"}]),
            "item[1].unitOfMeasure: expected a string, got None",
        ),
        (json.dumps([api_item(approximate="yes")]), "item[0].approximate: expected true or false, got 'yes'"),
        (json.dumps([api_item(), api_item(currencyCode="EUR")]), "currencyCode: rows mix EUR, USD"),
        (json.dumps([api_item(armSkuName="", skuName="", meterName="")]), "needs at least one of armSkuName"),
        (json.dumps([42]), "item[0]: expected an object, got int"),
    ],
)
def test_malformed_files_name_the_file_and_field(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(PriceTableError) as error:
        load_price_table([path])
    assert str(path) in str(error.value)
    assert message in str(error.value)


def test_missing_file_is_an_error_naming_it(tmp_path):
    with pytest.raises(PriceTableError, match="missing.json: cannot read"):
        load_price_table([tmp_path / "missing.json"])


def test_preview_with_a_bad_price_file_exits_2_without_a_traceback(tmp_path, capsys):
    bad = write(tmp_path / "bad.json", [api_item(retailPrice=-1)])
    code = preview.main(["dev", "--project-dir", str(PROGRAM), "--prices", str(bad), "--quiet", "--no-policies"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip() == f"error: {bad}: item[0].retailPrice: expected a non-negative number, got -1"


@pytest.mark.integration  # the CLI runs the program in its own process
def test_preview_uses_the_given_price_file(tmp_path, capsys):
    export = write(
        tmp_path / "eastus.json",
        [
            api_item(
                armRegionName="eastus", retailPrice=0.0123, skuName="NC4as T4 v3 Spot", meterName="NC4as T4 v3 Spot"
            )
        ],
    )
    code = preview.main(["dev", "--project-dir", str(PROGRAM), "--prices", str(export), "--no-policies"])
    out = capsys.readouterr().out
    assert code == 0
    assert f"from {export} (read not recorded)" in out
    assert "AML compute cluster train-t4: Standard_NC4as_T4_v3 low-priority" in out
    assert "$8.98" in out  # 1 min node x 0.0123 x 730
    # Items unpriced for one reason share one line, naming each resource.
    line = next(x for x in out.splitlines() if "no price for Virtual Network Standard in eastus" in x)
    assert line.startswith("unpriced") and "train-kv-pe" in line


@pytest.mark.integration  # the CLI runs the program in its own process
def test_a_saved_plan_is_priced_like_the_preview_prices_it(tmp_path, capsys):
    from aiinfra.engine.cost import main as cost_main

    saved = tmp_path / "plan.json"
    assert preview.main(["dev", "--project-dir", str(PROGRAM), "--json", str(saved), "--quiet", "--no-policies"]) == 0
    capsys.readouterr()
    assert cost_main([str(saved), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(saved.read_text())["cost"]
    broken = write(tmp_path / "broken.json", {"plan": {"resources": [{"urn": 3}]}})
    assert cost_main([str(broken)]) == 2
    assert capsys.readouterr().err.strip() == f"error: {broken}: resources[0].urn: expected a string, got 3"
