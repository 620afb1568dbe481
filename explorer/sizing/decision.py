"""A budget answer that is a decision: the candidates that fit, their costs, the paper's errors, a recommendation.

For a budget in multiply-adds (paper convention) or parameters (closed form, instant),
and for each g and variant asked for, two kinds of candidate:

* **widest**: the widest width (0.01 grid) of that g and variant whose figure fits
  (``budget.widest_within``);
* **paper**: the widest model *the paper reports an error for* (Tables 2 and 5: every
  ShuffleNet row with shuffle) of that g and variant that fits by the count made here.
  Only such an exact model carries an error, marked "reported in the paper" with its
  tables; nothing is interpolated or guessed. (The paper's errors fall with width in
  every row of Table 2, so a narrower paper model of the same g and variant is never
  the better choice.)

Each candidate carries multiply-adds, parameters, activations and peak activation
memory (computed here, closed form), its latency where a measurement exists
(``latency(config)``, e.g. a result store lookup), and the query string that opens it
in the app. ``SORT_RULE`` orders them and ``recommend`` says it in one sentence; ``best_within``
is the paper's own answer among its reported points. (Latency budgets are searched by
``explorer.sizing.latency_search``, which builds its candidates with ``candidate`` and
orders them with ``rank``.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from ..checks import check_choice
from ..counting.estimate import footprint
from ..counting.peak import peak_activation_bytes
from ..latency.predictor import Prediction, Predictor
from ..paper import ReportedPoint, point_for, reported_points
from ..shufflenet import PAPER_GROUPS, REFERENCE_INPUT, VARIANTS, ShuffleNetConfig, query_string
from .budget import check_budget, figure, network_key, widest_within
from .predicted import note_text

KINDS = {
    "mflops": ("million multiply-adds (paper convention)", "conv_macs", 1e6),
    "params": ("million parameters", "params", 1e6),
    "ms": ("milliseconds on this machine", None, 1.0),
}
SORT_RULE = (
    "Models the paper reports come first, lowest reported error first (reported in the paper); then the "
    "others, most multiply-adds first (the widest within the budget); ties: fewer parameters first."
)
Latency = Callable[[ShuffleNetConfig], "float | None"]
Predict = Callable[[ShuffleNetConfig], "Prediction | None"]  # e.g. ``Predictor.predict``


@dataclass(frozen=True)
class Candidate:
    """One model that fits the budget, with everything needed to choose it."""

    config: ShuffleNetConfig
    # "widest": the widest within the budget for its g and variant (the paper may report it too);
    # "paper": a narrower model the paper reports
    origin: str
    conv_macs: int
    params: int
    activations: int
    peak_activation_bytes: int
    reported: ReportedPoint | None  # the paper's error for this exact model, or None
    latency_ms: float | None = None  # measured here (the backend and threads are the decision's)
    predicted_ms: float | None = None  # predicted here (``Decision.predicted_note`` says by what, and how sure)
    extrapolated: bool = False  # the prediction lies outside the shapes its calibration sampled

    @property
    def url(self) -> str:
        return query_string(self.config)

    @property
    def reported_dict(self) -> dict | None:
        if self.reported is None:
            return None
        return {"table": self.reported.source, "error": self.reported.error, "model": self.reported.model}


@dataclass(frozen=True)
class Over:
    """A g and variant that does not fit at all: even its narrowest width (0.1x) needs ``smallest``."""

    groups: int
    variant: str
    smallest: float  # the smallest budget that fits, in the decision's unit (millions, or ms)


@dataclass(frozen=True)
class Decision:
    kind: str  # a key of KINDS
    budget: float  # in the kind's unit (millions, or ms)
    candidates: tuple[Candidate, ...]  # sorted by SORT_RULE
    over: tuple[Over, ...]  # (g, variant) pairs whose narrowest width is already over the budget
    input_size: tuple[int, int]
    note: str = ""  # e.g. for latency: the backend and threads the answer holds for
    predicted_note: str = ""  # what predicted the candidates' ``predicted_ms`` and how sure ("": nothing did)

    @property
    def paper_best(self) -> Candidate | None:
        return next((c for c in self.candidates if c.reported is not None), None)

    @property
    def widest(self) -> Candidate | None:
        return max(self.candidates, key=lambda c: (c.conv_macs, -c.params), default=None)

    @property
    def rule(self) -> str:
        return SORT_RULE

    @property
    def recommendation(self) -> str:
        return recommend(self)


def candidate(
    config: ShuffleNetConfig, origin: str, latency: Latency | None = None, predict: Predict | None = None
) -> Candidate:
    """A candidate's figures, all computed here in closed form (its measured latency and its prediction, if any)."""
    shape = footprint(config)
    prediction = None if predict is None else predict(config)
    return Candidate(
        config,
        origin,
        figure(config, "conv_macs"),
        shape.params,
        shape.activations,
        peak_activation_bytes(config),
        point_for(config),
        None if latency is None else latency(config),
        None if prediction is None else prediction.predicted_ms,
        prediction is not None and prediction.extrapolated,
    )


def with_predictions(decision: Decision, predictor: Predictor) -> Decision:
    """``decision`` with every candidate's latency predicted by ``predictor`` (``Candidate.predicted_ms``)."""
    candidates = []
    for c in decision.candidates:
        prediction = predictor.predict(c.config)
        candidates.append(replace(c, predicted_ms=prediction.predicted_ms, extrapolated=prediction.extrapolated))
    return replace(decision, candidates=tuple(candidates), predicted_note=note_text(predictor))


