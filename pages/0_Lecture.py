"""Lecture: the paper's argument in eight steps, one screen each, drawn for the sidebar's model.

``?step=3`` opens step 3 (a shareable link; the model's query values sit beside it);
Previous / Next (or the arrow keys) move through the steps. Content: ``ui/lecture/steps.py``;
the step in the URL and the drawing: ``ui/lecture/nav.py``.
"""

from ui.lecture.nav import lecture
from ui.shell.controls import shared_controls
from ui.shell.page import page_setup


def main() -> None:
    present = page_setup("Lecture")
    config = shared_controls()
    lecture(config, present)  # the step, Previous / Next and the step's figure: reruns on its own when stepping


# Streamlit execs this file as a script on every rerun (also under AppTest), so main runs unconditionally.
main()
