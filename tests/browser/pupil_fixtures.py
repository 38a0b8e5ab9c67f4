"""The demo LA of tests.web.pupil_cases on the live server.

Its marks are those of school year 2025/26 (the example term dates), which the record shows as the
latest year with marks whatever the date the tests run. The LA calendar is the example terms plus one
long term from September 2026 to well after today, so that cases started now can count school days.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from engine import clock
from engine.services.calendars import load_calendar
from tests.browser.conftest import LiveServer
from tests.conftest import TERM_DATES
from tests.web.pupil_cases import DemoLA, make_la, make_people


def demo_la(live_server: LiveServer, tmp_path: Path) -> DemoLA:
    ctx = live_server.ctx
    terms = json.loads(TERM_DATES.read_text())
    later = (clock.now().date() + timedelta(days=400)).isoformat()
    terms["terms"].append({"start": "2026-09-01", "end": later})
    path = tmp_path / "term-dates-with-now.json"
    path.write_text(json.dumps(terms))
    with ctx.db.transaction() as session:
        load_calendar(session, path)
    ctx.calendars.invalidate()
    made = make_la(ctx)
    make_people(ctx, made)
    return made
