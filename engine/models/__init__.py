"""ORM tables, one module per area. Importing this package registers every table on ``Base.metadata``."""

from .calendar import CalendarRecord
from .documents import Document
from .forms import FormVersion
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
    "BpmnFile",
    "CalendarRecord",
    "Document",
    "FormVersion",
    "HumanTask",
    "HumanTaskTeam",
    "MessageRecord",
    "MessageWait",
    "ProcessInstance",
    "ProcessVersion",
    "Timer",
    "WorkflowEvent",
]