def _order(c: Candidate) -> tuple:
    return (
        c.reported is None,
        c.reported.error if c.reported else 0.0,
        -c.conv_macs,
        c.params,
        c.config.groups,
        VARIANTS.index(c.config.variant),
        -c.config.width,
    )


def rank(candidates: Sequence[Candidate]) -> tuple[Candidate, ...]:
    """``SORT_RULE``. One network is listed once (``network_key``: its channels and units): a widest width that
    builds a model the paper reports (0.52x arch2 g = 8 builds exactly 0.5x arch2 g = 8) is shown as the paper's
    model, still marked as its g's widest, as it is when the widest width is the paper's own."""
    unique: dict[tuple, Candidate] = {}
    for c in sorted(candidates, key=_order):
        key = network_key(c.config)
        kept = unique.setdefault(key, c)
        if c.origin == "widest" and kept.origin != "widest":
            unique[key] = replace(kept, origin="widest")
    return tuple(unique.values())


def paper_models(groups: Sequence[int], variants: Sequence[str]) -> list[ShuffleNetConfig]:
    """Every ShuffleNet (shuffle on) the paper reports an error for, of these g and variants, widest first."""
    configs = [p.config for p in reported_points() if isinstance(p.config, ShuffleNetConfig) and p.config.shuffle]
    chosen = [c for c in configs if c.groups in groups and c.variant in variants]
    return sorted(chosen, key=lambda c: -c.width)


def best_paper_models(
    fits: Callable[[ShuffleNetConfig], bool],
    groups: Sequence[int],
    variants: Sequence[str],
    input_size: tuple[int, int],
) -> list[ShuffleNetConfig]:
    """For each g and variant, the widest paper model (at ``input_size``) for which ``fits`` holds."""
    found: dict[tuple[int, str], ShuffleNetConfig] = {}
    for config in paper_models(groups, variants):
        key = (config.groups, config.variant)
        if key not in found:
            sized = replace(config, input_size=input_size)
            if fits(sized):
                found[key] = sized
    return list(found.values())


def decide(
    kind: str,
    budget: float,
    groups: Sequence[int] = PAPER_GROUPS,
    variants: Sequence[str] = VARIANTS,
    input_size: tuple[int, int] = REFERENCE_INPUT,
    latency: Latency | None = None,
    predictor: Predictor | None = None,
) -> Decision:
    """The decision for a budget in million multiply-adds (``kind="mflops"``) or million parameters (``"params"``).

    ``latency`` looks up a measured latency (e.g. the result store); ``predictor`` predicts every candidate's."""
    check_choice(
        "kind", kind, ("mflops", "params"), "mflops or params (latency budgets: explorer.sizing.latency_search)"
    )
    metric, scale = KINDS[kind][1], KINDS[kind][2]
    limit = check_budget(budget, metric) * scale
    for variant in variants:
        check_choice("variant", variant, VARIANTS)
    answers = [widest_within(limit, g, v, input_size, metric) for v in variants for g in groups]
    predict = None if predictor is None else predictor.predict
    found = [candidate(a.config, "widest", latency, predict) for a in answers if a.config is not None]
    papers = best_paper_models(lambda c: figure(c, metric) <= limit, groups, variants, input_size)
    found += [candidate(c, "paper", latency, predict) for c in papers]
    over = tuple(Over(a.groups, a.variant, a.smallest / scale) for a in answers if a.config is None)
    note = "" if predictor is None else note_text(predictor)
    return Decision(kind, float(budget), rank(found), over, tuple(input_size), predicted_note=note)


def smallest_budget_text(over: Over, kind: str) -> str:
    """``g = 3 standard: 5.86 M multiply-adds``: the smallest budget that fits this g and variant (its 0.1x)."""
    unit = {"mflops": "M multiply-adds", "params": "M parameters", "ms": "ms (measured here)"}[kind]
    return f"g = {over.groups} {over.variant}: {over.smallest:.2f} {unit}"


def _budget_text(decision: Decision) -> str:
    if decision.kind == "mflops":
        return f"{decision.budget:g} M multiply-adds"
    if decision.kind == "params":
        return f"{decision.budget:g} M parameters"
    return f"{decision.budget:g} ms{f' ({decision.note})' if decision.note else ''}"


def recommend(decision: Decision) -> str:
    """One sentence: the paper's best within the budget and the widest model found here."""
    budget = _budget_text(decision)
    if not decision.candidates:
        return (
            f"Nothing fits within {budget}: even the narrowest width (0.1x) of every g and variant asked for is over."
        )
    best, widest = decision.paper_best, decision.widest
    if best is None:
        paper = "no model the paper reports an error for fits"
    else:
        paper = (
            f"the paper's best is {best.config.label} at {best.reported.error:.1f} % top-1 error (reported in "
            f"the paper, {best.reported.source}; {best.conv_macs / 1e6:.1f} M multiply-adds computed here)"
        )
    return (
        f"Within {budget} {paper}; the widest here is {widest.config.label} at {widest.conv_macs / 1e6:.1f} M "
        f"multiply-adds and {widest.params / 1e6:.2f} M parameters (computed here)."
    )


def best_within(mflops: float, points: tuple[ReportedPoint, ...] | None = None) -> ReportedPoint | None:
    """The lowest reported error among models the paper reports at or under ``mflops`` (None: nothing is)."""
    fitting = [p for p in (reported_points() if points is None else points) if p.mflops <= mflops]
    return min(fitting, key=lambda p: (p.error, p.mflops), default=None)
