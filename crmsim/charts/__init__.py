"""Plotly figure builders: data in, ``go.Figure`` out, every label through ``t()``.

No Streamlit here (DESIGN §2), and no Plotly anywhere else in the core. Builders use
``plotly.graph_objects`` (a figure in ~2 ms, where plotly express takes ~60 ms) and draw at most
``MAX_POINTS`` markers. One module per concern: ``base`` (colours, layout, ``_Drawn``, money on
an axis, events), ``customers`` (a customer base at a glance, a purchase log's holdout check),
``segments`` (pyramid, segment shares, RFM), ``scatter`` (customers as points), ``lifecycle`` (a
run month by month), ``churn`` (one customer and why she left), ``compare`` (plans against each
other, ROI), ``lessons`` (a lesson's experiment) and ``classroom`` (team run, round scores,
allocations, debrief). Every figure is reached from here: ``charts.team_run(...)``.
"""

from crmsim.charts.base import (
    DASHES,
    FONT,
    PALETTE,
    STAGE_COLOURS,
    mark_events,
    plain_label,
    segment_label,
)
from crmsim.charts.base import _Drawn as _Drawn
from crmsim.charts.base import _layout as _layout
from crmsim.charts.base import _layout_dict as _layout_dict
from crmsim.charts.base import _money_scale as _money_scale
from crmsim.charts.base import _template as _template
from crmsim.charts.base import _unchecked as _unchecked
from crmsim.charts.churn import churn_push, churn_reason_words, churn_reasons, customer_timeline
from crmsim.charts.classroom import _round_lines as _round_lines
from crmsim.charts.classroom import allocation_heatmap, debrief_html, round_scores, team_run
from crmsim.charts.compare import overlay_lines, replicate_ranges, roi_bars, same_series
from crmsim.charts.customers import distribution, holdout_check, pareto_curve, stage_mix
from crmsim.charts.lessons import lesson_chart
from crmsim.charts.lifecycle import (
    cohort_heatmap,
    complaints_over_time,
    money_over_time,
    retention_curves,
    satisfaction_heatmap,
    stage_sankey,
)
from crmsim.charts.scatter import MAX_POINTS, SCATTER_CONFIG, scatter_customers, stratified_sample
from crmsim.charts.segments import (
    PYRAMID_METHODS,
    pyramid,
    rfm_heatmap,
    segment_chart,
    segment_shares,
)

__all__ = [
    "DASHES",
    "FONT",
    "MAX_POINTS",
    "PALETTE",
    "PYRAMID_METHODS",
    "SCATTER_CONFIG",
    "STAGE_COLOURS",
    "allocation_heatmap",
    "churn_push",
    "churn_reason_words",
    "churn_reasons",
    "cohort_heatmap",
    "complaints_over_time",
    "customer_timeline",
    "debrief_html",
    "distribution",
    "holdout_check",
    "lesson_chart",
    "mark_events",
    "money_over_time",
    "overlay_lines",
    "pareto_curve",
    "plain_label",
    "pyramid",
    "replicate_ranges",
    "retention_curves",
    "rfm_heatmap",
    "roi_bars",
    "round_scores",
    "same_series",
    "satisfaction_heatmap",
    "scatter_customers",
    "segment_chart",
    "segment_label",
    "segment_shares",
    "stage_mix",
    "stage_sankey",
    "stratified_sample",
    "team_run",
]
