# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""Where a release report goes: ``<directory>/release-<name>-<UTC time>.html`` and ``.json`` beside it."""

from __future__ import annotations

import datetime
import json
import os
import re
from typing import Any, Dict, Optional

from .html import render_html, report_document


def report_paths(directory: str, name: str, now: datetime.datetime) -> Dict[str, str]:
    """The HTML and JSON paths of a report made at ``now`` (UTC); ``name`` reduced to safe characters."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "release"
    stem = os.path.join(directory, "release-%s-%s" % (safe, now.strftime("%Y%m%dT%H%M%SZ")))
    return {"html_path": stem + ".html", "json_path": stem + ".json"}


def write_report(directory: str, name: str, release: Dict[str, Any], now: Optional[datetime.datetime] = None,
                 write: bool = True) -> Dict[str, Any]:
    """Render the report of ``release`` (the release module's result) and write both files unless ``write`` is false."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    paths = report_paths(directory, name, now)
    document = report_document(name, release, now.strftime("%Y-%m-%dT%H:%M:%SZ"))
    if write:
        os.makedirs(directory, exist_ok=True)
        with open(paths["json_path"], "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=1, sort_keys=True, default=str)
        with open(paths["html_path"], "w", encoding="utf-8") as handle:
            handle.write(render_html(document))
    return dict(paths, status=document["status"])
