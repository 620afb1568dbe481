"""Keep ONNX Runtime from sending usage telemetry; imported first by ``explorer/__init__.py``.

ONNX Runtime 1.29+ builds for Linux report process, session and model events to Microsoft
(1DS) and keep a session file (``$TMPDIR/.ses``), unless ``ORT_DISABLE_TELEMETRY=1`` is
set before it initialises (the choice is latched for the process). A teaching server
should not phone home, so the explorer sets it before anything of ours imports
onnxruntime; an operator who exports the variable keeps their own value.
"""

import os

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
