"""synthguard: privacy attack and audit suite for synthetic tabular data."""

__version__ = "0.1.0"

from synthguard.api import audit, demo, write_outputs
from synthguard.audit.policy import evaluate, load_policy
from synthguard.audit.results import AuditResult, CheckResult, Estimate
from synthguard.audit.tables import ReadOptions, from_frames, load
from synthguard.errors import InputError

__all__ = [
    "AuditResult",
    "CheckResult",
    "Estimate",
    "InputError",
    "ReadOptions",
    "__version__",
    "audit",
    "demo",
    "evaluate",
    "from_frames",
    "load",
    "load_policy",
    "write_outputs",
]
