"""Architecture page: the live Table 1, the paper's beside it, units, diagrams, downloads."""

import pytest
from conftest import assert_clean, diagram_svgs, diagram_texts, download_labels, open_app

from explorer import ShuffleNetConfig
from explorer.counting import counting_cost
from explorer.paper import layout_differences, paper_table1_records

PAGE = "pages/1_Architecture.py"


def frames(at):
    return [d.value for d in at.dataframe]


def row(frame, layer):
    return frame.loc[frame["Layer"] == layer].iloc[0]


@pytest.fixture(scope="module")
def default_page():
    return open_app(PAGE)


def test_default_is_table1_with_the_paper_beside_it(default_page):
    at = default_page
    assert_clean(at)
    computed, paper, units = frames(at)
    assert list(computed.columns) == ["Layer", "Output size", "KSize", "Stride", "Repeat", "Output channels", "Paper"]
    assert list(paper.columns) == ["Layer", "Output size", "KSize", "Stride", "Repeat", "Output channels"]
    assert [row(computed, s)["Output channels"] for s in ("Stage2", "Stage3", "Stage4")] == ["240", "480", "960"]
    assert row(computed, "Conv1")["Output size"] == "112x112" and row(computed, "Stage4")["Output size"] == "7x7"
    assert set(computed["Paper"]) == {"✓"}
    assert [s.value for s in at.success] == ["Every row matches the paper's Table 1."]
    assert len(units) == 16 and list(units["Stride"]) == [2, 1, 1, 1, 2] + [1] * 7 + [2, 1, 1, 1]
    assert units["Multiply-adds"].sum() + 112 * 112 * 24 * 27 == 136_500_672  # units + conv1 = Table 1's 137M


def test_diagrams_and_downloads(default_page):
    at = default_page
    network, stride1, stride2 = diagram_texts(at)
    assert "Stage3: 8 units, g = 3" in network and "240 → 480 ch" in network and "1000 classes" in network
    assert "Fig. 2b" in stride1 and "Add" in stride1 and "Channel shuffle" in stride1
    assert "Fig. 2c" in stride2 and "Concat" in stride2 and "AvgPool" in stride2 and "240 + 240 = 480 ch" in stride2
    assert "groups = 3" in stride1 and "480 → 120 ch" in stride1  # Stage3 by default
    labels = download_labels(at)
    for expected in ("Download the layout (CSV)", "Download the units (CSV)", "Network (DOT)", "Unit (DOT)"):
        assert expected in labels, labels
    assert "Network (SVG)" in labels  # dot is installed here


def test_diagram_downloads_are_made_on_click_not_on_every_run(default_page):
    diagrams = [b.proto for b in default_page.get("download_button") if b.proto.label.endswith(("(DOT)", "(SVG)"))]
    assert len(diagrams) == 6  # the network and the two units, DOT and SVG each
    assert all(proto.HasField("deferred_file_id") and not proto.url for proto in diagrams)


def test_unit_diagram_follows_the_stage_radio(default_page):
    at = default_page
    at.radio(key="arch_stage").set_value(2).run()
    _, stride1, stride2 = diagram_texts(at)
    assert "Stage2, unit 2" in stride1 and "Stage2, unit 1" in stride2
    assert "1×1 Conv (not grouped)" in stride2 and "groups = 1" in stride2  # Stage2's first 1x1 (PAPER.md)
    assert "24 + 216 = 240 ch" in stride2


def test_groups_change_table_and_diagrams():
    at = open_app(PAGE, {"groups": "8"})
    computed, paper, _ = frames(at)
    assert row(computed, "Stage2")["Output channels"] == "384" == row(paper, "Stage2")["Output channels"]
    network, stride1, _ = diagram_texts(at)
    assert "g = 8" in network and "384 ch" in network and "groups = 8" in stride1
    # One colour per group: the strip of a g = 8 GConv uses all eight palette colours.
    from ui.shell.style import PALETTE

    stride1_svg = diagram_svgs(at)[1].lower()  # dot writes colours in lower case
    assert all(color.lower() in stride1_svg for color in PALETTE[:8])  # the palette has 16; g = 8 uses the first 8


