"""The issue-code catalogue is configuration: the shipped file loads, a replacement is
validated at start-up and a bad entry is named in the error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from oms_aftersales.bootstrap import build
from oms_aftersales.catalogue_file import DEFAULT_FILE, CatalogueError, load_catalogue
from oms_aftersales.config import Settings
from oms_aftersales.domain.issue_codes import Priority, render_template


def _default() -> dict:  # type: ignore[type-arg]
    return json.loads(DEFAULT_FILE.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _write(tmp_path: Path, doc: dict) -> Path:  # type: ignore[type-arg]
    path = tmp_path / "codes.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def test_shipped_catalogue_has_the_standard_codes_with_every_priority() -> None:
    catalogue = load_catalogue()
    for code in ("RTS-001", "WRG-001", "DMG-001", "RET-001", "LOG-001"):
        entry = catalogue.code(code)
        assert set(entry.targets) == set(Priority)
        assert entry.department in catalogue.departments
    urgent = catalogue.targets("DMG-001", Priority.URGENT)
    low = catalogue.targets("DMG-001", Priority.LOW)
    assert urgent.first_response < low.first_response


def test_a_new_code_is_added_by_configuration(tmp_path: Path) -> None:
    doc = _default()
    doc["issue_codes"]["PKG-001"] = {**doc["issue_codes"]["DMG-001"], "title": "Bad packaging"}

    assert load_catalogue(_write(tmp_path, doc)).code("PKG-001").title == "Bad packaging"


@pytest.mark.parametrize(
    ("break_it", "named"),
    [
        (lambda d: d["issue_codes"]["RTS-001"].update(department="nowhere"), "RTS-001"),
        (lambda d: d["issue_codes"]["WRG-001"]["deadlines"].pop("LOW"), "WRG-001"),
        (
            lambda d: d["issue_codes"]["RET-001"]["reply_templates"].update(x="{order_total}"),
            "order_total",
        ),
        (lambda d: d["calendars"]["office"].update(time_zone="Mars/Base"), "Mars/Base"),
        (lambda d: d["calendars"]["office"]["hours"].update(mon=["13:00-12:00"]), "office"),
        (lambda d: d["issue_codes"].update({"bad code": d["issue_codes"]["RTS-001"]}), "bad code"),
    ],
)
def test_a_bad_entry_is_named_in_the_error(tmp_path: Path, break_it, named: str) -> None:  # type: ignore[no-untyped-def]
    doc = _default()
    break_it(doc)

    with pytest.raises(CatalogueError) as caught:
        load_catalogue(_write(tmp_path, doc))

    assert named in str(caught.value)


def test_service_refuses_to_start_on_a_bad_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "codes.json"
    path.write_text("{not json", encoding="utf-8")
    monkeypatch.setenv("OMS_AFTERSALES_ISSUE_CODES_FILE", str(path))

    with pytest.raises(SystemExit) as caught:
        build(Settings())

    assert "OMS_AFTERSALES_ISSUE_CODES_FILE" in str(caught.value) and "not JSON" in str(
        caught.value
    )


def test_template_placeholders_are_filled_and_missing_ones_stay_visible() -> None:
    text = render_template(
        "订单 {platform_order_id} 承诺 {promised_ship_time} 前发货",
        {
            "platform_order_id": "TB1",
        },
    )
    assert text == "订单 TB1 承诺 {promised_ship_time} 前发货"
