"""The period's report as a province publishes it: `model` (the Summary: every stored figure
it shows), `build` (gathers them from the consolidated tables),
`sentences` (the reports' own phrasing), `tables` (only indicators, last year's column, changes
coloured by meaning), `document` (the parts in the seeds' order, notes, placeholders),
`render` (Markdown, HTML with inline SVG, xlsx), `word` (the Decree 30 Word document) and
`profile` (who issues it: heading, number, place, recipients, signer)."""

from warehouse.summary.build import (
    SIDE_BY_SIDE,
    TREND_INDICATORS,
    build_summary,
    unit_types,
)
from warehouse.summary.document import Paragraph, Part, Report, build_report
from warehouse.summary.model import Summary, SummaryError
from warehouse.summary.profile import (
    Profile,
    ProfileError,
    defaults,
    find_profile,
    load_profile,
    profiles_dir,
)
from warehouse.summary.render import charts, render_html, render_markdown, write_xlsx
from warehouse.summary.sentences import (
    SENTENCES,
    attainment_clause,
    change_clause,
    completeness_sentences,
    last_year_note,
    pct,
    vn,
)
from warehouse.summary.tables import Cell, group_tables, headers
from warehouse.summary.word import date_line, docx_bytes, write_docx

__all__ = [
    "SENTENCES",
    "SIDE_BY_SIDE",
    "TREND_INDICATORS",
    "Cell",
    "Paragraph",
    "Part",
    "Profile",
    "ProfileError",
    "Report",
    "Summary",
    "SummaryError",
    "attainment_clause",
    "build_report",
    "build_summary",
    "change_clause",
    "charts",
    "completeness_sentences",
    "date_line",
    "defaults",
    "docx_bytes",
    "find_profile",
    "group_tables",
    "headers",
    "last_year_note",
    "load_profile",
    "pct",
    "profiles_dir",
    "render_html",
    "render_markdown",
    "unit_types",
    "vn",
    "write_docx",
    "write_xlsx",
]
