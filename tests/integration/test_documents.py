"""Letters produced by processes are stored exactly as issued, with the case's own figures."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

import process_library
from engine.models.documents import Document
from engine.scenario import run_scenario
from engine.services import processes

SCENARIO = Path(__file__).parents[1] / "scenarios" / "attendance_legal_route" / "01_first_notice_paid_80_within_21_days.yaml"


def test_the_penalty_notice_letter_carries_the_amounts_and_dates(ctx):
    processes.deploy_sources(ctx, processes.read_sources([Path(process_library.__file__).parent]))
    result = run_scenario(SCENARIO, ctx=ctx)
    with ctx.db.transaction() as session:
        letters = session.scalars(select(Document).where(Document.instance_id == result.instances["main"])).all()
    by_template = {d.template: d for d in letters}
    letter = by_template["attendance_legal_route_penalty_notice"]
    assert letter.title and len(letter.reference) == 36
    text = letter.html
    # £80 if paid by 9 February 2026 (21 days from deemed receipt on 19 January), else £160 by 16 February
    for expected in ("£80.00", "£160.00", "9 February 2026", "16 February 2026"):
        assert expected in text, expected
    assert "<script" not in text


def test_case_data_in_letters_is_escaped(ctx, tmp_path):
    processes.deploy_sources(ctx, processes.read_sources([Path(process_library.__file__).parent]))
    hostile = tmp_path / "hostile.yaml"
    hostile.write_text(SCENARIO.read_text().replace("name: Ava Smith", "name: \"<script>alert(1)</script>\"", 1))
    result = run_scenario(hostile, ctx=ctx)
    with ctx.db.transaction() as session:
        html = "".join(session.scalars(select(Document.html).where(Document.instance_id == result.instances["main"])))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert" not in html
