"""The period's summary as a province publishes it: `build` (the stored figures it shows),
`sentences` (the reports' own phrasing), `render` (Markdown, HTML with inline SVG, xlsx)."""

from warehouse.summary.build import (
    SIDE_BY_SIDE,
    TREND_INDICATORS,
    Summary,
    SummaryError,
    build_summary,
)
from warehouse.summary.render import (
    TABLE_HEADERS,
    Cell,
    charts,
    group_tables,
    render_html,
    render_markdown,
    write_xlsx,
)
from warehouse.summary.sentences import (
    SENTENCES,
    attainment_clause,
    change_clause,
    completeness_sentences,
    last_year_note,
    pct,
    vn,
)

__all__ = [
    "SENTENCES",
    "SIDE_BY_SIDE",
    "TABLE_HEADERS",
    "TREND_INDICATORS",
    "Cell",
    "Summary",
    "SummaryError",
    "attainment_clause",
    "build_summary",
    "change_clause",
    "charts",
    "completeness_sentences",
    "group_tables",
    "last_year_note",
    "pct",
    "render_html",
    "render_markdown",
    "vn",
    "write_xlsx",
]
