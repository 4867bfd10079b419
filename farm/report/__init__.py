"""Self-contained HTML reports and table exports of farm runs."""

from farm.report._build import build_report, render_report
from farm.report._export import EXPORT_FORMATS, export_run

__all__ = ["EXPORT_FORMATS", "build_report", "export_run", "render_report"]
