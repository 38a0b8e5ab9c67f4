"""ORM tables, one module per area. Importing this package registers every table on ``Base.metadata``."""

from .access import ApiToken, AuditEvent, InstanceEstablishment, Role, Team, TeamMembership, UserAccount
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
    "ApiToken",
    "AttendanceImport",
    "AttendanceSummary",
    "AttendanceYear",
    "AuditEvent",
    "BpmnFile",
    "CalendarRecord",
    "Document",
    "Enrolment",
    "Establishment",
    "Exclusion",
    "FormVersion",
    "HumanTask",
    "HumanTaskTeam",
    "InstanceEstablishment",
    "MarkCorrection",
    "MessageRecord",
    "MessageWait",
    "PartTimeTimetable",
    "ProcessInstance",
    "ProcessVersion",
    "Pupil",
    "PupilFlag",
    "Role",
    "Team",
    "TeamMembership",
    "Timer",
    "UserAccount",
    "WorkflowEvent",
]
