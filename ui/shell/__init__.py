"""The page shell: page setup and navigation (``page``), the shared sidebar (``controls``),
presentation mode (``presentation``), colours and font sizes (``style``), shown text (``text``),
the bounded Streamlit caches (``cache``) and their start-up warm-up (``warmup``)."""
