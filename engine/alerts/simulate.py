"""What a new or changed rule would have raised over past data: counted, never written.

The count is what nightly evaluations from ``first`` to ``last`` would have raised on the data as it
is now (marks corrected since are seen corrected): one alert per episode whose condition was met by
``last`` and still held on some day from ``first`` (less the rule's catch-up). Alerts that exist
already, and closed ones, are not taken into account: the question is what the rule finds.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from .kinds import Episode
from .rules import Rule

EXAMPLES = 10


def summarise(rule: Rule, episodes: list[Episode], first: date, last: date,
              establishments: dict[int, tuple[str, str]]) -> dict[str, Any]:  # fmt: skip
    """Counts by month first raised and by establishment, with a few examples."""
    by_month = Counter(max(e.reached, first).strftime("%Y-%m") for e in episodes)
    by_establishment = Counter(e.establishment_id for e in episodes)
    subjects = {(e.enrolment_id, e.pupil_id) for e in episodes}
    return {
        "rule": rule.as_dict(),
        "from": first.isoformat(),
        "to": last.isoformat(),
        "alerts": len(episodes),
        "enrolments": len(subjects),
        "still_holding_at_end": sum(e.ongoing for e in episodes),
        "by_month_first_raised": dict(sorted(by_month.items())),
        "by_establishment": [
            {"laestab": establishments.get(i or -1, ("", ""))[0], "name": establishments.get(i or -1, ("", ""))[1],
             "alerts": n}
            for i, n in by_establishment.most_common(20)
        ],
        "examples": [example(e) for e in sorted(episodes, key=lambda e: (e.reached, e.pupil_id))[:EXAMPLES]],
        "written": False,
    }  # fmt: skip


def example(episode: Episode) -> dict[str, Any]:
    """One episode as the simulation shows it (the caller adds the pupil's UPN)."""
    return {
        "pupil_id": episode.pupil_id, "enrolment_id": episode.enrolment_id, "episode": episode.key,
        "start": episode.start.isoformat(), "reached": episode.reached.isoformat(),
        "last": episode.last.isoformat(), "ongoing": episode.ongoing, "summary": episode.summary,
        "facts": episode.facts,
    }  # fmt: skip
