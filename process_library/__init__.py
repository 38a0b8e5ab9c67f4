"""The BPMN processes shipped with EduCase (data files; see manifest.json)."""

from pathlib import Path

PATH = Path(__file__).parent
