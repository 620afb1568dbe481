"""The budget decision: its tables, links and the latency-budget search task (``decision``)."""
