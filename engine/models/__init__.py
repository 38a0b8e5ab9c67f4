"""ORM tables, one module per area. Importing this package registers every table on ``Base.metadata``."""

from .access import ApiToken, AuditEvent, InstanceEstablishment, Role, Team, TeamMembership, UserAccount
from .alerts import (
    Alert,
    AlertEvaluation,
    AlertHistory,
    AlertNotification,
    AlertRecipient,
    AlertRuleRecord,
    AlertRuleVersion,
)
from .attendance import AttendanceImport, AttendanceSummary, AttendanceYear, MarkCorrection
from .calendar import CalendarRecord
from .documents import Document
from .drafts import TaskDraft
from .episodes import Episode, EpisodeDocument, EpisodeInstance, EpisodeNote, EpisodeTemplate, WorkItem
from .forms import FormVersion
from .people import APPlacement, Enrolment, Establishment, Exclusion, PartTimeTimetable, Pupil, PupilFlag
from .returns import DeletionReturn
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
    "Alert",
    "AlertEvaluation",
    "AlertHistory",
    "AlertNotification",
    "AlertRecipient",
    "AlertRuleRecord",
    "AlertRuleVersion",
    "ApiToken",
    "AttendanceImport",
    "AttendanceSummary",
    "AttendanceYear",
    "AuditEvent",
    "BpmnFile",
    "CalendarRecord",
    "DeletionReturn",
    "Document",
    "Enrolment",
    "Episode",
    "EpisodeDocument",
    "EpisodeInstance",
    "EpisodeNote",
    "EpisodeTemplate",
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
    "TaskDraft",
    "Team",
    "TeamMembership",
    "Timer",
    "UserAccount",
    "WorkItem",
    "WorkflowEvent",
]
