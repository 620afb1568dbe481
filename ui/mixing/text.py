"""Sentences of the Channel shuffle page (and the lecture): takeaways, notes and the method, worded from results.

Every number comes from ``explorer.mixing`` (a ``ToyMixing`` of Fig. 1's toy, a
``StageMixing`` measured on the model, ``trace_channel`` for a clicked channel); nothing here
draws or caches, so each sentence is a plain function of its inputs.

* ``percent``, ``reach_text``, ``unit_word``: the small words the others are built from.
* ``toy_takeaway``, ``two_layer_note``: what the shuffle changes in the toy (C, g, L).
* ``trace_label``, ``trace_text``: the selected channel of the toy, and what it depends on / reaches.
* ``measured_takeaway``, ``reading_note`` (``shortcut_note`` / ``stage_note``), ``method_text``:
  the measured section's takeaway, its "Reading it" and how it is measured.
"""

from __future__ import annotations

import math

from explorer.mixing import SCOPE_TITLES, StageMixing, ToyMixing, trace_channel

TRACED = ("none", "shuffle")  # the two wirings drawn side by side for clicking


def percent(value: float) -> str:
    return f"{100 * value:.0f}%" if math.isclose(value * 100, round(value * 100)) else f"{100 * value:.1f}%"


def reach_text(toy: ToyMixing) -> str:
    """How many input channels one output channel of the toy reaches, e.g. "4 of 12 input channels (33.3%)"."""
    counts = toy.matrix.sum(axis=1)
    if counts.min() == counts.max():
        return f"{int(counts[0])} of {toy.channels} input channels ({percent(toy.fraction)})"
    return f"on average {counts.mean():.1f} of {toy.channels} input channels ({percent(toy.fraction)})"


def _toy_verdict(none_toy: ToyMixing, shuffle_toy: ToyMixing) -> str:
    if shuffle_toy.groups == 1:
        return "with a single group every 1×1 convolution is dense already, so there is nothing to shuffle: raise g"
    if shuffle_toy.fraction > none_toy.fraction:
        return "the shuffle lets information cross groups"
    if shuffle_toy.layers == 1:
        return "with one layer nothing can cross groups yet: raise L"
    return "here the shuffle cannot help: each group has a single channel, so the shuffle keeps the order"


def toy_takeaway(none_toy: ToyMixing, shuffle_toy: ToyMixing) -> str:
    """What the shuffle changes in the toy, and why (or why not) for these C, g and L."""
    return (
        f"with C = {shuffle_toy.channels}, g = {shuffle_toy.groups} and L = {shuffle_toy.layers}, each output "
        f"channel sees {reach_text(none_toy)} without a shuffle, but {reach_text(shuffle_toy)} with one: "
        f"{_toy_verdict(none_toy, shuffle_toy)}."
    )


def two_layer_note(shuffle_toy: ToyMixing) -> str | None:
    """When stacked shuffled layers connect every input to every output (None where the question is moot)."""
    groups, layers = shuffle_toy.groups, shuffle_toy.layers
    if groups == 1 or layers < 2:
        return None
    per_group = shuffle_toy.channels // groups
    full_two = per_group >= groups
    note = (
        f"Two layers with a shuffle are fully connected exactly when C/g ≥ g: here C/g = {per_group} "
        f"{'≥' if full_two else '<'} g = {groups}, so they {'are' if full_two else 'are not'}."
    )
    if full_two:
        return note
    first_full = next((k for k, m in enumerate(shuffle_toy.matrices, start=1) if m.all()), None)
    if first_full:
        return note + f" With the shuffle, every output reaches every input after {first_full} layers."
    return note + f" With the shuffle, {layers} layers are not enough to reach every input."


def unit_word(scope: str) -> str:
    """What one step of the measured scope is: a stride-1 unit, or any unit of the whole stage."""
    return "stride-1 unit" if scope == "stride1" else "unit"


def measured_takeaway(on: StageMixing, off: StageMixing, scope: str, width: float, variant: str) -> str:
    """How far an output channel of the measured stage reaches, without and with the shuffle."""
    word = unit_word(scope)
    steps = len(on.matrices(scope))
    stacked = f"{steps} {word}{'s' if steps > 1 else ''}"
    fractions_on, fractions_off = on.fractions(scope), off.fractions(scope)
    if len(set(fractions_off)) == 1:
        off_text = (
            f"{percent(fractions_off[0])} of the input channels without shuffle, however many {word}s are stacked"
        )
    else:
        off_text = (
            f"{percent(fractions_off[0])} of the input channels without shuffle after one {word} "
            f"({percent(fractions_off[-1])} after {stacked})"
        )
    full_on = on.units_to_full(scope)
    if full_on == 1:
        on_text = f"100% with shuffle, already after one {word}"
    elif full_on:
        on_text = f"{percent(fractions_on[0])} with shuffle after one {word} and 100% after {full_on}"
    else:
        on_text = (
            f"{percent(fractions_on[0])} with shuffle after one {word} and {percent(fractions_on[-1])} after {stacked}"
        )
    variant_text = "" if variant == "standard" else f" {variant}"
    return (
        f"in Stage{on.stage} of ShuffleNet {width:g}×{variant_text} (g = {on.groups}, {stacked}), an output "
        f"channel depends on {off_text}; on {on_text}."
    )


