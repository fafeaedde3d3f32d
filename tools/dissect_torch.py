"""PyTorch reference implementation of dissect's NER tagger, and checkpoint I/O.

This module is the PyTorch side of dissect's parity and interoperability
checks.  It needs only ``torch`` and the Python standard library.

The model (Xin, Lin & Yu, EMNLP 2019, trained NCRF++-style), per sentence:

* ``word_embedding`` (``nn.Embedding(V, Dw)``) gives ``x_w[t]``;
* optionally (``use_chars``) a per-word char CNN: the word's char indices
  ``c[t]`` (length ``L >= 1``) are embedded by ``char_embedding``
  (``nn.Embedding(C, Dc)``) as ``[1, Dc, L]``, passed through dropout and
  ``char_cnn`` (``nn.Conv1d(Dc, F, kernel_size=3, padding=1)``) and max-pooled
  over the ``L`` positions, giving ``[F]``.  A word's feature never depends on
  its batch (words are stacked, but positions past a word's end are exact zeros
  and are masked out of the max).  No nonlinearity;
* ``x[t] = cat(x_w[t], charfeat[t])`` -> dropout -> the recurrent stack
  (``nn.LSTM``, ``nn.GRU`` or ``nn.RNN`` with tanh; ``layers`` layers with
  ``layer_dropout`` between them, torch's ``num_layers``/``dropout`` semantics;
  ``batch_first``, optionally bidirectional; ``hidden_size`` per direction).  The
  module attribute is named after the cell (``self.lstm``, ``self.gru``,
  ``self.rnn``), so the state-dict names are ``lstm.weight_ih_l0``,
  ``gru.weight_hh_l1_reverse``, ... -> top layer's ``h[t]`` -> dropout ->
  ``hidden2tag`` (``nn.Linear``) -> emissions (logits) ``[T, m]``;
* the loss is the cross-entropy summed over every token of the batch, or with
  ``crf`` a linear-chain CRF (``crf.transitions`` ``[m+2, m+2]``, NCRF++'s layout,
  index ``m`` = START, ``m+1`` = STOP) whose loss is the sum over sentences of
  ``log Z - score(gold)``; prediction is then Viterbi decoding.

Checkpoints (``model.json`` format version 2) name the recurrent tensors after the
cell; format 1 (single layer, no CRF, tensors always ``lstm.*_l0``) still loads.

Public API
----------
``Tagger``                  the ``nn.Module`` (parameter names as in dissect's checkpoints)
``CRF``                     the linear-chain CRF (forward algorithm, gold score, Viterbi)
``layer_outputs``           every recurrent layer's output, optionally with recurrent ablation
``read_conll``              read a CoNLL file into ``[(words, labels), ...]``
``Lookup``/``encode_words`` the prediction-time word and char lookup rules
``predict``                 label lists for raw word lists (Viterbi with a CRF)
``load_checkpoint``         ``DIR/model.safetensors`` + ``DIR/model.json`` -> ``(model, meta)``
``save_checkpoint``         the inverse (float32 safetensors, written without the ``safetensors`` package)
``read_safetensors``/``write_safetensors``  the minimal safetensors codec
``conlleval``               chunk F1 computed exactly as ``conlleval.pl``
``ncrfpp_fmeasure``         chunk F1 computed as NCRF++'s ``get_ner_fmeasure`` with BIO labels
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
import struct
import tempfile
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence, pad_sequence

__all__ = [
    "Tagger", "CRF", "layer_outputs", "read_conll", "Lookup", "encode_words", "predict",
    "load_checkpoint", "save_checkpoint", "read_safetensors", "write_safetensors",
    "conlleval", "ncrfpp_fmeasure", "token_accuracy", "build_meta",
]

# model.json format written by save_checkpoint; READABLE_FORMATS are those load_checkpoint reads.
FORMAT_VERSION = 2
READABLE_FORMATS = (1, 2)

CELLS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}
# Rows of weight_ih per hidden unit (the gates stacked in torch's order).
GATES = {"lstm": 4, "gru": 3, "rnn": 1}

# NCRF++ initialises the transitions into START and out of STOP to this value; they enter no score.
CRF_IMPOSSIBLE = -10000.0

LOOKUP_TEXT = (
    "word: if digits_to_zero, replace every Unicode decimal digit (Python re \\d) by '0'; "
    "then the word as written if it is in vocabulary.words, else its lower case (Python str.lower()) "
    "if that is in vocabulary.words, else unknown_word_index. "
    "chars: the Unicode code points of the normalised word (after the digit rule, before lower-casing), "
    "each looked up in vocabulary.chars, else unknown_char_index."
)


# --------------------------------------------------------------------------------------------
# CRF
# --------------------------------------------------------------------------------------------

class CRF(nn.Module):
    """Linear-chain CRF over ``m`` labels in NCRF++'s layout.

    ``transitions[i, j]`` (``[m+2, m+2]``) is the score of moving from label ``i`` to label
    ``j``; index ``m`` is START and ``m+1`` STOP.  A path ``y_1..y_T`` over emissions
    ``E [T, m]`` scores ``trans[START, y_1] + sum_t E[t, y_t] + sum_{t>=2} trans[y_{t-1}, y_t]
    + trans[y_T, STOP]``.  ``log Z`` sums over paths of the ``m`` real labels only, so column
    START and row STOP enter no score: they keep NCRF++'s -10000 and get an exact zero
    gradient (``reset_fixed_`` restores them after an optimiser's weight decay).
    """

    def __init__(self, labels: int):
        super().__init__()
        self.labels = labels
        self.start = labels
        self.stop = labels + 1
        transitions = torch.zeros(labels + 2, labels + 2)
        transitions[:, self.start] = CRF_IMPOSSIBLE
        transitions[self.stop, :] = CRF_IMPOSSIBLE
        self.transitions = nn.Parameter(transitions)

    @torch.no_grad()
    def reset_fixed_(self) -> None:
        """Set column START and row STOP back to -10000 (they are never trained)."""
        self.transitions[:, self.start] = CRF_IMPOSSIBLE
        self.transitions[self.stop, :] = CRF_IMPOSSIBLE

    def _parts(self) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(between [m, m], from_start [m], to_stop [m])`` slices of ``transitions``."""
        m = self.labels
        return (self.transitions[:m, :m], self.transitions[self.start, :m],
                self.transitions[:m, self.stop])

    @staticmethod
    def _pad(emissions: torch.Tensor, lengths: Sequence[int]) -> Tuple[torch.Tensor, torch.Tensor]:
        """Flat emissions ``[N, m]`` -> ``(padded [B, T, m], valid mask [B, T])``."""
        padded = pad_sequence(list(torch.split(emissions, list(lengths))), batch_first=True)
        steps = torch.arange(padded.size(1), device=emissions.device)
        mask = steps.unsqueeze(0) < torch.tensor(list(lengths), device=emissions.device).unsqueeze(1)
        return padded, mask

    def log_partition(self, emissions: torch.Tensor, lengths: Sequence[int]) -> torch.Tensor:
        """``log Z`` per sentence ``[B]`` by the forward algorithm.

        ``emissions`` ``[N, m]`` are the sentences' emissions concatenated, ``lengths`` their
        ``T_i >= 1``.  ``alpha[j] = logsumexp_i(alpha[i] + trans[i, j]) + E[t, j]``, started at
        ``trans[START, :] + E[0]`` and closed with ``+ trans[:, STOP]``.
        """
        between, from_start, to_stop = self._parts()
        padded, mask = self._pad(emissions, lengths)                          # [B, T, m], [B, T]
        alpha = from_start.unsqueeze(0) + padded[:, 0]                         # [B, m]
        for t in range(1, padded.size(1)):
            step = torch.logsumexp(alpha.unsqueeze(2) + between.unsqueeze(0), dim=1) + padded[:, t]
            alpha = torch.where(mask[:, t].unsqueeze(1), step, alpha)         # [B, m]
        return torch.logsumexp(alpha + to_stop.unsqueeze(0), dim=1)            # [B]

    def path_score(self, emissions: torch.Tensor, lengths: Sequence[int],
                   labels: torch.Tensor) -> torch.Tensor:
        """Score of the label paths ``labels`` ``[N]`` (flat like ``emissions [N, m]``): ``[B]``."""
        between, from_start, to_stop = self._parts()
        lengths = list(lengths)
        emitted = emissions.gather(1, labels.unsqueeze(1)).squeeze(1)          # [N]
        sentence = torch.repeat_interleave(
            torch.arange(len(lengths), device=emissions.device),
            torch.tensor(lengths, device=emissions.device))                    # [N]
        score = emissions.new_zeros(len(lengths)).index_add(0, sentence, emitted)
        ends = torch.cumsum(torch.tensor(lengths, device=emissions.device), 0)  # [B]
        starts = ends - torch.tensor(lengths, device=emissions.device)
        score = score + from_start[labels[starts]] + to_stop[labels[ends - 1]]
        # transitions between consecutive tokens of the same sentence
        same = torch.ones(labels.numel(), dtype=torch.bool, device=emissions.device)
        same[starts] = False                                                   # [N]
        later = same.nonzero().squeeze(1)
        moves = between[labels[later - 1], labels[later]]
        return score.index_add(0, sentence[later], moves)                     # [B]

    def neg_log_likelihood(self, emissions: torch.Tensor, lengths: Sequence[int],
                           labels: torch.Tensor) -> torch.Tensor:
        """``sum over sentences of (log Z - score(gold))``, a scalar."""
        return (self.log_partition(emissions, lengths)
                - self.path_score(emissions, lengths, labels)).sum()

    @torch.no_grad()
    def viterbi(self, emissions: torch.Tensor, lengths: Sequence[int]) -> List[List[int]]:
        """Best label path per sentence (emissions ``[N, m]`` flat, as ``log_partition``).

        Ties go to the lowest label index at every maximum: ``bp[t][j]`` is the first
        ``argmax_i (delta[t-1][i] + trans[i, j])`` and the last label the first
        ``argmax_j (delta[T-1][j] + trans[j, STOP])`` (``torch.max`` returns the first maximal
        index).
        """
        between, from_start, to_stop = self._parts()
        padded, mask = self._pad(emissions, lengths)                          # [B, T, m]
        delta = from_start.unsqueeze(0) + padded[:, 0]                         # [B, m]
        backpointers = []                                                      # T-1 x [B, m]
        for t in range(1, padded.size(1)):
            best, arg = (delta.unsqueeze(2) + between.unsqueeze(0)).max(dim=1)  # [B, m]
            delta = torch.where(mask[:, t].unsqueeze(1), best + padded[:, t], delta)
            backpointers.append(arg)
        last = (delta + to_stop.unsqueeze(0)).argmax(dim=1).tolist()           # [B]
        pointers = [bp.tolist() for bp in backpointers]
        paths = []
        for b, length in enumerate(lengths):
            path = [last[b]]
            for t in range(length - 1, 0, -1):
                path.append(pointers[t - 1][b][path[-1]])
            paths.append(path[::-1])
        return paths


# --------------------------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------------------------

class LayerStack(nn.Module):
    """Recurrent layers of their own widths (a stacked model pruned below its top), as single-layer
    ``nn.LSTM``/``nn.GRU``/``nn.RNN`` modules one above the other, ``layer_dropout`` between them
    in training (torch's ``num_layers``/``dropout`` semantics, which need one width for every layer).

    Its tensors are named as a ``num_layers`` module names them (``weight_ih_l1``, ``…_reverse``) through
    ``state_dict``/``load_state_dict``, so a checkpoint holds the names dissect writes either way.
    """

    def __init__(self, cell: str, input_dim: int, sizes: Sequence[int], bidirectional: bool,
                 layer_dropout: float):
        super().__init__()
        directions = 2 if bidirectional else 1
        self.stack = nn.ModuleList()
        width = input_dim
        for size in sizes:
            kwargs = dict(num_layers=1, batch_first=True, bidirectional=bidirectional)
            if cell == "rnn":
                kwargs["nonlinearity"] = "tanh"
            self.stack.append(CELLS[cell](width, size, **kwargs))
            width = size * directions
        self.layer_dropout = nn.Dropout(layer_dropout)
        self._register_state_dict_hook(LayerStack._flat_names)
        self._register_load_state_dict_pre_hook(LayerStack._stacked_names)

    def forward(self, packed):
        out = packed
        for index, module in enumerate(self.stack):
            if index > 0 and self.training and self.layer_dropout.p > 0:
                out = PackedSequence(self.layer_dropout(out.data), out.batch_sizes,
                                     out.sorted_indices, out.unsorted_indices)
            out, _ = module(out)
        return out, None

    def weights(self, layer: int, direction: int) -> List[torch.Tensor]:
        """``[weight_ih, weight_hh, bias_ih, bias_hh]`` of a 0-based layer and direction."""
        suffix = "_l0" + ("_reverse" if direction else "")
        return [getattr(self.stack[layer], name + suffix)
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]

    @staticmethod
    def _flat_names(module, state_dict, prefix, local_metadata):
        # stack.K.weight_ih_l0[_reverse] -> weight_ih_lK[_reverse]
        for key in [k for k in state_dict if k.startswith(prefix + "stack.")]:
            layer, name = key[len(prefix + "stack."):].split(".", 1)
            state_dict[prefix + name.replace("_l0", "_l" + layer, 1)] = state_dict.pop(key)
        return state_dict

    @staticmethod
    def _stacked_names(state_dict, prefix, *args):
        for key in [k for k in state_dict if k.startswith(prefix) and "_l" in k[len(prefix):]
                    and not k[len(prefix):].startswith("stack.")]:
            name = key[len(prefix):]
            base, rest = name.split("_l", 1)
            layer = rest.split("_", 1)[0]
            state_dict[prefix + "stack." + layer + "." + base + "_l0" + rest[len(layer):]] = state_dict.pop(key)


class Tagger(nn.Module):
    """The word(+char CNN) -> stacked (Bi)LSTM/GRU/RNN -> linear (-> CRF) tagger.

    Args:
        words: vocabulary size ``V``.
        labels: number of labels ``m``.
        word_dim: ``Dw``.
        hidden_size: ``H`` (per direction).
        cell: ``"lstm"``, ``"gru"`` or ``"rnn"`` (tanh).
        bidirectional: use bidirectional recurrent layers (output ``[forward; backward]``).
        use_chars: use the char CNN (otherwise there are no ``char_*`` parameters).
        chars: char vocabulary size ``C``.
        char_dim: ``Dc``.
        char_filters: ``F``.
        char_window: the convolution width (odd; padding ``window // 2``; dissect uses 3).
        dropout: the dropout probability used at the three dropout sites (char embeddings,
            the first layer's input, the top layer's output).
        layers: recurrent layers ``N >= 1``; layer ``k >= 1`` reads the output of layer ``k - 1``
            (``H * directions``, or that layer's own size with ``layer_sizes``).
        layer_dropout: dropout on every layer's output except the top one (torch's
            ``dropout`` argument of ``nn.LSTM``), in ``[0, 1)``.
        crf: put a linear-chain CRF (``crf.transitions``) on the emissions.
        layer_sizes: each layer's ``H``, bottom first, when they differ (dissect's
            ``layer_hidden_sizes``; the last must be ``hidden_size``): the layers are then a
            ``LayerStack`` of single-layer modules.
    """

    def __init__(self, words: int, labels: int, word_dim: int, hidden_size: int,
                 cell: str = "lstm", bidirectional: bool = False, use_chars: bool = True,
                 chars: int = 0, char_dim: int = 30, char_filters: int = 50,
                 char_window: int = 3, dropout: float = 0.5, layers: int = 1,
                 layer_dropout: float = 0.0, crf: bool = False,
                 layer_sizes: Optional[Sequence[int]] = None):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {sorted(CELLS)}, not {cell!r}")
        if use_chars and char_window % 2 != 1:
            raise ValueError(f"char_window must be odd, not {char_window}")
        if int(layers) != layers or layers < 1:
            raise ValueError(f"layers must be an integer >= 1, not {layers!r}")
        if not 0.0 <= layer_dropout < 1.0:
            raise ValueError(f"layer_dropout must be in [0, 1), not {layer_dropout!r}")
        self.cell = cell
        self.bidirectional = bool(bidirectional)
        self.use_chars = bool(use_chars)
        self.hidden_size = hidden_size
        self.layers = int(layers)
        sizes = [int(size) for size in layer_sizes] if layer_sizes is not None else [hidden_size] * self.layers
        if len(sizes) != self.layers or sizes[-1] != hidden_size or min(sizes) < 1:
            raise ValueError(f"layer_sizes must be {self.layers} sizes >= 1 ending in {hidden_size}, not {layer_sizes!r}")
        self.layer_sizes = sizes
        self.layer_dropout = float(layer_dropout)
        self.word_embedding = nn.Embedding(words, word_dim)
        input_dim = word_dim
        if self.use_chars:
            self.char_embedding = nn.Embedding(chars, char_dim)
            self.char_cnn = nn.Conv1d(char_dim, char_filters, kernel_size=char_window,
                                      padding=char_window // 2)
            input_dim += char_filters
        self.input_size = input_dim
        kwargs = dict(num_layers=self.layers, batch_first=True, bidirectional=self.bidirectional,
                      # torch warns about dropout with one layer, where it has no effect anyway
                      dropout=self.layer_dropout if self.layers > 1 else 0.0)
        if cell == "rnn":
            kwargs["nonlinearity"] = "tanh"
        # Registered under the cell's name: the state-dict prefix is lstm./gru./rnn.
        if len(set(sizes)) == 1:
            self.add_module(cell, CELLS[cell](input_dim, hidden_size, **kwargs))
        else:
            self.add_module(cell, LayerStack(cell, input_dim, sizes, self.bidirectional, self.layer_dropout))
        self.output_size = hidden_size * (2 if self.bidirectional else 1)
        self.dropout = nn.Dropout(dropout)
        self.hidden2tag = nn.Linear(self.output_size, labels)
        if crf:
            self.crf = CRF(labels)
        else:
            self.crf = None

    @property
    def recurrent(self) -> nn.Module:
        """The recurrent module (``self.lstm``, ``self.gru`` or ``self.rnn``): an ``nn.RNNBase``, or a
        ``LayerStack`` when the layers differ in width."""
        return getattr(self, self.cell)

    def recurrent_weights(self, layer: int, direction: int) -> List[torch.Tensor]:
        """``[weight_ih, weight_hh, bias_ih, bias_hh]`` of a 0-based layer and direction."""
        rnn = self.recurrent
        if isinstance(rnn, LayerStack):
            return rnn.weights(layer, direction)
        suffix = f"_l{layer}" + ("_reverse" if direction else "")
        return [getattr(rnn, name + suffix) for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]

    @property
    def directions(self) -> int:
        return 2 if self.bidirectional else 1

    # ---- pieces -------------------------------------------------------------------------

    def char_features(self, words_chars: Sequence[Sequence[int]]) -> torch.Tensor:
        """Char-CNN features ``[n, F]`` of ``n`` words given as lists of char indices.

        Every word is convolved as if on its own (``[1, Dc, L]`` with the convolution's zero
        padding) and max-pooled over its own ``L`` positions.  For speed all the words are
        stacked into one ``[n, Dc, L_max]`` convolution, which changes no word's feature:
        positions past a word's end hold exact zeros (the embedding is multiplied by a 0/1
        mask, so they equal the convolution's own zero padding and get no gradient), and
        outputs at those positions are set to -inf before the max, so they are never chosen.
        """
        n = len(words_chars)
        lengths = [len(cs) for cs in words_chars]
        if n == 0:
            return self.char_embedding.weight.new_zeros(0, self.char_cnn.out_channels)
        if min(lengths) == 0:
            raise ValueError("a word needs at least one char")
        width = max(lengths)
        device = self.char_embedding.weight.device
        ids = torch.tensor([list(cs) + [0] * (width - len(cs)) for cs in words_chars],
                           dtype=torch.long, device=device)                   # [n, L]
        e = self.char_embedding(ids)                                           # [n, L, Dc]
        if width != min(lengths):
            mask = (torch.arange(width, device=device).unsqueeze(0)
                    < torch.tensor(lengths, device=device).unsqueeze(1))      # [n, L]
            e = e * mask.unsqueeze(2).to(e.dtype)
        e = self.dropout(e.transpose(1, 2))                                    # [n, Dc, L]
        out = self.char_cnn(e)                                                 # [n, F, L]
        if width != min(lengths):
            out = out.masked_fill(~mask.unsqueeze(1), float("-inf"))
        return out.max(dim=2).values                                          # [n, F]

    def inputs(self, words: Sequence[torch.Tensor],
               chars: Optional[Sequence[Sequence[Sequence[int]]]] = None) -> torch.Tensor:
        """The first recurrent layer's input ``[N, D]`` (``[word; char]``, before its dropout)."""
        x = self.word_embedding(torch.cat(list(words)))                       # [N, Dw]
        if self.use_chars:
            if chars is None:
                raise ValueError("this model needs chars")
            flat = [c for sentence in chars for c in sentence]
            x = torch.cat([x, self.char_features(flat)], dim=1)               # [N, Dw + F]
        return x

    def forward(self, words: Sequence[torch.Tensor],
                chars: Optional[Sequence[Sequence[Sequence[int]]]] = None
                ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Run a batch.

        Args:
            words: one ``LongTensor[T_i]`` of word indices per sentence (``T_i >= 1``).
            chars: per sentence, per word, its list of char indices (``None`` without chars).

        Returns:
            ``(logits [N, m], hidden [N, H * directions])`` for all ``N`` tokens, the
            sentences concatenated in order.  ``logits`` are the emissions (hidden2tag's
            output, also with a CRF); ``hidden`` is the top layer's output before the output
            dropout.
        """
        lengths = [int(w.numel()) for w in words]
        x = self.dropout(self.inputs(words, chars))                            # [N, D]
        padded = pad_sequence(list(torch.split(x, lengths)), batch_first=True)   # [B, T, D]
        packed = pack_padded_sequence(padded, torch.tensor(lengths), batch_first=True,
                                      enforce_sorted=False)
        out, _ = self.recurrent(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=padded.size(1))
        T = out.size(1)                                                        # out [B, T, n]
        index = torch.cat([torch.arange(l) + b * T for b, l in enumerate(lengths)])
        hidden = out.reshape(-1, out.size(2)).index_select(0, index.to(out.device))   # [N, n]
        logits = self.hidden2tag(self.dropout(hidden))                         # [N, m]
        return logits, hidden

    def loss(self, words, chars, labels: Sequence[torch.Tensor]) -> torch.Tensor:
        """The batch's loss, a scalar.

        Without a CRF the cross-entropy summed over every token (``reduction='sum'``); with
        one the sum over sentences of ``log Z - score(gold)``.
        """
        logits, _ = self.forward(words, chars)
        gold = torch.cat(list(labels)).to(logits.device)                       # [N]
        if self.crf is None:
            return F.cross_entropy(logits, gold, reduction="sum")
        return self.crf.neg_log_likelihood(logits, [int(w.numel()) for w in words], gold)

    def decode(self, logits: torch.Tensor, lengths: Sequence[int]) -> List[List[int]]:
        """Label indices per sentence from the emissions ``[N, m]``: Viterbi with a CRF,
        else the arg-max of every token (first maximal index on ties)."""
        if self.crf is not None:
            return self.crf.viterbi(logits, lengths)
        best = logits.argmax(dim=1).tolist()
        paths, position = [], 0
        for length in lengths:
            paths.append(best[position:position + length])
            position += length
        return paths

    # ---- configuration as written in model.json -----------------------------------------------

    def configuration(self) -> dict:
        """The ``configuration`` object of dissect's ``model.json`` (format 2) for this model.

        ``input_size`` and ``output_size`` are derived and informational.  Without the char
        CNN the char fields are left out here; ``build_meta``/``save_checkpoint`` add them
        (dissect's decoder expects every field), as dissect writes them.
        """
        cfg = {
            "cell": self.cell,
            "bidirectional": self.bidirectional,
            "hidden_size": self.hidden_size,
            "layers": self.layers,
            "layer_dropout": self.layer_dropout,
            "crf": self.crf is not None,
            **({"layer_hidden_sizes": self.layer_sizes} if len(set(self.layer_sizes)) > 1 else {}),
            "word_embedding_dim": self.word_embedding.embedding_dim,
            "char_cnn": self.use_chars,
            "dropout": self.dropout.p,
            "word_count": self.word_embedding.num_embeddings,
            "label_count": self.hidden2tag.out_features,
            "input_size": self.input_size,
            "output_size": self.output_size,
        }
        if self.use_chars:
            cfg.update(char_count=self.char_embedding.num_embeddings,
                       char_embedding_dim=self.char_embedding.embedding_dim,
                       char_filters=self.char_cnn.out_channels,
                       char_window=self.char_cnn.kernel_size[0])
        return cfg


# --------------------------------------------------------------------------------------------
# Layer-by-layer, step-by-step recurrence (recurrent ablation)
# --------------------------------------------------------------------------------------------

def _cell_step(cell: str, x: torch.Tensor, h: torch.Tensor, c: torch.Tensor,
               w_ih: torch.Tensor, w_hh: torch.Tensor, b_ih: torch.Tensor,
               b_hh: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """One step of torch's cell equations: ``x [D]``, ``h, c [H]`` -> ``(h, c)`` ``[H]``.

    LSTM gates i,f,g,o; GRU r,z,n with ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``;
    RNN ``h = tanh(W_ih x + b_ih + W_hh h + b_hh)``.  ``c`` is only used by the LSTM.
    """
    H = h.numel()
    gi = w_ih @ x + b_ih                                                       # [gates * H]
    gh = w_hh @ h + b_hh
    if cell == "lstm":
        g = gi + gh
        i = torch.sigmoid(g[0:H])
        f = torch.sigmoid(g[H:2 * H])
        candidate = torch.tanh(g[2 * H:3 * H])
        o = torch.sigmoid(g[3 * H:4 * H])
        c = f * c + i * candidate
        return o * torch.tanh(c), c
    if cell == "gru":
        r = torch.sigmoid(gi[0:H] + gh[0:H])
        z = torch.sigmoid(gi[H:2 * H] + gh[H:2 * H])
        candidate = torch.tanh(gi[2 * H:3 * H] + r * gh[2 * H:3 * H])
        return (1 - z) * candidate + z * h, c
    return torch.tanh(gi + gh), c


def layer_outputs(model: Tagger, x: torch.Tensor,
                  ablate: Optional[Mapping[int, Sequence[int]]] = None) -> List[torch.Tensor]:
    """Every recurrent layer's output for ONE sentence, bottom layer first, with dropout off.

    ``x`` ``[T, D]`` is the first layer's input (``model.inputs``); the result is a list of
    ``layers`` tensors ``[T, H_k * directions]`` (``[forward; backward]``; ``H_k`` that layer's size).  Written out step
    by step with torch's equations (no ``layer_dropout``: this is the evaluation-time run).

    ``ablate`` maps a 1-based layer ``K`` to neurons of that layer (``0..H-1`` forward units,
    ``H..2H-1`` backward units ``n - H``): after every step of layer ``K`` those units of
    ``h(t)`` are multiplied by 0, in that step's output and in the state carried to the next
    step (an LSTM's cell state ``c`` is not touched).  Layers above read the ablated outputs.
    """
    ablate = dict(ablate or {})
    for layer, neurons in ablate.items():
        if not 1 <= layer <= model.layers:
            raise ValueError(f"layer {layer} outside 1..{model.layers}")
        width = model.layer_sizes[layer - 1] * model.directions
        for n in neurons:
            if not 0 <= n < width:
                raise ValueError(f"neuron {n} outside 0..{width - 1}")
    outputs = []
    below = x                                                                  # [T, D or n]
    T = x.size(0)
    for layer in range(model.layers):
        H = model.layer_sizes[layer]
        keep = x.new_ones(H * model.directions)                                # [n]
        for n in ablate.get(layer + 1, ()):
            keep[n] = 0.0
        directions = []
        for direction in range(model.directions):
            weights = model.recurrent_weights(layer, direction)
            unit_keep = keep[direction * H:(direction + 1) * H]                # [H]
            h = x.new_zeros(H)
            c = x.new_zeros(H)
            steps = [None] * T
            for t in (range(T - 1, -1, -1) if direction else range(T)):
                h, c = _cell_step(model.cell, below[t], h, c, *weights)
                h = h * unit_keep
                steps[t] = h
            directions.append(torch.stack(steps))                              # [T, H]
        below = torch.cat(directions, dim=1)                                   # [T, n]
        outputs.append(below)
    return outputs


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------

def read_conll(path: str, tag_column: Optional[int] = None) -> List[Tuple[List[str], List[str]]]:
    """Read a CoNLL file into a list of ``(words, labels)`` sentences.

    Columns are split on whitespace; the word is the first column, the label the last one
    or, if given, the 1-based ``tag_column``.  Lines whose first column is ``-DOCSTART-`` are
    skipped; blank lines separate sentences (several blank lines make no empty sentence).
    """
    sentences: List[Tuple[List[str], List[str]]] = []
    words: List[str] = []
    labels: List[str] = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            cols = line.split()
            if not cols:
                if words:
                    sentences.append((words, labels))
                    words, labels = [], []
                continue
            if cols[0] == "-DOCSTART-":
                continue
            if tag_column is None:
                label = cols[-1]
            else:
                if not 1 <= tag_column <= len(cols):
                    raise ValueError(f"{path}:{lineno}: no column {tag_column}")
                label = cols[tag_column - 1]
            words.append(cols[0])
            labels.append(label)
    if words:
        sentences.append((words, labels))
    return sentences


_DIGIT = re.compile(r"\d")


class Lookup:
    """The prediction-time lookup rules of a checkpoint (see ``LOOKUP_TEXT``)."""

    def __init__(self, words: Sequence[str], chars: Sequence[str], unknown_word_index: int = 0,
                 unknown_char_index: int = 0, digits_to_zero: bool = True):
        self.word_index = {w: i for i, w in enumerate(words)}
        self.char_index = {c: i for i, c in enumerate(chars)}
        self.unknown_word_index = unknown_word_index
        self.unknown_char_index = unknown_char_index
        self.digits_to_zero = digits_to_zero

    @classmethod
    def from_meta(cls, meta: dict) -> "Lookup":
        v = meta["vocabulary"]
        return cls(v["words"], v.get("chars", []), meta.get("unknown_word_index", 0),
                   meta.get("unknown_char_index", 0), meta.get("digits_to_zero", True))

    def normalise(self, word: str) -> str:
        return _DIGIT.sub("0", word) if self.digits_to_zero else word

    def word(self, word: str) -> int:
        w = self.normalise(word)
        i = self.word_index.get(w)
        if i is None:
            i = self.word_index.get(w.lower(), self.unknown_word_index)
        return i

    def chars(self, word: str) -> List[int]:
        return [self.char_index.get(c, self.unknown_char_index) for c in self.normalise(word)]


def encode_words(lookup: Lookup, words: Sequence[str]) -> Tuple[torch.Tensor, List[List[int]]]:
    """Word indices ``LongTensor[T]`` and per-word char index lists of one sentence."""
    return (torch.tensor([lookup.word(w) for w in words], dtype=torch.long),
            [lookup.chars(w) for w in words])


@torch.no_grad()
def predict(model: Tagger, meta: dict, sentences: Sequence[Sequence[str]],
            batch_size: int = 64) -> List[List[str]]:
    """Label lists for raw word lists, with dropout off.

    The labels are the Viterbi path when the model has a CRF, else the arg-max of every
    token's logits.  Empty sentences get empty label lists.
    """
    lookup = Lookup.from_meta(meta)
    labels = meta["vocabulary"]["labels"]
    was_training = model.training
    model.eval()
    result: List[List[str]] = [[] for _ in sentences]
    todo = [i for i, s in enumerate(sentences) if len(s) > 0]
    device = model.word_embedding.weight.device
    try:
        for start in range(0, len(todo), batch_size):
            chunk = todo[start:start + batch_size]
            enc = [encode_words(lookup, sentences[i]) for i in chunk]
            logits, _ = model([w.to(device) for w, _ in enc],
                              [c for _, c in enc] if model.use_chars else None)
            paths = model.decode(logits, [len(sentences[i]) for i in chunk])
            for i, path in zip(chunk, paths):
                result[i] = [labels[k] for k in path]
    finally:
        model.train(was_training)
    return result


# --------------------------------------------------------------------------------------------
# safetensors (minimal, no dependency on the `safetensors` package)
# --------------------------------------------------------------------------------------------

_DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8,
    "U8": torch.uint8, "BOOL": torch.bool,
}
_DTYPE_NAMES = {v: k for k, v in _DTYPES.items()}


def read_safetensors(path: str) -> Tuple[Dict[str, torch.Tensor], Dict[str, str]]:
    """Read a safetensors file: ``(tensors by name, __metadata__)``.

    Layout: 8-byte little-endian ``u64`` header length ``N``, ``N`` bytes of JSON header
    (``{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}``,
    offsets relative to the byte after the header), then the little-endian data.
    """
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError(f"{path}: too short for safetensors")
    (n,) = struct.unpack("<Q", blob[:8])
    if 8 + n > len(blob):
        raise ValueError(f"{path}: header length {n} runs past the end of the file")
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    data = memoryview(blob)[8 + n:]
    metadata = header.pop("__metadata__", {}) or {}
    tensors = {}
    for name, info in header.items():
        dtype = _DTYPES.get(info["dtype"])
        if dtype is None:
            raise ValueError(f"{path}: tensor {name}: unsupported dtype {info['dtype']}")
        shape = [int(s) for s in info["shape"]]
        begin, end = (int(x) for x in info["data_offsets"])
        count = math.prod(shape)
        itemsize = torch.empty((), dtype=dtype).element_size()
        if not (0 <= begin <= end <= len(data)) or end - begin != count * itemsize:
            raise ValueError(f"{path}: tensor {name}: bad data_offsets {begin}..{end} "
                             f"for shape {shape} {info['dtype']}")
        if count == 0:
            t = torch.empty(shape, dtype=dtype)
        else:
            t = torch.frombuffer(bytearray(data[begin:end]), dtype=dtype).reshape(shape)
        tensors[name] = t
    return tensors, metadata


def write_safetensors(path: str, tensors: Dict[str, torch.Tensor],
                      metadata: Optional[Dict[str, str]] = None) -> None:
    """Write ``tensors`` (contiguous, little-endian, in sorted name order) as safetensors.

    The header is padded with spaces to a multiple of 8 bytes, as the reference writer does.
    The file is written to a temporary name and renamed into place.
    """
    header: Dict[str, object] = {}
    chunks = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        raw = t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": _DTYPE_NAMES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    head += b" " * (-len(head) % 8)
    _atomic_write(path, struct.pack("<Q", len(head)) + head + b"".join(chunks))


def _atomic_write(path: str, payload: bytes) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)   # mkstemp creates 0600
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# --------------------------------------------------------------------------------------------
# Checkpoints
# --------------------------------------------------------------------------------------------

def build_meta(model: Tagger, words: Sequence[str], chars: Sequence[str], labels: Sequence[str],
               unknown_word_index: int = 0, unknown_char_index: int = 0,
               digits_to_zero: bool = True, training: Optional[dict] = None) -> dict:
    """The ``model.json`` object (format 2) for ``model`` and its vocabularies.

    ``training`` is omitted unless given: dissect reads it as its own ``TrainingRecord``
    (see ``tools/bench_torch.py --save`` for a record with those field names).
    """
    return {
        "format_version": FORMAT_VERSION,
        "configuration": _configuration_for(model, len(chars)),
        "vocabulary": {"words": list(words), "chars": list(chars), "labels": list(labels)},
        "unknown_word_index": unknown_word_index,
        "unknown_char_index": unknown_char_index,
        "digits_to_zero": digits_to_zero,
        "lookup": LOOKUP_TEXT,
        **({"training": training} if training is not None else {}),
    }


def _configuration_for(model: Tagger, char_count: int) -> dict:
    """``model.configuration()`` with the char fields filled in for a model without chars.

    dissect decodes every configuration field, so a model without the char CNN still
    writes ``char_count`` (the char vocabulary's length) and dissect's default char sizes.
    """
    cfg = model.configuration()
    if not model.use_chars:
        cfg.update(char_count=char_count, char_embedding_dim=30, char_filters=50, char_window=3)
    return cfg


V1_NAMES = "lstm."   # format 1 named the recurrent tensors lstm.* whatever the cell


def save_checkpoint(model: Tagger, meta: dict, directory: str,
                    format_version: int = FORMAT_VERSION) -> None:
    """Write ``directory/model.safetensors`` (float32) and ``directory/model.json``.

    ``meta`` is a ``model.json`` object (e.g. from ``build_meta``); its ``configuration`` is
    replaced by the model's own so the two files always agree.  ``format_version=1`` writes
    the old format (one layer, no CRF; tensors ``lstm.*`` also for a GRU, no ``layers``,
    ``layer_dropout``, ``crf``, ``input_size`` or ``output_size`` fields), which dissect
    before issue 14 reads; it exists to test the format-1 reader.
    """
    if format_version not in READABLE_FORMATS:
        raise ValueError(f"cannot write format_version {format_version}")
    os.makedirs(directory, exist_ok=True)
    tensors = {k: v.detach().to(torch.float32) for k, v in model.state_dict().items()}
    meta = dict(meta)
    meta["format_version"] = format_version
    cfg = _configuration_for(model, len(meta.get("vocabulary", {}).get("chars", [])))
    if format_version == 1:
        if model.layers != 1 or model.crf is not None or model.cell == "rnn":
            raise ValueError("format 1 holds only one-layer LSTM/GRU taggers without a CRF")
        for key in ("layers", "layer_dropout", "crf", "input_size", "output_size"):
            del cfg[key]
        prefix = model.cell + "."
        tensors = {(V1_NAMES + k[len(prefix):] if k.startswith(prefix) else k): v
                   for k, v in tensors.items()}
    meta["configuration"] = cfg
    meta.setdefault("lookup", LOOKUP_TEXT)
    write_safetensors(os.path.join(directory, "model.safetensors"), tensors,
                      {"format": "pt", "producer": "dissect tools/dissect_torch.py"})
    _atomic_write(os.path.join(directory, "model.json"),
                  (json.dumps(meta, indent=1, ensure_ascii=False) + "\n").encode("utf-8"))


def _layer_sizes(cfg: dict, layers: int, where: str) -> Optional[List[int]]:
    """``configuration.layer_hidden_sizes`` checked (``layers`` integers >= 1 ending in ``hidden_size``), or None."""
    sizes = cfg.get("layer_hidden_sizes")
    if sizes is None:
        return None
    if (not isinstance(sizes, list) or len(sizes) != layers
            or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in sizes)
            or sizes[-1] != cfg["hidden_size"]):
        raise ValueError(f"{where}: configuration.layer_hidden_sizes must be {layers} integers >= 1 "
                         f"ending in hidden_size {cfg['hidden_size']}, not {sizes!r}")
    return sizes


def _structure(cfg: dict, version: int, where: str) -> Tuple[int, float, bool]:
    """``(layers, layer_dropout, crf)`` of a configuration, checked.

    Format 1 has none of the three fields (one layer, no layer dropout, no CRF); format 2
    must have all three, and its informational ``input_size``/``output_size``, when present,
    must equal the values the other fields imply.
    """
    if version == 1:
        extra = sorted(k for k in ("layers", "layer_dropout", "crf") if k in cfg)
        if extra:
            raise ValueError(f"{where}: format_version 1 has no {', '.join(extra)}")
        return 1, 0.0, False
    missing = [k for k in ("layers", "layer_dropout", "crf") if k not in cfg]
    if missing:
        raise ValueError(f"{where}: configuration lacks {', '.join(missing)}")
    layers, layer_dropout, crf = cfg["layers"], cfg["layer_dropout"], cfg["crf"]
    if isinstance(layers, bool) or not isinstance(layers, int) or layers < 1:
        raise ValueError(f"{where}: configuration.layers must be an integer >= 1, not {layers!r}")
    if (isinstance(layer_dropout, bool) or not isinstance(layer_dropout, (int, float))
            or not 0 <= layer_dropout < 1):
        raise ValueError(f"{where}: configuration.layer_dropout must be in [0, 1), "
                         f"not {layer_dropout!r}")
    if not isinstance(crf, bool):
        raise ValueError(f"{where}: configuration.crf must be true or false, not {crf!r}")
    directions = 2 if cfg.get("bidirectional", False) else 1
    input_size = int(cfg["word_embedding_dim"]) + (
        int(cfg.get("char_filters", 50)) if cfg.get("char_cnn", False) else 0)
    for key, value in (("input_size", input_size),
                       ("output_size", int(cfg["hidden_size"]) * directions)):
        if key in cfg and cfg[key] != value:
            raise ValueError(f"{where}: configuration.{key} is {cfg[key]!r} but the other "
                             f"fields imply {value}")
    return layers, float(layer_dropout), crf


def load_checkpoint(directory: str, dtype: torch.dtype = torch.float32) -> Tuple[Tagger, dict]:
    """Load a dissect checkpoint directory into a ``Tagger`` (eval mode) and its ``model.json``.

    Reads format 2 and format 1.  In format 1 the recurrent tensors are named ``lstm.*`` for
    either cell; they are renamed to the cell's prefix (``gru.*``).  The tensor names and
    shapes must then be exactly those of the model the configuration describes
    (``load_state_dict(strict=True)``).
    """
    with open(os.path.join(directory, "model.json"), encoding="utf-8") as f:
        meta = json.load(f)
    version = meta.get("format_version")
    if isinstance(version, bool) or version not in READABLE_FORMATS:
        raise ValueError(f"{directory}: unsupported format_version {version!r} "
                         f"(this reads {', '.join(map(str, READABLE_FORMATS))})")
    cfg = meta["configuration"]
    vocab = meta["vocabulary"]
    use_chars = bool(cfg.get("char_cnn", False))
    cell = cfg.get("cell", "lstm")
    if cell not in CELLS or (version == 1 and cell == "rnn"):
        raise ValueError(f"{directory}: unknown cell {cell!r} for format_version {version}")
    layers, layer_dropout, crf = _structure(cfg, version, directory)
    for key, listed in (("word_count", "words"), ("char_count", "chars"), ("label_count", "labels")):
        if key == "char_count" and not use_chars:
            continue
        if key in cfg and int(cfg[key]) != len(vocab.get(listed, [])):
            raise ValueError(f"{directory}: configuration.{key} is {cfg[key]} but "
                             f"vocabulary.{listed} has {len(vocab.get(listed, []))} entries")
    model = Tagger(
        words=len(vocab["words"]), labels=len(vocab["labels"]),
        word_dim=int(cfg["word_embedding_dim"]), hidden_size=int(cfg["hidden_size"]),
        cell=cell, bidirectional=bool(cfg.get("bidirectional", False)),
        use_chars=use_chars, chars=len(vocab.get("chars", [])) if use_chars else 0,
        char_dim=int(cfg.get("char_embedding_dim", 30)),
        char_filters=int(cfg.get("char_filters", 50)),
        char_window=int(cfg.get("char_window", 3)),
        dropout=float(cfg.get("dropout", 0.5)),
        layers=layers, layer_dropout=layer_dropout, crf=crf,
        layer_sizes=_layer_sizes(cfg, layers, directory),
    )
    tensors, _ = read_safetensors(os.path.join(directory, "model.safetensors"))
    if version == 1 and cell != "lstm":
        prefix = cell + "."
        tensors = {(prefix + k[len(V1_NAMES):] if k.startswith(V1_NAMES) else k): v
                   for k, v in tensors.items()}
    expected = model.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing or unexpected:
        raise ValueError(f"{directory}: tensors do not match the configuration: "
                         f"missing {missing}, unexpected {unexpected}")
    for name, t in tensors.items():
        if tuple(t.shape) != tuple(expected[name].shape):
            raise ValueError(f"{directory}: {name} has shape {list(t.shape)}, "
                             f"the configuration needs {list(expected[name].shape)}")
    model.load_state_dict({k: v.to(torch.float32) for k, v in tensors.items()}, strict=True)
    model.to(dtype)
    model.eval()
    return model, meta


# --------------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------------

def token_accuracy(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> float:
    """Fraction of tokens whose predicted label equals the gold label."""
    right = total = 0
    for g, p in zip(gold, pred, strict=True):
        if len(g) != len(p):
            raise ValueError("gold and predicted sentences differ in length")
        right += sum(a == b for a, b in zip(g, p))
        total += len(g)
    return right / total if total else 0.0


def _split_tag(label: str) -> Tuple[str, str]:
    # conlleval: /^([^-]*)-(.*)$/  -> prefix before the first '-', type after it
    if "-" in label:
        prefix, _, kind = label.partition("-")
        return prefix, kind
    return label, ""


def _end_of_chunk(prev_tag, tag, prev_type, kind) -> bool:
    end = ((prev_tag == "B" and tag in ("B", "O")) or (prev_tag == "I" and tag in ("B", "O"))
           or (prev_tag == "E" and tag in ("E", "I", "O")))
    if prev_tag not in ("O", ".") and prev_type != kind:
        end = True
    if prev_tag in ("]", "["):
        end = True
    return end


def _start_of_chunk(prev_tag, tag, prev_type, kind) -> bool:
    start = ((prev_tag in ("B", "I", "O") and tag == "B") or (prev_tag == "O" and tag in ("I", "E"))
             or (prev_tag == "E" and tag in ("E", "I")))
    if tag not in ("O", ".") and prev_type != kind:
        start = True
    if tag in ("[", "]"):
        start = True
    return start


def conlleval(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict:
    """Chunk precision/recall/F1 (in %) and token accuracy exactly as ``conlleval.pl``.

    A chunk starts at a B-X, or at an I-X that follows O or a tag of another type (IOB1 and
    IOB2 are both read this way); it ends where the next tag does not continue it.  A
    predicted chunk is correct when it has the gold chunk's boundaries and type.  Sentence
    breaks close every chunk.  Returns a dict with ``tokens``, ``gold_chunks``,
    ``found_chunks``, ``correct_chunks``, ``accuracy``, ``precision``, ``recall``, ``f1`` and
    ``per_type`` (``{type: {"precision", "recall", "f1", "found"}}``).
    """
    found_correct = found_guessed = correct_chunks = correct_tags = tokens = 0
    per_gold: Dict[str, int] = {}
    per_found: Dict[str, int] = {}
    per_right: Dict[str, int] = {}

    def sequence():
        for g, p in zip(gold, pred, strict=True):
            if len(g) != len(p):
                raise ValueError("gold and predicted sentences differ in length")
            for a, b in zip(g, p):
                yield False, a, b
            yield True, "O", "O"   # sentence boundary, as conlleval's "-X- O O"

    in_correct = False
    last_c, last_g, last_ct, last_gt = "O", "O", "", ""
    for boundary, gl, pl in sequence():
        c, ct = _split_tag(gl)
        g, gt = _split_tag(pl)
        if boundary:
            g = "O"
        end_c = _end_of_chunk(last_c, c, last_ct, ct)
        end_g = _end_of_chunk(last_g, g, last_gt, gt)
        if in_correct:
            if end_c and end_g and last_gt == last_ct:
                in_correct = False
                correct_chunks += 1
                per_right[last_ct] = per_right.get(last_ct, 0) + 1
            elif end_c != end_g or gt != ct:
                in_correct = False
        start_c = _start_of_chunk(last_c, c, last_ct, ct)
        start_g = _start_of_chunk(last_g, g, last_gt, gt)
        if start_c and start_g and gt == ct:
            in_correct = True
        if start_c:
            found_correct += 1
            per_gold[ct] = per_gold.get(ct, 0) + 1
        if start_g:
            found_guessed += 1
            per_found[gt] = per_found.get(gt, 0) + 1
        if not boundary:
            if c == g and gt == ct:
                correct_tags += 1
            tokens += 1
        last_c, last_g, last_ct, last_gt = c, g, ct, gt
    if in_correct:
        correct_chunks += 1
        per_right[last_ct] = per_right.get(last_ct, 0) + 1

    def prf(right, found, total):
        p = 100.0 * right / found if found > 0 else 0.0
        r = 100.0 * right / total if total > 0 else 0.0
        f = 2 * p * r / (p + r) if p + r > 0 else 0.0
        return p, r, f

    p, r, f = prf(correct_chunks, found_guessed, found_correct)
    per_type = {}
    for kind in sorted(set(per_gold) | set(per_found)):
        tp, tr, tf = prf(per_right.get(kind, 0), per_found.get(kind, 0), per_gold.get(kind, 0))
        per_type[kind] = {"precision": tp, "recall": tr, "f1": tf, "found": per_found.get(kind, 0)}
    return {
        "tokens": tokens, "gold_chunks": found_correct, "found_chunks": found_guessed,
        "correct_chunks": correct_chunks,
        "accuracy": 100.0 * correct_tags / tokens if tokens else 0.0,
        "precision": p, "recall": r, "f1": f, "per_type": per_type,
    }


def _ncrfpp_bio_chunks(labels: Sequence[str]) -> List[Tuple[int, int, str]]:
    """Chunks ``(start, end, TYPE)`` as NCRF++'s BIO reader finds them.

    Labels are compared upper-cased.  A label containing ``B-`` opens a chunk of the type
    after it (closing any open chunk); a label containing ``I-`` continues the open chunk if
    its type is the open chunk's type, otherwise it closes the open chunk and is itself
    dropped (it opens nothing); any other label closes the open chunk.
    """
    chunks = []
    start, kind = -1, ""
    for i, raw in enumerate(labels):
        label = raw.upper()
        if "B-" in label:
            if kind:
                chunks.append((start, i - 1, kind))
            start, kind = i, label.replace("B-", "", 1)
        elif "I-" in label and label.replace("I-", "", 1) == kind and kind:
            continue
        else:
            if kind:
                chunks.append((start, i - 1, kind))
            start, kind = -1, ""
    if kind:
        chunks.append((start, len(labels) - 1, kind))
    return chunks


def ncrfpp_fmeasure(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict:
    """Token accuracy and chunk P/R/F1 (fractions in [0, 1]) as NCRF++ reports them for BIO.

    Unlike conlleval, an I-X that does not continue an open X chunk is dropped rather than
    starting a chunk.  As in NCRF++, a precision or recall with an empty denominator (and an
    F1 from a non-positive P+R) is reported as -1.
    """
    gold_n = pred_n = right_n = 0
    right_tags = all_tags = 0
    for g, p in zip(gold, pred, strict=True):
        if len(g) != len(p):
            raise ValueError("gold and predicted sentences differ in length")
        right_tags += sum(a == b for a, b in zip(g, p))
        all_tags += len(g)
        gc, pc = _ncrfpp_bio_chunks(g), _ncrfpp_bio_chunks(p)
        gold_n += len(gc)
        pred_n += len(pc)
        right_n += len(set(gc) & set(pc))
    precision = right_n / pred_n if pred_n else -1.0
    recall = right_n / gold_n if gold_n else -1.0
    if precision == -1 or recall == -1 or precision + recall <= 0:
        f1 = -1.0
    else:
        f1 = 2 * precision * recall / (precision + recall)
    return {"accuracy": right_tags / all_tags if all_tags else 0.0, "precision": precision,
            "recall": recall, "f1": f1, "gold_chunks": gold_n, "found_chunks": pred_n,
            "correct_chunks": right_n}


# --------------------------------------------------------------------------------------------
# Self-test (python3 tools/dissect_torch.py --selftest)
# --------------------------------------------------------------------------------------------

@torch.no_grad()
def _brute_force_crf(crf: CRF, emissions: torch.Tensor) -> Tuple[float, List[int], float]:
    """``(log Z, best path, margin to the second-best path)`` of one sentence ``[T, m]``
    by enumerating all ``m ** T`` paths with the path-score formula written out."""
    T, m = emissions.shape
    trans = crf.transitions
    scores = []
    for path in itertools.product(range(m), repeat=T):
        s = trans[crf.start, path[0]] + trans[path[-1], crf.stop]
        s = s + sum(emissions[t, path[t]] for t in range(T))
        s = s + sum(trans[path[t - 1], path[t]] for t in range(1, T))
        scores.append((float(s), list(path)))
    values = torch.tensor([s for s, _ in scores], dtype=torch.float64)
    order = sorted(range(len(scores)), key=lambda k: -scores[k][0])   # stable: first path on ties
    margin = scores[order[0]][0] - scores[order[1]][0] if len(order) > 1 else math.inf
    return float(torch.logsumexp(values, 0)), scores[order[0]][1], margin


def _selftest_crf() -> None:
    """The CRF's forward algorithm, gold score and Viterbi against brute force, in float64."""
    gen = torch.Generator().manual_seed(3)
    m = 3
    crf = CRF(m).double()
    with torch.no_grad():
        crf.transitions.copy_(torch.rand(m + 2, m + 2, generator=gen, dtype=torch.float64) - 0.5)
        crf.reset_fixed_()
    lengths = [3, 1, 4]
    emissions = torch.randn(sum(lengths), m, generator=gen, dtype=torch.float64)
    labels = torch.randint(0, m, (sum(lengths),), generator=gen)
    with torch.no_grad():
        log_z = crf.log_partition(emissions, lengths)                         # [B]
        gold = crf.path_score(emissions, lengths, labels)                     # [B]
    paths = crf.viterbi(emissions, lengths)
    position = 0
    for b, length in enumerate(lengths):
        e = emissions[position:position + length]
        y = labels[position:position + length].tolist()
        brute_z, brute_path, margin = _brute_force_crf(crf, e)
        assert abs(brute_z - float(log_z[b])) < 1e-12, (brute_z, float(log_z[b]))
        assert margin > 1e-9 and paths[b] == brute_path, (paths[b], brute_path, margin)
        trans = crf.transitions.detach()
        s = trans[crf.start, y[0]] + trans[y[-1], crf.stop]
        s = s + sum(e[t, y[t]] for t in range(length)) + sum(
            trans[y[t - 1], y[t]] for t in range(1, length))
        assert abs(float(s) - float(gold[b])) < 1e-12
        position += length
    # the fixed column START / row STOP get an exact zero gradient
    crf.neg_log_likelihood(emissions, lengths, labels).backward()
    grad = crf.transitions.grad
    assert torch.all(grad[:, crf.start] == 0) and torch.all(grad[crf.stop, :] == 0)
    # ties go to the lowest index: all-equal scores decode to label 0 everywhere
    flat_crf = CRF(m).double()
    assert flat_crf.viterbi(torch.zeros(5, m, dtype=torch.float64), [3, 2]) == [[0] * 3, [0] * 2]
    # a tie at the last step only: emissions prefer labels 1 and 2 equally
    tie = torch.tensor([[0.0, 1.0, 1.0]], dtype=torch.float64)
    assert flat_crf.viterbi(tie, [1]) == [[1]]


def _selftest_layers() -> None:
    """``layer_outputs`` (step by step) against torch's stacked modules, and what an
    ablation may and may not change."""
    gen = torch.Generator().manual_seed(5)
    for cell, bi in [("lstm", True), ("gru", False), ("rnn", True)]:
        model = Tagger(7, 4, 3, 2, cell=cell, bidirectional=bi, use_chars=False,
                       layers=3, dropout=0.0).double().eval()
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(torch.rand(p.shape, generator=gen, dtype=torch.float64) - 0.5)
        words = torch.tensor([1, 5, 2, 6])
        _, hidden = model([words])
        x = model.inputs([words])
        outputs = layer_outputs(model, x)
        assert len(outputs) == 3 and (outputs[-1] - hidden).abs().max() < 1e-12, cell
        # ablating a unit of the top layer zeroes its column and changes nothing below
        ablated = layer_outputs(model, x, {3: [1]})
        assert torch.all(ablated[2][:, 1] == 0) and torch.equal(ablated[1], outputs[1])
        if bi:   # ... nor the other direction of that layer
            assert torch.equal(ablated[2][:, 2:], outputs[2][:, 2:])
        assert not torch.equal(ablated[2][:, 0], outputs[2][:, 0])   # it feeds the recurrence


def _selftest() -> None:
    """Round-trip random checkpoints (both formats) and check the CRF and the scorers."""
    torch.manual_seed(0)
    words = ["</unk>", "EU", "rejects", "german", "0.0", "call"]
    chars = ["</unk>"] + sorted(set("".join(words[1:])))
    labels = ["O", "B-ORG", "I-ORG", "B-MISC"]
    kinds = [
        dict(cell="lstm", bidirectional=False, use_chars=True),
        dict(cell="gru", bidirectional=True, use_chars=True),
        dict(cell="lstm", bidirectional=True, use_chars=False),
        dict(cell="rnn", bidirectional=True, use_chars=True, layers=2, layer_dropout=0.3),
        dict(cell="gru", bidirectional=False, use_chars=True, layers=3),
        dict(cell="lstm", bidirectional=True, use_chars=True, crf=True),
        dict(cell="lstm", bidirectional=True, use_chars=True, layers=2, crf=True),
    ]
    sentence = ["EU", "Rejects", "German", "9.5", "calls", "Call"]
    for kind in kinds:
        model = Tagger(len(words), len(labels), 4, 3, chars=len(chars), char_dim=3,
                       char_filters=5, **kind)
        if model.crf is not None:
            with torch.no_grad():
                model.crf.transitions.uniform_(-1, 1)
                model.crf.reset_fixed_()
        meta = build_meta(model, words, chars, labels)
        versions = [2] + ([1] if model.layers == 1 and model.crf is None and kind["cell"] != "rnn"
                          else [])
        for version in versions:
            with tempfile.TemporaryDirectory() as d:
                save_checkpoint(model, meta, d, format_version=version)
                tensor_names = set(read_safetensors(os.path.join(d, "model.safetensors"))[0])
                loaded, meta2 = load_checkpoint(d)
            prefix = "lstm." if version == 1 else kind["cell"] + "."
            assert any(n.startswith(prefix + "weight_ih_l0") for n in tensor_names), tensor_names
            assert (f"{prefix}weight_hh_l{model.layers - 1}" in tensor_names), tensor_names
            for k, v in model.state_dict().items():
                assert torch.equal(v, loaded.state_dict()[k]), k
            assert meta2["format_version"] == version
            if version == 2:
                assert meta2["configuration"] == _configuration_for(model, len(chars))
            lookup = Lookup.from_meta(meta2)
            assert [lookup.word(w) for w in sentence] == [1, 2, 3, 4, 0, 5]
            assert predict(model, meta, [sentence, []]) == predict(loaded, meta2, [sentence, []])
    _selftest_crf()
    _selftest_layers()
    gold = [["B-PER", "I-PER", "O", "B-LOC", "I-LOC", "O"]]
    pred = [["B-PER", "I-PER", "O", "I-LOC", "I-LOC", "O"]]
    ce, nc = conlleval(gold, pred), ncrfpp_fmeasure(gold, pred)
    assert (ce["found_chunks"], ce["correct_chunks"]) == (2, 2), ce     # I-LOC after O starts a chunk
    assert (nc["found_chunks"], nc["correct_chunks"]) == (1, 1), nc     # ... NCRF++ drops it
    pred = [["B-PER", "I-LOC", "O", "B-LOC", "I-LOC", "I-PER"]]
    ce, nc = conlleval(gold, pred), ncrfpp_fmeasure(gold, pred)
    assert (ce["found_chunks"], ce["correct_chunks"]) == (4, 1), ce
    assert (nc["found_chunks"], nc["correct_chunks"]) == (2, 1), nc
    print("dissect_torch self-test passed")


if __name__ == "__main__":
    import argparse

    _ap = argparse.ArgumentParser(
        description="PyTorch reference of dissect's tagger (a module: import it from tools/). "
                    "Run with --selftest to round-trip checkpoints (formats 1 and 2), check the "
                    "CRF against brute force and the scorers.")
    _ap.add_argument("--selftest", action="store_true", help="run the self-test")
    if _ap.parse_args().selftest:
        torch.set_num_threads(1)
        _selftest()
    else:
        _ap.print_help()
