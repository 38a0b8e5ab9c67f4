"""ORM tables, one module per area. Importing this package registers every table on ``Base.metadata``."""

from .attendance import AttendanceImport, AttendanceSummary, AttendanceYear, MarkCorrection
from .calendar import CalendarRecord
from .documents import Document
from .forms import FormVersion
from .people import APPlacement, Enrolment, Establishment, Exclusion, PartTimeTimetable, Pupil, PupilFlag
from .workflow import (
    BpmnFile,
    HumanTask,
    HumanTaskTeam,
    MessageRecord,
    MessageWait,
    ProcessInstance,
    ProcessVersion,
    Timer,
    WorkflowEvent,
)

__all__ = [
    "APPlacement",
    "AttendanceImport",
    "AttendanceSummary",
    "AttendanceYear",
    "BpmnFile",
    "CalendarRecord",
    "Document",
    "Enrolment",
    "Establishment",
    "Exclusion",
    "FormVersion",
    "HumanTask",
    "HumanTaskTeam",
    "MarkCorrection",
    "MessageRecord",
    "MessageWait",
    "PartTimeTimetable",
    "ProcessInstance",
    "ProcessVersion",
    "Pupil",
    "PupilFlag",
    "Timer",
    "WorkflowEvent",
]
