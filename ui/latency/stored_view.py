"""Stored results: where the Latency page keeps its measurements, and all of them as CSV."""

import streamlit as st

from ui.latency.jobs import ResultStore
from ui.latency.tables import stored_frame
from ui.shell.presentation import download_button


def stored_section(store: ResultStore) -> None:
    """Where measurements are kept, and all of them as CSV."""
    st.header("Stored results")
    database = store.database
    where = (
        "memory only, until the server restarts"
        if database.in_memory
        else f"`{database.path}`"
        if database.path is not None
        else f"the PostgreSQL database `{database.location}` (EXPLORER_DATABASE_URL), "
        "shared by every server that is given it"
    )
    st.markdown(
        f"Every measurement is kept in {where}: one session's result is shown to every session, with its age, "
        "and survives a restart of the server. Press a measure button again to measure anew. Choose the folder "
        "with `EXPLORER_DATA_DIR`; `python -m explorer results` lists, exports or clears them."
    )
    frame = stored_frame(store)
    download_button(
        f"Download the stored results (CSV, {len(frame)} rows)",
        frame.to_csv(index=False),
        "latency_results.csv",
        "text/csv",
        key="lat_stored_csv",
        disabled=frame.empty,
    )
