"""Compare page: several models side by side, computed columns apart from the paper's."""

import json

from conftest import assert_clean, open_app

from explorer import MobileNetConfig
from ui.shell.style import groups_color

PAGE = "pages/5_Compare.py"


def table(at):
    """The side-by-side table back in one-row-per-model form (cells are display strings)."""
    shown = next(d.value for d in at.dataframe if "Figure" in d.value.columns)
    assert set(shown.loc[shown["Figure"].str.startswith("Reported"), "Source"]) == {"reported in the paper"}
    assert set(shown.loc[shown["Figure"] == "Params (M)", "Source"]) == {"computed here"}
    wide = shown.drop(columns="Source").set_index("Figure").T
    wide.index.name = "Model"
    return wide.reset_index()


def spec(at, key_title: str) -> dict:
    for chart in at.get("plotly_chart"):
        figure = json.loads(chart.proto.spec)
        if figure["layout"]["title"]["text"] == key_title:
            return figure
    raise AssertionError(key_title)


def test_default_pairs_the_current_model_with_mobilenet():
    at = open_app(PAGE)
    assert_clean(at)
    frame = table(at)
    assert list(frame["Model"]) == ["ShuffleNet 1x (g=3) (sidebar)", "0.5 MobileNet v1"]
    shuffle, mobile = frame.iloc[0], frame.iloc[1]
    assert shuffle["Stage2 / 3 / 4 ch"] == "240 / 480 / 960" and mobile["Stage2 / 3 / 4 ch"] == "—"
    assert shuffle["Multiply-adds (M, paper convention)"] == "136.50"
    assert shuffle["Reported: MFLOPs"] == "137" and mobile["Reported: MFLOPs"] == "149"
    assert mobile["Reported: top-1 error (%)"] == "36.3"
    bars = spec(at, "Multiply-adds, computed here")["data"][0]
    assert bars["marker"]["color"][0] == groups_color(3)
    assert bars["orientation"] == "h" and bars["y"] == ["ShuffleNet 1x (g=3) (sidebar)", "0.5 MobileNet v1"]
    assert spec(at, "Parameters, computed here")["layout"]["xaxis"]["title"]["text"] == "Parameters (millions)"


def add_custom(at, groups: int, width: float, variant: str = "standard") -> None:
    at.number_input(key="compare_custom_g").set_value(groups)
    at.number_input(key="compare_custom_w").set_value(width)
    at.selectbox(key="compare_custom_v").set_value(variant)
    at.button(key="compare_custom_add").click().run()


def test_models_can_be_added_and_follow_the_sidebar():
    at = open_app(PAGE, {"groups": "8", "width": "0.5", "variant": "arch2"})
    at.multiselect(key="compare_models").select("AlexNet").select("0.25 MobileNet v1").run()
    add_custom(at, 8, 0.5)
    assert_clean(at)
    frame = table(at)
    assert list(frame["Model"]) == [
        "ShuffleNet 0.5x arch2 (g=8) (sidebar)",
        "0.5 MobileNet v1",
        "AlexNet",
        "0.25 MobileNet v1",
        "ShuffleNet 0.5x (g=8) (custom)",
    ]
    alexnet = frame.set_index("Model").loc["AlexNet"]
    assert alexnet["Reported: MFLOPs"] == "720" and 720 < float(alexnet["Multiply-adds (M, paper convention)"]) < 730
    assert frame.iloc[0]["Reported: top-1 error (%)"] == "42.7"  # Table 2 / 5: 0.5x arch2 g = 8
    assert frame.iloc[0]["Units"] == "4 + 6 + 4"
    bars = spec(at, "Multiply-adds, computed here")["data"][0]
    assert bars["orientation"] == "h" and bars["y"] == list(frame["Model"])  # names on the axis, not rotated away
    channels = spec(at, "Output channels, computed here")
    assert [t["name"] for t in channels["data"]] == [
        "ShuffleNet 0.5x arch2 (g=8) (sidebar)",
        "ShuffleNet 0.5x (g=8) (custom)",
    ]
    assert channels["data"][1]["y"] == [16, 192, 384, 768]  # Megvii's 0.5x g = 8 (PAPER.md)


