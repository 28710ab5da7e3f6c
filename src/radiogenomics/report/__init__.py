"""The HTML report of a run folder."""

from radiogenomics.report.builder import build_report, methods_text

__all__ = ["build_report", "methods_text"]
