"""Reports as tables (RULES §5): builders turn report data into a ReportTable; renderers turn a ReportTable
into xlsx or PDF, and the HTML pages show it through the same Jinja macro as the PDF."""
from __future__ import annotations

from coop.reports.builders import REPORTS, ReportSpec
from coop.reports.params import ReportQuery, load_args, resolve
from coop.reports.table import Column, ReportTable, Row

__all__ = ["REPORTS", "ReportSpec", "ReportQuery", "load_args", "resolve", "Column", "ReportTable", "Row"]
