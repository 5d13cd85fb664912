"""The release report page: self-contained, with the summary table and an SVG timeline per service."""

from __future__ import annotations

import datetime
import json
import re
import xml.etree.ElementTree as ET

from ansible_collections.shipyard.ecs.plugins.module_utils._report.html import render_html, report_document, service_chart
from ansible_collections.shipyard.ecs.plugins.module_utils._report.writer import write_report

from .test_summary import service

SVG = "{http://www.w3.org/2000/svg}"


def release(**extra):
    result = {
        "changed": True, "release_failed": False, "services": [service()],
        "timeline": [{"t": 0.0, "event": "planned"}, {"t": 0.4, "event": "release_update", "service": "users", "note": "to users:2"},
                     {"t": 30.0, "event": "release_done", "service": "users", "note": "completed <ok>"}],
        "progress": [{"t": 0.5, "service": "users", "purpose": "release", "status": "waiting", "running": 0, "desired": 2,
                      "healthy": 0, "targets": 0, "event": "(service users) has started 2 tasks"},
                     {"t": 15.0, "service": "users", "purpose": "release", "status": "waiting", "running": 2, "desired": 2,
                      "healthy": 1, "targets": 2, "event": "(service users) registered 2 targets"},
                     {"t": 30.0, "service": "users", "purpose": "release", "status": "done", "running": 2, "desired": 2,
                      "healthy": 2, "targets": 2, "event": "(service users) has reached a steady state."}],
        "summary": ["release succeeded: 1 service(s)"], "api_calls": {"ecs": {"read": 40, "write": 2}},
    }
    result.update(extra)
    return result


def test_the_chart_draws_tasks_and_targets_as_steps_and_marks_deployments_and_events():
    svg = ET.fromstring(service_chart("users", release()["progress"], release()["timeline"]))
    lines = {p.get("class"): p.get("points") for p in svg.iter(SVG + "polyline")}
    assert set(lines) == {"series series-desired", "series series-running", "series series-healthy"}
    assert len(lines["series series-healthy"].split()) == 5, "three samples as steps: 3 points and 2 corners"
    assert [g.get("data-event") for g in svg.iter(SVG + "g")] == ["release_update", "release_done"]
    assert len(list(svg.iter(SVG + "circle"))) == 3


def test_the_page_is_self_contained_with_the_summary_table_and_one_chart_per_service():
    page = render_html(report_document("flask-production", release(), "2026-01-01T00:00:00Z"))
    assert not re.search(r"<script|<link|src=|@import|url\(", page)
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') == 1
    assert '<table id="summary">' in page and "<td>users:2@0123456789ab</td>" in page
    assert "completed &lt;ok&gt;" in page, "notes are escaped"
    assert '<span class="status succeeded">succeeded</span>' in page


def test_a_failed_release_page_shows_the_reason_and_the_diagnosis():
    failed = release(release_failed=True, msg="release failed on users: 3 task(s) stopped",
                     failures=[{"service": "users", "reason": "3 task(s) stopped",
                                "stopped_tasks": [{"task": "abc", "stop_code": "EssentialContainerExited",
                                                   "exit_codes": {"users": 3}, "stopped_reason": "exited"}],
                                "log_lines": {"abc": {"users": ["KeyError: DATABASE_URL"]}}}])
    page = render_html(report_document("flask-production", failed))
    assert '<span class="status failed">failed</span>' in page
    assert "<strong>Reason:</strong> release failed on users: 3 task(s) stopped" in page
    assert "exit codes users=3" in page and "KeyError: DATABASE_URL" in page


def test_the_report_is_written_as_html_with_its_json_beside_it(tmp_path):
    now = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    written = write_report(str(tmp_path / "reports"), "flask production", release(), now=now)
    assert written["html_path"] == str(tmp_path / "reports" / "release-flask-production-20260102T030405Z.html")
    document = json.loads(open(written["json_path"]).read())
    assert document["status"] == "succeeded" and document["services"][0]["name"] == "users"
    assert "api_calls" not in document
    assert open(written["html_path"]).read().startswith("<!DOCTYPE html>")


def test_check_mode_writes_nothing(tmp_path):
    written = write_report(str(tmp_path / "reports"), "app", release(), write=False)
    assert written["status"] == "succeeded"
    assert not (tmp_path / "reports").exists()