def test_custom_shufflenets_take_any_g_and_width_the_sidebar_allows():
    at = open_app(PAGE)
    add_custom(at, 7, 0.37, "shallow")
    add_custom(at, 64, 3.95)
    assert_clean(at)
    models = list(table(at)["Model"])
    assert models[-2:] == ["ShuffleNet 0.37x shallow (g=7) (custom)", "ShuffleNet 3.95x (g=64) (custom)"]
    assert table(at).iloc[-1]["Stage2 / 3 / 4 ch"].split(" / ")[0] != "—"
    assert (
        MobileNetConfig(1.0).label == "1.0 MobileNet v1"
        and "1.0 MobileNet v1" in at.multiselect(key="compare_models").options
    )


def test_the_error_vs_complexity_chart_stars_the_compared_models_the_paper_reports():
    at = open_app(PAGE)
    at.multiselect(key="compare_models").select("AlexNet").run()
    chart = spec(at, "Error vs complexity, reported in the paper")
    names = {t["name"]: t for t in chart["data"]}
    assert names["0.5 MobileNet v1"]["text"] == ["0.5 MobileNet-224"] and names["AlexNet"]["x"] == [720]
    assert names["ShuffleNet 1x (g=3) (sidebar)"]["y"] == [34.1]


def test_input_size_applies_to_every_model():
    at = open_app(PAGE, {"input": "480x640"})
    frame = table(at)
    # Multiply-adds grow with the pixel count: about (480*640)/(224*224) = 6.1 times.
    ratio = float(frame.iloc[1]["Multiply-adds (M, paper convention)"]) / 149
    assert 5.5 < ratio < 6.5
    assert frame.iloc[0]["Reported: MFLOPs"] == "137"  # the paper's own number, at 224 x 224, unchanged


def test_input_below_alexnets_minimum_leaves_it_out_with_a_warning():
    at = open_app(PAGE, {"input": "222x300"})
    at.multiselect(key="compare_models").select("AlexNet").run()
    assert_clean(at)
    assert any("AlexNet needs an input of at least 223 × 223" in w.value for w in at.warning)
    assert "AlexNet" not in list(table(at)["Model"])


def test_latency_row_is_the_latency_pages_and_never_a_claim():
    at = open_app(PAGE)
    shown = next(d.value for d in at.dataframe if "Figure" in d.value.columns)
    try:
        from ui.latency.tables import compare_latency_column  # noqa: F401
    except ImportError:
        assert "Latency" not in list(shown["Figure"])  # no latency page yet: no column at all
        return
    latency = shown.loc[shown["Figure"] == "Latency"]
    assert list(latency["Source"]) == ["measured here"]
    cells = latency.drop(columns=["Figure", "Source"]).iloc[0].tolist()
    assert len(cells) == 2 and all(c.endswith("ms") or "not measured" in c or "measured here" in c for c in cells)


def test_the_compared_models_are_measured_from_the_page():
    """The Latency page's job machinery: one background job, results in the shared store, shown in the table."""
    from ui.latency.jobs import job_registry

    at = open_app(PAGE, {"input": "64x64", "groups": "2", "width": "0.25"})
    at.select_slider(key="compare_min_time").set_value(0.02).run()
    at.button(key="compare_measure").click().run()
    assert_clean(at)
    job = job_registry().get(at.session_state["compare_job"])
    assert job.name == "Compare" and [c.label for c, _ in job.items] == ["ShuffleNet 0.25x (g=2)", "0.5 MobileNet v1"]
    job.thread.join(timeout=300)
    at.run()
    assert_clean(at)
    shown = next(d.value for d in at.dataframe if "Figure" in d.value.columns)
    cells = shown.loc[shown["Figure"] == "Latency"].drop(columns=["Figure", "Source"]).iloc[0].tolist()
    assert all("ms (ONNX Runtime FP32" in c and "measured here" in c for c in cells), cells
