"""Every component id of the page, and the roles of the map's traces: one name per thing.

The layout, the callbacks, the tests and the benchmarks all use these
constants, so an id is spelled in one place and a typo is a NameError, not a
callback that silently never fires. Values are kebab-case strings (what the
browser sees; the CSS and the tests' selectors use them too).
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["MapTrace", "bulk_button", "goto_point"]

# -- per-user state, kept in the browser (dcc.Store) and sent with every request --------------------------
CLUSTER_PARAMS = "cluster-params"  #: the clustering parameters this user looks at
SOURCES_LINE = "sources-line"  #: the glitch's machine and volunteer labels and the side its neighbours take
LABEL_SOURCE = "label-source"  #: which labels the cluster tables compare with (the archive: machine or volunteers)
SELECTED_POINT = "selected-point"  #: the point (row of the run's points) shown in the Glitch tab
SELECTED_CLUSTER = "selected-cluster"  #: the cluster outlined on the map and shown in the Clusters tab
REVIEW_TICK = "review-tick"  #: counts this page's stored decisions and undos, so views of decisions refresh
REVIEW_KEY = "review-key"  #: the last review key pressed (assets/review-keys.js sets it)

# -- shareable links (the address bar) ---------------------------------------------------------------------
LINK_READ = "link-read"  #: the address bar, only read: opening a link, Back and Forward
LINK_WRITE = "link-write"  #: the address bar, only written: each new view
LINK_ALERT = "link-alert"  #: what of an opened link could not be used, and why

# -- header --------------------------------------------------------------------------------------------------
RUN_FACTS = "run-facts"
RUN_WARNINGS = "run-warnings"
REVIEWER = "reviewer"  #: the curator's name, kept in the browser's local storage

# -- map panel -----------------------------------------------------------------------------------------------
MAP = "map"
COLOUR_BY = "colour-by"
LABEL_FILTER = "label-filter"
FIND_ID = "find-id"
FIND_BUTTON = "find-button"
FIND_STATUS = "find-status"
MAP_TOOLTIP = "map-tooltip"
MAP_LEGEND = "map-legend"
MAP_FRAME = "map-frame"  #: what the first view leaves out, and how to see it
MAP_VIEW = "map-view"  #: the map's current x and y ranges (None: the whole map), for the density layer

# -- parameters panel ----------------------------------------------------------------------------------------
MCS_SLIDER = "mcs-slider"  #: a log-scale pointer at min_cluster_size; the box below holds the value applied
MCS_INPUT = "mcs-input"
METHOD = "method"
EPSILON = "epsilon"
MIN_SAMPLES = "min-samples"
REBUILD = "rebuild"
RESET_PARAMS = "reset-params"
TREE_PROGRESS = "tree-progress"
TREE_STATUS = "tree-status"
CLUSTER_METRICS = "cluster-metrics"
CURRENT_PARAMS = "current-params"

# -- the tabs ------------------------------------------------------------------------------------------------
TABS = "tabs"
TAB_CLUSTERS = "tab-clusters"
TAB_GLITCH = "tab-detail"
TAB_SELECTION = "tab-selection"
TAB_FAILURES = "tab-failures"
TAB_AUDIT = "tab-audit"
TAB_SCROLL = "tab-scroll"  #: written by no one: the output of the clientside callback that scrolls a new tab to its top

# -- clusters panel ------------------------------------------------------------------------------------------
CLUSTER_GRID = "cluster-grid"
#: the current cut's rows with their finding flags, computed after the table (`panels.clusters`)
CLUSTER_FLAGS = "cluster-flags"
CLUSTER_PANEL = "cluster-panel"
CLUSTER_TITLE = "cluster-title"
SEGMENT_TABLE = "segment-table"

# -- glitch panel --------------------------------------------------------------------------------------------
DETAIL_PANEL = "detail-panel"
DETAIL_CONTENT = "detail-content"
NEIGHBOUR_GRID = "neighbour-grid"
GOTO_POINT = "goto-point"  #: the pattern-matching type of every clickable thumbnail (`goto_point`)

# -- deciding (review panel: the Glitch tab's decision bar, the Label audit's export) --------------------------
DECISION_BAR = "decision-bar"
DECIDE_ACCEPT = "decide-accept"
DECIDE_REJECT = "decide-reject"
DECIDE_RELABEL = "decide-relabel"
DECIDE_NEW_CLASS = "decide-new-class"
RELABEL_TO = "relabel-to"
DECISION_NOTE = "decision-note"
#: the gravityspy_id the note and label were typed for: a decision is refused when it is not the glitch shown
DECISION_INPUTS_FOR = "decision-inputs-for"
DECISION_FOR = "decision-for"  #: says which glitch the bar decides on
UNDO_DECISION = "undo-decision"
DECISION_STATUS = "decision-status"
QUEUE_STATUS = "queue-status"
BULK = "bulk"  #: the pattern-matching type of every bulk-decision button (`bulk_button`)
#: what a decision, a batch or an undo just did, and a bulk action's question before it stores anything
REVIEW_NOTICE = "review-notice"
REVIEW_MESSAGE = "review-message"  #: the notice's message (an alert; its text and colour come from NOTICE)
NOTICE = "notice"  #: the last message for the curator: {text, colour, point}; the point it concerns, if one
BULK_PENDING = "bulk-pending"  #: the bulk action waiting for the curator's answer (`panels.review.BulkRequest`)
BULK_PROMPT = "bulk-prompt"
BULK_QUESTION = "bulk-question"
BULK_SKIP_DECIDED = "bulk-skip-decided"  #: decide only the glitches with no decision in force (the default)
BULK_REPLACE = "bulk-replace"  #: decide every glitch, replacing decisions in force
BULK_CANCEL = "bulk-cancel"
EXPORT_DECISIONS_CSV = "export-decisions-csv"
EXPORT_DECISIONS_JSON = "export-decisions-json"
DECISIONS_DOWNLOAD = "decisions-download"

# -- selection panel -----------------------------------------------------------------------------------------
SELECTION_PANEL = "selection-panel"
EXPORT_SELECTION = "export-selection"
SELECTION_DOWNLOAD = "selection-download"

# -- failure-modes panel -------------------------------------------------------------------------------------
FAILURE_PANEL = "failure-panel"
COMPARE_A = "compare-a"
COMPARE_B = "compare-b"
COMPARE_OUT = "compare-out"
FINDINGS = "findings"
FAILURE_SUMMARY = "failure-summary"  #: what was decided, what could not be told, what each kind needs

# -- label-audit panel ---------------------------------------------------------------------------------------
AUDIT_COUNT = "audit-count"
AUDIT_GRID = "audit-grid"
AUDIT_COLUMNS = "audit-columns"  #: which optional columns the label-audit table shows
DOWNLOAD_CORRECTIONS = "download-corrections"
CORRECTIONS_DOWNLOAD = "corrections-download"


def bulk_button(scope: str, action: str) -> dict[str, str]:
    """The id of a button deciding ``action`` for every glitch of a ``scope`` ("cluster" or "selection")."""
    return {"type": BULK, "scope": scope, "action": action}


def goto_point(point: int, place: str) -> dict[str, object]:
    """The id of a clickable thumbnail that opens ``point`` in the Glitch tab (a pattern-matching id). ``place``
    names where on the page it is (a glitch may be shown twice, in a cluster's contact sheet and its intensity
    strip: two components of one id made Dash drop the click)."""
    return {"type": GOTO_POINT, "index": int(point), "place": place}


class MapTrace(IntEnum):
    """The map figure's traces, by position: `explorer.figures.map_figure` builds them in this order."""

    POINTS = 0  #: every glitch, coloured by the colour mode
    CLUSTER = 1  #: outlines of the chosen cluster's members
    GLITCH = 2  #: a ring round the chosen glitch
