"""How channels mix: which input channels each output channel depends on, with and without the shuffle.

``toy`` is Fig. 1 of the paper as 0/1 matrices (pure numpy); ``network`` predicts a
ShuffleNet stage's matrices from its unit specs, and ``probes`` measures them on the
built model with forward-mode autograd.
"""

from .network import (
    SCOPE_TITLES,
    SCOPES,
    StageMixing,
    block_diagonal,
    check_scope,
    check_stage,
    predict_stage,
    unit_mask,
)
from .probes import linearised, measure_stage, probe_dependencies
from .toy import (
    MAX_LAYERS,
    MIN_LAYERS,
    WIRING_TITLES,
    WIRINGS,
    ShuffleSteps,
    ToyMixing,
    check_toy,
    connectivity,
    cross_equals_shuffle,
    default_toy_channels,
    layer_masks,
    shuffle_steps,
    toy_mixing,
    trace_channel,
)
