"""The demo's casework beyond processes: today's alerts and a few episodes with work in them.

So that every page has something to show the moment someone signs in: the alert inboxes (the default
rules evaluated on the synthetic LA's marks), EP involvement episodes for three pupils of the demo
school with report sections to copy, a consultation record with that school, and an attendance
casework episode for a pupil the rules flagged.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from .context import Context
from .models.alerts import Alert
from .models.people import Enrolment, Establishment
from .services import alert_rules, alerts, episodes, users, work_items
from .services.attendance import last_school_day
from .services.users import DEMO_SCHOOL


def add_casework(ctx: Context, today: date) -> dict[str, int]:
    """Evaluate the default alert rules as of ``today`` and open the demo episodes."""
    alert_rules.load_defaults(ctx, actor="demo")
    raised = alerts.evaluate(ctx, last_school_day(ctx, today), trigger="demo", actor="demo")["raised"]
    made = _episodes(ctx, today)
    return {"alerts": raised, **made}


def _episodes(ctx: Context, today: date) -> dict[str, int]:
    school_id, pupil_ids = _demo_school_pupils(ctx, today)
    if school_id is None or len(pupil_ids) < 3:
        return {"episodes": 0, "work_items": 0}
    ep = users.principal_for(ctx, "ep")
    opened = [
        episodes.open_episode(ctx, ep, "ep-involvement", pupil_id=p, opened_on=today - timedelta(days=40))
        for p in pupil_ids[:3]
    ]
    items = 0
    for section, text in _REPORT_SECTIONS:
        work_items.add_work_item(
            ctx,
            ep,
            opened[0].id,
            "ep-report-section.schema.json",
            {
                "section": section,
                "content": text,
                "written_on": (today - timedelta(days=7)).isoformat(),
                "sources": [{"source": "Consultation with the class teacher and SENCo"}],
            },
        )
        items += 1
    consultation = episodes.open_episode(
        ctx, ep, "school-consultation", establishment_id=school_id, opened_on=today - timedelta(days=60)
    )
    work_items.add_work_item(
        ctx, ep, consultation.id, "school-consultation.schema.json", _consultation(today)
    )
    items += 1
    flagged = _flagged_pupil(ctx)
    if flagged is not None:
        ewo = users.principal_for(ctx, "ewo")
        episodes.open_episode(
            ctx, ewo, "attendance-casework", pupil_id=flagged, opened_on=today - timedelta(days=14)
        )
    return {"episodes": len(opened) + 1 + (flagged is not None), "work_items": items}


def _demo_school_pupils(ctx: Context, today: date) -> tuple[int | None, list[int]]:
    with ctx.db.transaction() as session:
        school_id = session.scalar(select(Establishment.id).where(Establishment.laestab == DEMO_SCHOOL))
        pupils = session.scalars(
            select(Enrolment.pupil_id)
            .where(
                Enrolment.establishment_id == school_id,
                Enrolment.start_date <= today,
                (Enrolment.end_date.is_(None)) | (Enrolment.end_date >= today),
            )
            .order_by(Enrolment.pupil_id)
            .limit(3)
        ).all()
    return school_id, list(pupils)


def _flagged_pupil(ctx: Context) -> int | None:
    with ctx.db.transaction() as session:
        return session.scalar(
            select(Alert.pupil_id).where(Alert.rule_id == "penalty-threshold").order_by(Alert.id).limit(1)
        )


def _consultation(today: date) -> dict[str, Any]:
    return {
        "met_on": (today - timedelta(days=21)).isoformat(),
        "kind": "planning",
        "attendees": [
            {"name": "Dr Priya Shah", "role": "Educational psychologist"},
            {"name": "Mrs Helen Ward", "role": "SENCo"},
        ],
        "summary": "Planning meeting for this term's EP time: three consultations agreed, one observation "
        "in Year 4, and a staff session on emotionally based school avoidance.",
    }


_REPORT_SECTIONS = (
    (
        "background",
        "Referred by the school after a term of declining engagement in literacy lessons; "
        "hearing and vision checks in Year 3 were clear. Parents describe a happy child at home.",
    ),
    (
        "strengths",
        "Enjoys practical maths and construction tasks; kind to younger pupils; persists when "
        "tasks are broken into short steps with visual prompts.",
    ),
    (
        "cognition_learning",
        "Working memory is an area of relative difficulty: instructions of more than two "
        "steps are often only partly carried out. Phonological awareness is below that of peers.",
    ),
)
