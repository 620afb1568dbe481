"""ShuffleNet Explorer: entry point and overview page.

Run with ``streamlit run streamlit_app.py``. Pages live in ``pages/`` (Streamlit's
classic multipage layout); every page, this one included, calls
``ui.shell.controls.shared_controls()`` to draw the same sidebar and get the model.
"""

import streamlit as st

from explorer import ShuffleNetConfig
from explorer.shufflenet import plan_conv_macs
from ui.figures.diagram_view import show_diagram
from ui.figures.diagrams import shuffle_demo_dot
from ui.shell.controls import shared_controls
from ui.shell.page import existing_pages, page_setup
from ui.shell.presentation import caption
from ui.shell.text import input_size_text

PAGE_DESCRIPTIONS = {
    "pages/0_Lecture.py": "The paper's argument in eight steps, one screen each, for a class: Previous / Next, "
    "the step in the link.",
    "pages/1_Architecture.py": "Table 1 of the current model, next to the paper's, per-unit table and block diagrams.",
    "pages/2_Complexity.py": "Multiply-adds, FLOPs, parameters and activations; complexity across g and width; "
    "what fits a budget.",
    "pages/3_Channel_shuffle.py": "Watch channels move between groups, with and without the shuffle.",
    "pages/4_Latency.py": "Time the model on this machine.",
    "pages/5_Compare.py": "Several models side by side, including MobileNet and AlexNet.",
}


def ideas_section(present: bool) -> None:
    st.title("ShuffleNet Explorer")
    st.markdown(
        "An interactive companion to Zhang et al., *ShuffleNet: An Extremely Efficient Convolutional Neural Network "
        "for Mobile Devices* (arXiv 1707.01083): build any ShuffleNet v1 from the sidebar, see its layout, count its "
        "cost, and compare it with the paper's own tables."
    )
    left, right = st.columns(2, gap="large")
    with left:
        st.subheader("1 · Pointwise group convolution")
        st.markdown(
            "In a ShuffleNet unit most of the cost sits in the 1×1 convolutions. Splitting their channels into "
            "**g groups**, each convolved only with its own inputs, divides their multiply-adds by g. Under a fixed "
            "budget (about 140 MFLOPs at 1×) that buys wider feature maps: Stage2 grows from 144 channels at g = 1 "
            "to 384 at g = 8 (the paper's Table 1)."
        )
    with right:
        st.subheader("2 · Channel shuffle")
        st.markdown(
            "Stacked group convolutions only ever mix channels *inside* a group, so information never crosses "
            "groups. ShuffleNet reshapes the C channels to (g, C/g), transposes and flattens: the next group "
            "convolution then sees channels from every group. It costs no multiply-adds; the paper's Table 3 "
            "shows it lowers the error by up to 4 points."
        )
    show_diagram(
        shuffle_demo_dot(present=present),
        "Channel shuffle: 3 groups of 3 channels, before and after",
        "overview_shuffle",
    )
    caption(
        "Each colour is one channel group (its number is in each cell); the same colours mean the same groups on "
        "every page."
    )


def current_model_section(config: ShuffleNetConfig) -> None:
    st.subheader("The current model")
    plan = config.plan()
    macs = plan_conv_macs(plan, config.input_size)
    cols = st.columns([2, 2, 3, 2])
    cols[0].metric("Model", config.label.replace("ShuffleNet ", ""))
    cols[1].metric("Input (height × width, pixels)", input_size_text(config.input_size))
    cols[2].metric("Stage2 / 3 / 4 output channels", " / ".join(str(c) for c in plan.stage_channels))
    cols[3].metric(
        "Multiply-adds (paper convention)",
        f"{macs / 1e6:.1f} M",
        help="Computed here with the closed-form count (the paper's own arithmetic; the tests check it equals "
        "fvcore's count of the built model): every convolution's multiply-adds, FC excluded.",
    )
    caption("Computed here from the sidebar's settings. The pages below show the details.")


def pages_section() -> None:
    st.subheader("Pages")
    for path, label, icon in existing_pages():
        if path in PAGE_DESCRIPTIONS:
            link, text = st.columns([1, 3])
            link.page_link(path, label=label, icon=icon)
            text.markdown(PAGE_DESCRIPTIONS[path])
    caption(
        "Numbers labelled *computed here* come from the model built in this app; numbers labelled *reported in the "
        "paper* are copied from Zhang et al. and are never mixed with them."
    )


def main() -> None:
    present = page_setup("Overview")
    config = shared_controls()
    ideas_section(present)
    current_model_section(config)
    pages_section()


# Streamlit execs this file as a script on every rerun (also under AppTest), so main runs unconditionally.
main()
