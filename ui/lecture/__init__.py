"""The lecture: its steps as data plus one small function each (``steps``), their figures
(``figures``) and the page's navigation, the step in session state and the URL (``nav``)."""
