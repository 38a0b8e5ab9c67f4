"""The JSON Schema forms shipped with EduCase (data files)."""

from pathlib import Path

PATH = Path(__file__).parent
