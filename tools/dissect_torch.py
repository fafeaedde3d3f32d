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
* ``x[t] = cat(x_w[t], charfeat[t])`` -> dropout -> ``lstm`` (``nn.LSTM`` or
  ``nn.GRU``, one layer, ``batch_first``, optionally bidirectional; the module
  is named ``lstm`` for both cells) -> ``h[t]`` -> dropout -> ``hidden2tag``
  (``nn.Linear``) -> logits;
* the loss is the cross-entropy summed over every token of the batch.

Public API
----------
``Tagger``                  the ``nn.Module`` (parameter names as in dissect's checkpoints)
``read_conll``              read a CoNLL file into ``[(words, labels), ...]``
``Lookup``/``encode_words`` the prediction-time word and char lookup rules
``predict``                 label lists for raw word lists
``load_checkpoint``         ``DIR/model.safetensors`` + ``DIR/model.json`` -> ``(model, meta)``
``save_checkpoint``         the inverse (float32 safetensors, written without the ``safetensors`` package)
``read_safetensors``/``write_safetensors``  the minimal safetensors codec
``conlleval``               chunk F1 computed exactly as ``conlleval.pl``
``ncrfpp_fmeasure``         chunk F1 computed as NCRF++'s ``get_ner_fmeasure`` with BIO labels
"""

from __future__ import annotations

import json
import math
import os
import re
import struct
import tempfile
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

__all__ = [
    "Tagger", "read_conll", "Lookup", "encode_words", "predict",
    "load_checkpoint", "save_checkpoint", "read_safetensors", "write_safetensors",
    "conlleval", "ncrfpp_fmeasure", "token_accuracy", "build_meta",
]

FORMAT_VERSION = 1

LOOKUP_TEXT = (
    "word: if digits_to_zero, replace every Unicode decimal digit (Python re \\d) by '0'; "
    "then the word as written if it is in vocabulary.words, else its lower case (Python str.lower()) "
    "if that is in vocabulary.words, else unknown_word_index. "
    "chars: the Unicode code points of the normalised word (after the digit rule, before lower-casing), "
    "each looked up in vocabulary.chars, else unknown_char_index."
)


# --------------------------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------------------------

class Tagger(nn.Module):
    """The word(+char CNN) -> (Bi)LSTM/GRU -> linear tagger.

    Args:
        words: vocabulary size ``V``.
        labels: number of labels ``m``.
        word_dim: ``Dw``.
        hidden_size: ``H`` (per direction).
        cell: ``"lstm"`` or ``"gru"``.
        bidirectional: use a bidirectional recurrent layer (output ``[forward; backward]``).
        use_chars: use the char CNN (otherwise there are no ``char_*`` parameters).
        chars: char vocabulary size ``C``.
        char_dim: ``Dc``.
        char_filters: ``F``.
        char_window: the convolution width (odd; padding ``window // 2``; dissect uses 3).
        dropout: the dropout probability used at the three dropout sites.
    """

    def __init__(self, words: int, labels: int, word_dim: int, hidden_size: int,
                 cell: str = "lstm", bidirectional: bool = False, use_chars: bool = True,
                 chars: int = 0, char_dim: int = 30, char_filters: int = 50,
                 char_window: int = 3, dropout: float = 0.5):
        super().__init__()
        if cell not in ("lstm", "gru"):
            raise ValueError(f"cell must be 'lstm' or 'gru', not {cell!r}")
        if use_chars and char_window % 2 != 1:
            raise ValueError(f"char_window must be odd, not {char_window}")
        self.cell = cell
        self.bidirectional = bool(bidirectional)
        self.use_chars = bool(use_chars)
        self.hidden_size = hidden_size
        self.word_embedding = nn.Embedding(words, word_dim)
        input_dim = word_dim
        if self.use_chars:
            self.char_embedding = nn.Embedding(chars, char_dim)
            self.char_cnn = nn.Conv1d(char_dim, char_filters, kernel_size=char_window,
                                      padding=char_window // 2)
            input_dim += char_filters
        rnn = nn.LSTM if cell == "lstm" else nn.GRU
        self.lstm = rnn(input_dim, hidden_size, num_layers=1, batch_first=True,
                        bidirectional=self.bidirectional)
        out_dim = hidden_size * (2 if self.bidirectional else 1)
        self.dropout = nn.Dropout(dropout)
        self.hidden2tag = nn.Linear(out_dim, labels)

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

    def forward(self, words: Sequence[torch.Tensor],
                chars: Optional[Sequence[Sequence[Sequence[int]]]] = None
                ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Run a batch.

        Args:
            words: one ``LongTensor[T_i]`` of word indices per sentence (``T_i >= 1``).
            chars: per sentence, per word, its list of char indices (``None`` without chars).

        Returns:
            ``(logits [N, m], hidden [N, H or 2H])`` for all ``N`` tokens, the sentences
            concatenated in order.  ``hidden`` is the recurrent output before the output dropout.
        """
        lengths = [int(w.numel()) for w in words]
        x = self.word_embedding(torch.cat(list(words)))
        if self.use_chars:
            if chars is None:
                raise ValueError("this model needs chars")
            flat = [c for sentence in chars for c in sentence]
            x = torch.cat([x, self.char_features(flat)], dim=1)
        x = self.dropout(x)
        padded = pad_sequence(list(torch.split(x, lengths)), batch_first=True)   # [B, T, D]
        packed = pack_padded_sequence(padded, torch.tensor(lengths), batch_first=True,
                                      enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=padded.size(1))
        T = out.size(1)
        index = torch.cat([torch.arange(l) + b * T for b, l in enumerate(lengths)])
        hidden = out.reshape(-1, out.size(2)).index_select(0, index.to(out.device))
        logits = self.hidden2tag(self.dropout(hidden))
        return logits, hidden

    def loss(self, words, chars, labels: Sequence[torch.Tensor]) -> torch.Tensor:
        """Cross-entropy summed over every token of the batch (``reduction='sum'``)."""
        logits, _ = self.forward(words, chars)
        return F.cross_entropy(logits, torch.cat(list(labels)).to(logits.device), reduction="sum")

    # ---- configuration as written in model.json -----------------------------------------------

    def configuration(self) -> dict:
        """The ``configuration`` object of dissect's ``model.json`` for this model."""
        cfg = {
            "cell": self.cell,
            "bidirectional": self.bidirectional,
            "hidden_size": self.hidden_size,
            "word_embedding_dim": self.word_embedding.embedding_dim,
            "char_cnn": self.use_chars,
            "dropout": self.dropout.p,
            "word_count": self.word_embedding.num_embeddings,
            "label_count": self.hidden2tag.out_features,
        }
        if self.use_chars:
            cfg.update(char_count=self.char_embedding.num_embeddings,
                   char_embedding_dim=self.char_embedding.embedding_dim,
                       char_filters=self.char_cnn.out_channels,
                       char_window=self.char_cnn.kernel_size[0])
        return cfg


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
    """Label lists (arg-max of the logits) for raw word lists, with dropout off.

    Empty sentences get empty label lists.
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
            best = logits.argmax(dim=1).tolist()
            pos = 0
            for i in chunk:
                n = len(sentences[i])
                result[i] = [labels[k] for k in best[pos:pos + n]]
                pos += n
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
    """The ``model.json`` object for ``model`` and its vocabularies.

    ``training`` is omitted unless given: dissect reads it as its own ``TrainingRecord``
    (see ``tools/bench_torch.py --save`` for a record with those field names).
    """
    return {
        "format_version": FORMAT_VERSION,
        "configuration": model.configuration(),
        "vocabulary": {"words": list(words), "chars": list(chars), "labels": list(labels)},
        "unknown_word_index": unknown_word_index,
        "unknown_char_index": unknown_char_index,
        "digits_to_zero": digits_to_zero,
        "lookup": LOOKUP_TEXT,
        **({"training": training} if training is not None else {}),
    }


def save_checkpoint(model: Tagger, meta: dict, directory: str) -> None:
    """Write ``directory/model.safetensors`` (float32) and ``directory/model.json``.

    ``meta`` is a ``model.json`` object (e.g. from ``build_meta``); its ``configuration`` is
    replaced by the model's own so the two files always agree.
    """
    os.makedirs(directory, exist_ok=True)
    tensors = {k: v.detach().to(torch.float32) for k, v in model.state_dict().items()}
    meta = dict(meta)
    meta.setdefault("format_version", FORMAT_VERSION)
    meta["configuration"] = model.configuration()
    meta.setdefault("lookup", LOOKUP_TEXT)
    write_safetensors(os.path.join(directory, "model.safetensors"), tensors,
                      {"format": "pt", "producer": "dissect tools/dissect_torch.py"})
    _atomic_write(os.path.join(directory, "model.json"),
                  (json.dumps(meta, indent=1, ensure_ascii=False) + "\n").encode("utf-8"))


def load_checkpoint(directory: str, dtype: torch.dtype = torch.float32) -> Tuple[Tagger, dict]:
    """Load a dissect checkpoint directory into a ``Tagger`` (eval mode) and its ``model.json``.

    The tensor names and shapes must be exactly those of the model the configuration
    describes (``load_state_dict(strict=True)``).
    """
    with open(os.path.join(directory, "model.json"), encoding="utf-8") as f:
        meta = json.load(f)
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(f"{directory}: unsupported format_version {version!r}")
    cfg = meta["configuration"]
    vocab = meta["vocabulary"]
    use_chars = bool(cfg.get("char_cnn", False))
    for key, listed in (("word_count", "words"), ("char_count", "chars"), ("label_count", "labels")):
        if key in cfg and int(cfg[key]) != len(vocab.get(listed, [])):
            raise ValueError(f"{directory}: configuration.{key} is {cfg[key]} but "
                             f"vocabulary.{listed} has {len(vocab.get(listed, []))} entries")
    model = Tagger(
        words=len(vocab["words"]), labels=len(vocab["labels"]),
        word_dim=int(cfg["word_embedding_dim"]), hidden_size=int(cfg["hidden_size"]),
        cell=cfg.get("cell", "lstm"), bidirectional=bool(cfg.get("bidirectional", False)),
        use_chars=use_chars, chars=len(vocab.get("chars", [])) if use_chars else 0,
        char_dim=int(cfg.get("char_embedding_dim", 30)),
        char_filters=int(cfg.get("char_filters", 50)),
        char_window=int(cfg.get("char_window", 3)),
        dropout=float(cfg.get("dropout", 0.5)),
    )
    tensors, _ = read_safetensors(os.path.join(directory, "model.safetensors"))
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

def _selftest() -> None:
    """Round-trip a random checkpoint and check the scorers on hand-made cases."""
    torch.manual_seed(0)
    words = ["</unk>", "EU", "rejects", "german", "0.0", "call"]
    chars = ["</unk>"] + sorted(set("".join(words[1:])))
    labels = ["O", "B-ORG", "I-ORG", "B-MISC"]
    for cell, bi, use_chars in [("lstm", False, True), ("gru", True, True), ("lstm", True, False)]:
        model = Tagger(len(words), len(labels), 4, 3, cell=cell, bidirectional=bi,
                       use_chars=use_chars, chars=len(chars), char_dim=3, char_filters=5)
        meta = build_meta(model, words, chars, labels)
        with tempfile.TemporaryDirectory() as d:
            save_checkpoint(model, meta, d)
            loaded, meta2 = load_checkpoint(d)
        for k, v in model.state_dict().items():
            assert torch.equal(v, loaded.state_dict()[k]), k
        assert meta2["configuration"] == model.configuration()
        sentence = ["EU", "Rejects", "German", "9.5", "calls", "Call"]
        lookup = Lookup.from_meta(meta2)
        assert [lookup.word(w) for w in sentence] == [1, 2, 3, 4, 0, 5]
        assert predict(model, meta, [sentence, []]) == predict(loaded, meta2, [sentence, []])
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
                    "Run with --selftest to round-trip checkpoints and check the scorers.")
    _ap.add_argument("--selftest", action="store_true", help="run the self-test")
    if _ap.parse_args().selftest:
        _selftest()
    else:
        _ap.print_help()