def shortcut_note(on: StageMixing) -> str:
    """Why the measured matrices look as they do: the identity shortcut, and how many groups one unit reaches."""
    g = on.groups
    m_per_group = on.bottleneck // g
    note = (
        f"Each stride-1 unit adds its input back (identity shortcut), so output channel *i* always depends on input "
        f"channel *i* — the diagonal of every matrix. Without shuffle the residual branch of output group *j* reads "
        f"input group *j* only, which already contains *i*: exactly 1/g = {percent(1 / g)} of the channels, however "
        f"many units are stacked. With shuffle, the last 1×1 group convolution's group *j* reads {m_per_group} "
        f"bottleneck channels (bottleneck {on.bottleneck} = C/4, split into g = {g} groups) coming from "
        f"min({m_per_group}, {g}) = {min(m_per_group, g)} different groups. "
    )
    if m_per_group >= g:
        return note + f"Since {m_per_group} ≥ g, one unit already reaches every input channel."
    return note + (
        f"Since {m_per_group} < g, one unit reaches {m_per_group} of the {g} groups (plus its own channel through the "
        f"shortcut: the lone cells on the diagonal, pale blocks when drawn in blocks), and the fraction grows with "
        "each stacked unit."
    )


def stage_note(on: StageMixing, off: StageMixing) -> str:
    """Why the whole-stage matrices look as they do (scope "the stage's own input"), from the measured fractions."""
    g, c_in, c = on.groups, on.stage_in_channels, on.channels
    first = (
        "not grouped, so each of its channels reads every input channel"
        if on.stage == 2 or g == 1
        else f"grouped (g = {g}), so its group *j* reads input group *j* only"
    )
    note = (
        f"From the stage's own input ({c_in} channels), the first unit (stride 2) concatenates the 3×3 average pool "
        f"of the input (output channels 0…{c_in - 1}, each depending on its own input channel only) with its "
        f"residual branch ({c - c_in} channels), whose first 1×1 convolution is {first}. "
    )
    off_fractions, on_fractions = off.fractions("stage"), on.fractions("stage")
    steps, low, high = len(off_fractions), *off.fraction_ranges("stage")[-1]
    stacked = f"{steps} unit{'s' if steps > 1 else ''}"
    average = "" if math.isclose(low, high) else " on average"
    not_one_over_g = "" if math.isclose(off_fractions[-1], 1 / g) else f", not 1/g = {percent(1 / g)}"
    if steps > 1 and g > 1:
        note += (
            f"The stride-1 units then split these {c} channels into g = {g} contiguous groups, and one such group "
            "can hold channels that come from more than one input group. "
        )
    note += (
        f"Without shuffle an output channel therefore depends{average} on {percent(off_fractions[-1])} of the "
        f"stage's input channels after {stacked}{not_one_over_g}; "
    )
    full = on.units_to_full("stage")
    on_text = f"100% from unit {full} on" if full else f"{percent(on_fractions[-1])} after {stacked}"
    return note + f"with shuffle, {on_text}."


def reading_note(on: StageMixing, off: StageMixing, scope: str) -> str:
    """The "Reading it" text for the scope shown: stride-1 units only, or the whole stage."""
    return shortcut_note(on) if scope == "stride1" else stage_note(on, off)


def method_text(stage: int, scope: str, stage_in_channels: int) -> str:
    """How the measured matrices are measured, and why that is sound (a method note)."""
    text = f"**What is measured.** Scope: {SCOPE_TITLES[scope]}. "
    if scope == "stage":
        text += (
            f"With “the stage's own input”, the first unit's output channels 0…{stage_in_channels - 1} are the "
            "3×3 average pool of the input, concatenated in front of the residual branch: each depends on its "
            "own input channel only. "
        )
        if stage == 2:
            text += "Stage2's first 1×1 convolution is not grouped, so its branch channels read every input channel. "
    return text + (
        "**How.** Forward-mode autograd (`torch.func.jvp`) through a copy of the stage of the model `build_model` "
        "returns, with BatchNorm in eval mode and the ReLUs replaced by the identity: a ReLU acts on one value at a "
        "time, so it can silence a path for some inputs but never creates one; without it the stage is affine and "
        "its Jacobian, hence the pattern, is the same for every input. One random probe per input channel (two "
        "rounds), 1×1 pixels: every op that moves information between channels acts on each pixel alike, so the "
        "pattern is the same at 224×224. The tests check the measurement against the unit's structure (Fig. 2) for "
        "g = 1, 2, 3, 4, 8."
    )


def trace_label(node: tuple[int, int] | None, layers: int) -> str:
    if node is None:
        return "nothing (every channel drawn alike)"
    layer, channel = node
    where = "output channel" if layer == layers else ("input channel" if layer == 0 else f"GConv{layer} channel")
    return f"{where} {channel}"


def trace_text(channels: int, groups: int, layers: int, node: tuple[int, int]) -> str:
    """What the selected channel depends on / reaches, without and with the shuffle (from explorer.mixing)."""
    layer, channel = node
    linked = {w: trace_channel(channels, groups, layers, w, layer, channel) for w in TRACED}
    parts = []
    if layer > 0:
        parts.append(
            f"depends on {int(linked['none'][0].sum())} of the {channels} input channels without the shuffle "
            f"and on {int(linked['shuffle'][0].sum())} with it"
        )
    if layer < layers:
        parts.append(
            f"reaches {int(linked['none'][layers].sum())} of the {channels} output channels without the "
            f"shuffle and {int(linked['shuffle'][layers].sum())} with it"
        )
    label = trace_label(node, layers)
    return f"**{label[0].upper()}{label[1:]}** " + "; it ".join(parts) + "."
