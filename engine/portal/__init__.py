"""The school portal's actions, without a database: which form each action shows, what it fills in
from the school's roll (and keeps read-only), and what a school may not change.

The use cases are in :mod:`engine.services.portal` (cases a school starts),
:mod:`engine.services.school_roll` (the school's own pupils) and :mod:`engine.services.school_returns`
(deletion returns and attendance files).
"""
