#!/usr/bin/env python3
"""Fixtures for `dissect import`: PyTorch taggers of a user's own shape, exported by export_to_dissect.py,
with PyTorch's own predictions on a small CoNLL file (torch + safetensors; run on a developer machine).

    python3 tools/make_import_fixtures.py      # writes Tests/DissectCLITests/Fixtures/import/

Each kind pairs every factor with every other at least once: LSTM, GRU, RNN; 1 and 2 layers; uni and bi;
with and without a char CNN; softmax and CRF (both transition layouts); exact and lower-casing lookup.
The tagger here is written as a user would write it (its own names: embed, encoder, proj, char_emb,
char_conv, crf) with its own forward and decoding, independent of dissect's tools/dissect_torch.py.
A Swift test imports each, runs `dissect evaluate --predictions`, and needs every token's label to equal
PyTorch's.
"""
import json
import os
import re
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_to_dissect import export  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "DissectCLITests", "Fixtures", "import")
LABELS = ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]
SENTENCES = [
    [("Anna", "B-PER"), ("visited", "O"), ("Paris", "B-LOC"), ("in", "O"), ("1999", "O")],
    [("The", "O"), ("New", "B-LOC"), ("York", "I-LOC"), ("office", "O"), ("of", "O"), ("Anna", "B-PER"), ("Smith", "I-PER")],
    [("paris", "B-LOC"), ("and", "O"), ("london", "B-LOC"), ("!", "O")],
    [("Zork", "O")],
    [("Smith", "B-PER"), ("met", "O"), ("Anna", "B-PER"), ("in", "O"), ("London", "B-LOC"), ("on", "O"), ("May", "O"), ("3", "O")],
]

# (name, cell, layers, bidirectional, chars, crf layout or None, lowercase)
KINDS = [
    ("lstm-1-uni-plain-softmax-exact", "lstm", 1, False, False, None, False),
    ("lstm-2-bi-chars-crf-exact", "lstm", 2, True, True, "full", False),
    ("gru-1-bi-plain-crf-lower", "gru", 1, True, False, "pytorch-crf", True),
    ("gru-2-uni-chars-softmax-exact", "gru", 2, False, True, None, False),
    ("rnn-1-bi-chars-softmax-lower", "rnn", 1, True, True, None, True),
    ("rnn-2-uni-plain-crf-exact", "rnn", 2, False, False, "pytorch-crf", False),
]


def normalise(word):
    return re.sub(r"[0-9]", "0", word)


class PytorchCRF(torch.nn.Module):
    """pytorch-crf's parameters: transitions[from, to], start and end scores."""
    def __init__(self, m):
        super().__init__()
        self.transitions = torch.nn.Parameter(torch.randn(m, m))
        self.start_transitions = torch.nn.Parameter(torch.randn(m))
        self.end_transitions = torch.nn.Parameter(torch.randn(m))

    def parts(self):
        return self.transitions, self.start_transitions, self.end_transitions


class FullCRF(torch.nn.Module):
    """NCRF++'s layout: [m + 2]^2 with START = m, STOP = m + 1."""
    def __init__(self, m):
        super().__init__()
        self.m = m
        self.transitions = torch.nn.Parameter(torch.randn(m + 2, m + 2))

    def parts(self):
        m = self.m
        return self.transitions[:m, :m], self.transitions[m, :m], self.transitions[:m, m + 1]


class UserTagger(torch.nn.Module):
    def __init__(self, words, chars, cell, layers, bidirectional, use_chars, crf, hidden=4, word_dim=5, char_dim=3, filters=4):
        super().__init__()
        self.use_chars = use_chars
        self.embed = torch.nn.Embedding(len(words), word_dim)
        if use_chars:
            self.char_emb = torch.nn.Embedding(len(chars), char_dim)
            self.char_conv = torch.nn.Conv1d(char_dim, filters, kernel_size=3, padding=1)
        rnn = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[cell]
        self.encoder = rnn(word_dim + (filters if use_chars else 0), hidden, num_layers=layers, bidirectional=bidirectional, batch_first=True)
        self.proj = torch.nn.Linear(hidden * (2 if bidirectional else 1), len(LABELS))
        self.crf = {"full": FullCRF, "pytorch-crf": PytorchCRF}[crf](len(LABELS)) if crf else None

    def scores(self, word_ids, char_ids):
        x = self.embed(torch.tensor(word_ids))
        if self.use_chars:
            features = []
            for ids in char_ids:  # each word's own characters, padded only by the convolution
                e = self.char_emb(torch.tensor(ids)).t().unsqueeze(0)
                features.append(self.char_conv(e).max(dim=2).values.squeeze(0))
            x = torch.cat([x, torch.stack(features)], dim=1)
        out, _ = self.encoder(x.unsqueeze(0))
        return self.proj(out.squeeze(0))

    def decode(self, emissions):
        if self.crf is None:
            return emissions.argmax(dim=1).tolist()
        transitions, start, end = self.crf.parts()
        score, back = start + emissions[0], []
        for t in range(1, emissions.shape[0]):
            total = score.unsqueeze(1) + transitions
            best, index = total.max(dim=0)
            back.append(index)
            score = best + emissions[t]
        score = score + end
        path = [int(score.argmax())]
        for index in reversed(back):
            path.append(int(index[path[-1]]))
        return list(reversed(path))


def main():
    torch.manual_seed(2026)
    sentences_text = "".join("".join(f"{w} {l}\n" for w, l in s) + "\n" for s in SENTENCES)
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "data.conll"), "w") as handle:
        handle.write(sentences_text)
    cased = ["<unk>", "Anna", "visited", "Paris", "in", "0000", "The", "New", "York", "office", "of", "Smith", "and", "london", "!", "met", "London", "on", "May"]
    # "Z" is left out so that "Zork" has a character the char vocabulary lacks.
    chars = ["<unk>"] + sorted({c for w, _ in sum(SENTENCES, []) for c in normalise(w)} - {"Z"})
    for name, cell, layers, bidirectional, use_chars, crf, lowercase in KINDS:
        words = sorted({w.lower() for w in cased if w != "<unk>"}) if lowercase else cased[1:]
        words = ["<unk>"] + [w for w in words if w != "<unk>"]
        model = UserTagger(words, chars, cell, layers, bidirectional, use_chars, crf).eval()
        with torch.no_grad():  # larger weights than the default init, so the predictions vary from token to token
            for parameter in model.parameters():
                parameter.mul_(2.5)
        index = {w: i for i, w in enumerate(words)}
        char_index = {c: i for i, c in enumerate(chars)}
        predictions = []
        with torch.no_grad():
            for sentence in SENTENCES:
                forms = [normalise(w) for w, _ in sentence]
                word_ids = [index.get(f.lower() if lowercase else f, 0) for f in forms]
                char_ids = [[char_index.get(c, 0) for c in f] for f in forms]
                predictions.append([LABELS[j] for j in model.decode(model.scores(word_ids, char_ids))])
        directory = os.path.join(OUT, name)
        export(model, directory, words=words, labels=LABELS, chars=chars if use_chars else None, embedding="embed",
               recurrent="encoder", output="proj", crf="crf" if crf else None,
               char_embedding="char_emb" if use_chars else None, char_cnn="char_conv" if use_chars else None,
               lowercase=lowercase, digits_to_zero=True, unknown_word="<unk>", unknown_char="<unk>")
        with open(os.path.join(directory, "predictions.txt"), "w") as handle:
            handle.write("".join("".join(label + "\n" for label in p) + "\n" for p in predictions))
        print(name, [" ".join(p) for p in predictions])
    return 0


if __name__ == "__main__":
    sys.exit(main())