def test_non_paper_width_has_no_paper_column():
    at = open_app(PAGE, {"width": "0.5"})
    assert_clean(at)
    tables = frames(at)
    assert len(tables) == 2  # computed layout + units, no paper table
    assert "Paper" not in tables[0].columns
    assert row(tables[0], "Stage2")["Output channels"] == "120"
    assert any("no reported layout" in i.value for i in at.info)


def test_shuffle_off_removes_the_shuffle():
    at = open_app(PAGE, {"shuffle": "off"})
    _, _, units = frames(at)
    assert set(units["Shuffle"]) == {"no"}
    network, stride1, stride2 = diagram_texts(at)
    assert "no shuffle" in network and "Channel shuffle" not in stride1 and "Channel shuffle" not in stride2
    assert set(frames(at)[0]["Paper"]) == {"✓"}  # the layout of Table 1 does not depend on the shuffle


def test_variant_and_input_change_the_layout():
    at = open_app(PAGE, {"variant": "shallow", "input": "720x1280"})
    computed, units = frames(at)
    assert len(units) == 8 and list(units["Stage"]) == [2, 2, 3, 3, 3, 3, 4, 4]
    assert row(computed, "Stage2")["Output size"] == "90x160" and row(computed, "Image")["Output size"] == "720x1280"
    assert "Stage3: 4 units" in diagram_texts(at)[0]
    assert any("widened by a factor" in c.value for c in at.caption)


def test_differences_are_detected():
    paper = paper_table1_records(3)
    computed = [dict(r) for r in paper]
    computed[3]["Output channels"] = 241
    marks = layout_differences(computed, paper)
    assert marks[3]["Output channels"] and sum(v for r in marks for v in r.values()) == 1
    assert all(marks[-1].values()) is False
    assert all(layout_differences(computed[:-1], paper)[-1].values())  # a missing row differs everywhere


def test_onnx_export_button():
    at = open_app(PAGE, {"width": "0.25"})
    assert not any(".onnx" in label for label in download_labels(at))  # nothing exported until asked
    at.button(key="onnx_export").click().run()
    assert_clean(at)
    onnx_labels = [label for label in download_labels(at) if label.endswith("MB)")]
    assert len(onnx_labels) == 1 and "shufflenet_g3_0.25x_standard_224x224.onnx" in onnx_labels[0]


def test_large_input_asks_before_building_and_says_the_estimate():
    at = open_app(PAGE, {"input": "2048x2048"})
    assert_clean(at)
    [warning] = [w.value for w in at.warning if "estimated" in w.value]
    expected = counting_cost(ShuffleNetConfig(input_size=(2048, 2048)))
    assert f"{expected.memory_bytes / 2**20:,.0f} MB" in warning and "limits: 2,048 MB, 60.0 s" in warning
    assert not at.dataframe and not at.get("image")  # nothing built yet
    assert at.button(key="confirm_large_input").proto.label == "Build and count it anyway"


def test_input_over_the_memory_limit_is_refused_with_estimate_and_limit():
    at = open_app(PAGE, {"input": "4096x4096"})
    assert not at.exception
    [error] = [e.value for e in at.error]
    assert "is refused" in error and "> 2,048 MB" in error and "EXPLORER_MAX_MEMORY_MB" in error
    assert not at.dataframe and not at.button  # nothing built, nothing to confirm
    assert at.sidebar.selectbox  # the controls stay usable


def test_limits_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("EXPLORER_MAX_MEMORY_MB", "100")
    at = open_app(PAGE, {"input": "480x640"})
    [error] = [e.value for e in at.error]
    assert "> 100 MB" in error
    monkeypatch.setenv("EXPLORER_MAX_MEMORY_MB", "lots")
    at = open_app(PAGE)
    [error] = [e.value for e in at.error]
    assert "EXPLORER\\_MAX\\_MEMORY\\_MB" in error and "lots" in error and "positive number" in error
