"""A class of 20 on the Lecture page at once: one ``streamlit run``, one Chromium, 20 browser contexts.

Half the class steps forward from step 1, half backward from step 8, on two different
models, pressing their buttons together each round (``benchmarks/lecture_class.py``, which
also prints the percentiles against the issue's 3 s target: speed is measured there, not
here, because these machines are shared and noisy). Here every step of every student must
be fully drawn, none frozen (within ``STEP_LIMIT_S``), and after every round every page must
show its own step and model (title, address bar, sidebar) and no exception: no session sees
another's step.
"""

from __future__ import annotations

import sys

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
from lecture_class import print_report, run_class  # noqa: E402

from ui.lecture.steps import STEPS  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.load]

STUDENTS = 20
STEP_LIMIT_S = 60.0  # a frozen or lost session, not a slow one: the 3 s target is the benchmark's


def test_a_class_of_20_steps_through_the_lecture_together(streamlit_server, browser):
    report = run_class(streamlit_server, browser, STUDENTS)
    print_report(report)  # shown with -s, and on failure
    assert not report.problems, report.problems
    assert len(report.students) == STUDENTS
    for student in report.students:  # every student reached every step but their first, and opened the lecture
        assert sorted(k for k in student.times if k != "open") == [
            s for s in range(1, len(STEPS) + 1) if s != student.first_step
        ], student.index
        assert "open" in student.times
    slow = [
        (s.index, step, round(t, 2))
        for s in report.students
        for step, t in s.times.items()
        if step != "open" and t > STEP_LIMIT_S
    ]
    assert not slow, f"steps not drawn {STEP_LIMIT_S:g} s after the click (student, step, s): {slow}"
