"""Build process_library/demo_cases.json from the scenarios: sample cases at different stages.

    python scripts/make_demo_cases.py

For each process, the start data of its scenarios, completed up to a varying number of tasks, so the
demo shows new, in-progress and waiting cases. Re-run when scenarios change.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BY = {"school": "school1", "attendance": "ewo1", "cme": "cme1", "inclusion": "inclusion1", "ep": "ep1",
      "send": "send1", "managers": "manager1", "panel": "manager1"}


def main() -> None:
    cases = []
    for folder in sorted((ROOT / "tests" / "scenarios").iterdir()):
        for depth, path in enumerate(sorted(folder.glob("*.yaml"))[:3]):
            scenario = yaml.safe_load(path.read_text())
            start = scenario.get("start") or {}
            steps = [s["complete"] for s in scenario["steps"] if isinstance(s, dict) and "complete" in s
                     and not s["complete"].get("expect_error")][: depth * 2]
            cases.append({
                "process": scenario["process"], "key": start.get("key"), "data": start.get("data") or {},
                "complete": [{"task": s["task"], "data": s.get("data") or {}, "as": s.get("as", "demo")} for s in steps],
                "from": str(path.relative_to(ROOT)),
            })
    target = ROOT / "process_library" / "demo_cases.json"
    target.write_text(json.dumps(cases, indent=1, default=str) + "\n")
    print(f"wrote {len(cases)} demo cases to {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
