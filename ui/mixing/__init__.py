"""The Channel shuffle page's parts besides its figures: its sentences (``text``) and its measurement (``measured``)."""
