"""Latency and jobs: the latency tables and figures (``tables``), background jobs, the result
and kernel-profile stores they write (``jobs``), a job's progress view (``job_view``), and the
measurement in the visitor's browser (``device``, ``device_component``, ``device_state``)."""
