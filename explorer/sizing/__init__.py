"""What fits a budget: the widest ShuffleNet within multiply-adds, parameters or milliseconds, and the decision.

``budget`` finds the widest width of each g within a multiply-add or parameter budget
(closed form), ``decision`` turns that into ranked candidates with the paper's errors and
a recommendation, ``latency_search`` measures its way to what fits N milliseconds on this
machine, narrowing the ``bracket`` of each g; with a calibration kept (``explorer.latency.predictor``),
``predicted_search`` picks each g's width by the prediction and confirms it with one or two
measurements, and ``predicted`` words predicted numbers ("predicted here", with the predictor's error).
"""

from .budget import (
    VARIANT_MARGIN,
    WIDTH_STEP,
    BudgetAnswer,
    budget_table,
    check_budget,
    figure,
    network_key,
    widest_within,
    widths,
)
from .decision import (
    KINDS,
    SORT_RULE,
    Candidate,
    Decision,
    Over,
    best_within,
    candidate,
    decide,
    rank,
    recommend,
    with_predictions,
)
from .latency_search import (
    DEFAULT_BACKEND,
    MAX_BUDGET_MS,
    SEARCH_MIN_TIME,
    SEARCH_SECONDS,
    LatencySearch,
    search_latency_budget,
)
from .predicted_search import predicted_latency_budget
