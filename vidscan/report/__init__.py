"""Self-contained HTML reports of timelines, and an index page linking several of them."""

from vidscan.report.index import IndexEntry, render_index_page, write_index_page
from vidscan.report.page import render_report, write_report

__all__ = ["IndexEntry", "render_index_page", "render_report", "write_index_page", "write_report"]
