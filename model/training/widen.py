"""Grow a trained staff reader (:mod:`model.omr.crnn`) into a wider one that reads exactly as it did.

A reader that has stopped improving on 2 cores underfits (its SER on fresh training staves is that on
validation staves), so the next run needs more capacity; starting a wider network from scratch would
throw away hours of CPU. :func:`widen` copies every trained weight into the leading channels and hidden
units of the wider network and zeroes every weight from a new channel or unit into an old one, so the
wide network computes the old one's outputs exactly until training gives the new channels a voice (new
units keep their fresh random inputs, and their zero outgoing weights get gradients from the first step).

What may grow: the convolution channels and the LSTM's hidden size. The projected feature size may not
(its layer norm would mix new features into old ones), nor the symbols or the header head.
"""

from __future__ import annotations

import torch


def _grow(new: torch.Tensor, old: torch.Tensor, rows, cols=None) -> torch.Tensor:
    """``new`` with ``old`` written at ``rows`` x ``cols`` (index tensors into ``new``'s first two dims);
    the other columns of those rows are zeroed, so old outputs see no new input."""
    out = new.clone()
    if cols is None:
        out[rows] = old
        return out
    out[rows] = 0
    out[rows[:, None], cols[None, :]] = old
    return out


def _lstm_rows(old_h: int, new_h: int) -> torch.Tensor:
    """Where the old units' rows of an LSTM weight (gates i, f, g, o stacked) sit in the wide one."""
    return torch.cat([torch.arange(old_h) + g * new_h for g in range(4)])


def _bidir_cols(old_h: int, new_h: int) -> torch.Tensor:
    """Where an old bidirectional output (forward units, then backward) sits in the wide one."""
    return torch.cat([torch.arange(old_h), new_h + torch.arange(old_h)])


def widen(old_state: dict, old_config, new_model) -> dict:
    """A state dict for ``new_model`` (a wider :class:`~model.omr.crnn.StaffReader`) that computes what
    ``old_state`` (a reader of ``old_config``) computes; ``new_model``'s own fresh weights fill the rest."""
    new_config = new_model.config
    if new_config.feature != old_config.feature or new_config.classes != old_config.classes:
        raise ValueError("only the channels and the LSTM's hidden size can grow")
    narrower = any(n < o for n, o in zip(new_config.channels, old_config.channels))
    if narrower or new_config.hidden < old_config.hidden:
        raise ValueError("a reader can only grow")
    fresh = new_model.state_dict()
    out = {}
    oc = old_config.channels
    # output channels of each convolution, input channels where they come from
    conv_io = {"stem.0": (oc[0], None)}
    for i in range(len(oc) - 1):
        conv_io[f"blocks.{i}.conv1.0"] = (oc[i + 1], oc[i])
        conv_io[f"blocks.{i}.conv2.0"] = (oc[i + 1], oc[i + 1])
    bn_of = {"stem.1": oc[0]}
    bn_of |= {f"blocks.{i}.conv{k}.1": oc[i + 1] for i in range(len(oc) - 1) for k in (1, 2)}
    rows = new_config.height // 32
    oh, nh = old_config.hidden, new_config.hidden
    for name, new in fresh.items():
        old = old_state[name]
        prefix = name.rsplit(".", 1)[0]
        if prefix in conv_io:
            cout, cin = conv_io[prefix]
            out[name] = _grow(new, old, torch.arange(cout), None if cin is None else torch.arange(cin))
        elif prefix in bn_of:
            out[name] = old.clone() if old.dim() == 0 else _grow(new, old, torch.arange(bn_of[prefix]))
        elif name == "project.0.weight":
            # a column's features are (channel, row) flattened channel-major
            cols = (torch.arange(oc[-1])[:, None] * rows + torch.arange(rows)[None, :]).flatten()
            out[name] = _grow(new, old, torch.arange(new.shape[0]), cols)
        elif name.startswith("rnn."):
            lstm_rows = _lstm_rows(oh, nh)
            if name.startswith("rnn.bias"):
                out[name] = _grow(new, old, lstm_rows)
            elif name.startswith("rnn.weight_hh"):
                out[name] = _grow(new, old, lstm_rows, torch.arange(oh))
            elif name.startswith(("rnn.weight_ih_l0")):
                out[name] = _grow(new, old, lstm_rows, torch.arange(new.shape[1]))
            else:  # a deeper layer reads both directions of the one below
                out[name] = _grow(new, old, lstm_rows, _bidir_cols(oh, nh))
        elif name == "slots.weight":  # reads [LSTM forward, LSTM backward, column features]
            cols = torch.cat([_bidir_cols(oh, nh), 2 * nh + torch.arange(new_config.feature)])
            out[name] = _grow(new, old, torch.arange(new.shape[0]), cols)
        else:
            if old.shape != new.shape:
                raise ValueError(f"{name} cannot grow: {tuple(old.shape)} -> {tuple(new.shape)}")
            out[name] = old.clone()
    return out
