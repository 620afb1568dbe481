"""Sub-commands of ``python -m explorer``; see ``explorer.cli``."""
