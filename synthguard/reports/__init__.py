"""Writers: every output starts from ``AuditResult.to_dict()``."""

from synthguard.reports.html import render_html
from synthguard.reports.json import dumps_json

__all__ = ["dumps_json", "render_html"]
