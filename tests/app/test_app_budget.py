"""The Complexity page's budget decision (AppTest): the ranked table, its "open" links, the chart, latency budgets."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from conftest import ENTRY, assert_clean, open_app, plotly_specs

from explorer.paper import reported_points
from ui.sizing.decision import ERROR_COLUMN, LATENCY_COLUMN

PAGE = "pages/2_Complexity.py"


def decision_table(at):
    return next(d.value for d in at.dataframe if "Open" in d.value.columns)


def tradeoff_chart(at) -> dict:
    return next(s for s in plotly_specs(at) if s["layout"]["title"]["text"].startswith("Error vs complexity"))


@pytest.fixture(scope="module")
def page40():
    at = open_app(PAGE)
    at.number_input(key="complexity_budget").set_value(40.0).run()
    assert_clean(at)
    return at


def test_the_decision_table_ranks_the_papers_answer_first(page40):
    frame = decision_table(page40)
    first = frame.iloc[0]
    assert first["Model"] == "ShuffleNet 0.5x arch2 (g=8)" and first[ERROR_COLUMN] == 42.7
    assert (
        first["Reported in"] == "Table 2, 3, 5, 6"
        and first["Why listed"] == "widest within the budget (reported in the paper)"
    )
    assert (frame["Multiply-adds (M)"] <= 40).all() and frame["#"].tolist() == list(range(1, len(frame) + 1))
    widest = frame[frame["Why listed"] == "widest within the budget"]
    assert len(widest) >= 10 and widest[ERROR_COLUMN].isna().all() and (widest["Reported in"] == "").all()
    also_reported = frame[frame["Why listed"] == "widest within the budget (reported in the paper)"]
    assert also_reported[ERROR_COLUMN].notna().all()  # e.g. g = 2: its widest width within 40 M is the paper's 0.5x
    assert (frame["Why listed"] == "reported in the paper").any()  # a narrower paper model (e.g. g = 1's 0.25x)
    assert frame[LATENCY_COLUMN].isna().all()  # nothing measured in this test's store
    verdicts = [i.value for i in page40.info if i.value.startswith("Within 40 M multiply-adds")]
    assert verdicts == [verdicts[0]] and "the paper's best is ShuffleNet 0.5x arch2 (g=8) at 42.7 %" in verdicts[0]
    assert any(c.value.startswith("Sorted: Models the paper reports come first") for c in page40.caption)


def test_an_open_link_loads_that_model_into_the_sidebar(page40):
    link = decision_table(page40).iloc[0]["Open"]
    assert link == "./?groups=8&width=0.5&variant=arch2&shuffle=on&input=224x224"
    at = open_app(ENTRY, dict(parse_qsl(link.split("?", 1)[1])))  # what the browser opens: the app with the link
    assert_clean(at)
    assert not at.warning
    assert any("Current model: **ShuffleNet 0.5x arch2 (g=8)**" in c.value for c in at.sidebar.caption)
    assert at.sidebar.selectbox(key="ctl_variant").value == "arch2"


def test_the_chart_names_every_reported_model_with_budget_front_and_sidebar_model(page40):
    spec = tradeoff_chart(page40)
    named = {text for trace in spec["data"] for text in trace.get("text") or ()}
    assert {p.model for p in reported_points()} <= named
    traces = {t["name"]: t for t in spec["data"]}
    assert traces["Budget: 40 M multiply-adds"]["x"] == [40, 40]
    front = traces["Pareto front (reported)"]
    assert front["x"] == sorted(front["x"]) and "ShuffleNet 0.5x (arch2) (g = 8)" in front["text"]
    assert traces["Sidebar model"]["text"] == ["ShuffleNet 1x (g = 3)"]
    assert spec["layout"]["xaxis"]["type"] == "log"
    assert traces["ShuffleNet g = 8"]["customdata"][0][0].startswith("Table")  # hover names the source table
    no_shuffle = traces["ShuffleNet without shuffle (Table 3)"]
    assert len(no_shuffle["x"]) == 6 and "same architecture with shuffle" in no_shuffle["customdata"][0][1]


def test_a_parameter_budget_and_one_below_the_minimum():
    at = open_app(PAGE)
    at.radio(key="complexity_budget_kind").set_value("params").run()
    at.number_input(key="complexity_budget_params").set_value(1.0).run()
    assert_clean(at)
    frame = decision_table(at)
    assert (frame["Params (M)"] <= 1.0).all() and any(i.value.startswith("Within 1 M parameters") for i in at.info)
    assert "Budget: " not in {t["name"][:8] for t in tradeoff_chart(at)["data"]}  # the line is for multiply-adds
    at.radio(key="complexity_budget_kind").set_value("mflops").run()
    at.number_input(key="complexity_budget").set_value(1.0).run()
    assert_clean(at)
    assert any("do not fit at any width" in w.value for w in at.warning)
    over = next(d.value for d in at.dataframe if "Groups g" in d.value.columns)
    assert len(over) == 15 and (over.iloc[:, 2] > 1.0).all()


def wait_for_job(at, timeout_s: float = 300) -> None:
    """Rerun the page until the latency-budget job has ended (AppTest does not run fragments on a timer)."""
    from ui.latency.jobs import job_registry

    job = job_registry().get(at.session_state["complexity_budget_job"])
    job.thread.join(timeout_s)
    if job.active:
        raise TimeoutError("the latency-budget job did not end")
    at.run()


@pytest.mark.slow
def test_a_latency_budget_is_searched_in_a_background_job_and_can_be_cancelled():
    # Nothing fits 0.1 ms at 224x224 (the narrowest ShuffleNet runs in about twice that here; at 64x64 it
    # runs in about 0.1 ms, so whether it fitted depended on the machine): one or two probes per g.
    at = open_app(PAGE, {"input": "224x224"})
    at.radio(key="complexity_budget_kind").set_value("ms").run()
    at.number_input(key="complexity_budget_ms").set_value(0.1).run()
    at.button(key="complexity_budget_search").click().run()
    assert_clean(at)
    wait_for_job(at)
    assert_clean(at)
    assert any(i.value.startswith("Nothing fits within 0.1 ms (ONNX Runtime FP32") for i in at.info)
    over = next(d.value for d in at.dataframe if "Groups g" in d.value.columns)
    assert list(over["Groups g"]) == [1, 2, 3, 4, 8] and (over.iloc[:, 2] > 0.1).all()
    assert any("new measurement(s)" in c.value and "from the result store" in c.value for c in at.caption)
    at.number_input(key="complexity_budget_ms").set_value(4.0).run()
    at.button(key="complexity_budget_search").click().run()
    assert [b.label for b in at.button if b.key == "complexity_budget_cancel"] == ["Cancel"]
    at.button(key="complexity_budget_cancel").click().run()
    wait_for_job(at)
    assert any("cancelled" in i.value for i in at.info)
