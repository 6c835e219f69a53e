"""The detention-deadline engine (羁押期限): pure Python, no models, no database.

calendar.py holds the counting rules, pack.py the rule pack (numbers, approvals, articles),
engine.py folds a person's legal facts into clocks and checks new facts against them.
"""

from jianguan.custody.deadlines.engine import (
    FACT_KINDS,
    PENALTIES,
    PROCEDURES,
    Clock,
    DeadlineRefused,
    LegalFact,
    Person,
    Step,
    check,
    compute,
    stage_after,
)
from jianguan.custody.deadlines.pack import (
    APPROVAL_LEVELS,
    BUILTIN_PATH,
    DeadlinePack,
    PackError,
    builtin_pack,
    load_pack,
    parse_pack,
)

__all__ = [
    "APPROVAL_LEVELS",
    "BUILTIN_PATH",
    "FACT_KINDS",
    "PENALTIES",
    "PROCEDURES",
    "Clock",
    "DeadlinePack",
    "DeadlineRefused",
    "LegalFact",
    "PackError",
    "Person",
    "Step",
    "builtin_pack",
    "check",
    "compute",
    "load_pack",
    "parse_pack",
    "stage_after",
]
