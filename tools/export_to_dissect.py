#!/usr/bin/env python3
"""Export a live PyTorch tagger to the two files `dissect import` reads (torch + safetensors only).

    from export_to_dissect import export
    export(model, "exported", words=vocab, labels=tags, embedding="embed", recurrent="encoder",
           output="proj", crf="crf", char_embedding="char_emb", char_cnn="char_conv",
           lowercase=False, digits_to_zero=True, unknown_word="<unk>", unknown_char="<unk>")
    # then:  dissect import --safetensors exported/state.safetensors --mapping exported/mapping.json --out DIR
    # (or pass dissect="path/to/dissect" and it runs that for you, into exported/model)

The model must have the shape embedding(s) -> nn.LSTM / nn.GRU / nn.RNN (tanh) -> nn.Linear (-> CRF):
  * `embedding`: an nn.Embedding of the words, row i = words[i];
  * `recurrent`: the recurrent module (any num_layers, bidirectional or not, bias=True, no proj_size);
    its input is [word vector; char feature] in that order;
  * `output`: the nn.Linear from the recurrent output to the label scores, row j = labels[j];
  * `crf` (optional): a module with `transitions`, either [labels + 2]^2 with START = labels and
    STOP = labels + 1 (dissect's and NCRF++'s layout), or [labels]^2 (from -> to) with
    `start_transitions` and `end_transitions` of [labels] (pytorch-crf's layout);
  * `char_embedding` and `char_cnn` (optional, both or neither): an nn.Embedding of chars and an nn.Conv1d
    (stride 1, dilation 1, one group, odd kernel, padding (kernel - 1) / 2), max-pooled over each word's chars.
Anything else raises ValueError naming what is unsupported. The names are attribute paths into `model`
("encoder", "decoder.proj", ...); the state dict's own names go into the mapping.
Lookup: `lowercase` True if the model lower-cases every word before looking it up (its vocabulary is
lower case); False if it looks words up exactly as written. `digits_to_zero`: every digit becomes 0 first.
"""
import json
import os
import subprocess

import torch
from safetensors.torch import save_file


def _module(model, path):
    module = model
    for part in path.split("."):
        if not hasattr(module, part):
            raise ValueError(f"the model has no submodule {path!r}")
        module = getattr(module, part)
    return module


def _prefix(model, target):
    for name, module in model.named_modules():
        if module is target:
            return name
    raise ValueError("a named part is not a submodule of the model")


def export(model, out_dir, *, words, labels, embedding, recurrent, output, chars=None, crf=None,
           char_embedding=None, char_cnn=None, lowercase=True, digits_to_zero=True,
           unknown_word="<unk>", unknown_char="<unk>", dissect=None):
    """Writes out_dir/state.safetensors, mapping.json and the vocabulary files; returns the mapping's path."""
    tensors, names = {}, {}

    def take(key, module, attribute):
        name = (_prefix(model, module) + "." if _prefix(model, module) else "") + attribute
        tensors[name] = getattr(module, attribute).detach().to(torch.float32).contiguous().cpu()
        names[key] = name

    emb = _module(model, embedding)
    if not isinstance(emb, torch.nn.Embedding):
        raise ValueError(f"{embedding} is a {type(emb).__name__}, not an nn.Embedding: only word embeddings can be imported")
    if emb.weight.shape[0] != len(words):
        raise ValueError(f"{embedding} has {emb.weight.shape[0]} rows but {len(words)} words were given")
    take("word_embedding", emb, "weight")

    rnn = _module(model, recurrent)
    kinds = {torch.nn.LSTM: "lstm", torch.nn.GRU: "gru", torch.nn.RNN: "rnn"}
    cell = kinds.get(type(rnn))
    if cell is None:
        raise ValueError(f"{recurrent} is a {type(rnn).__name__}; dissect imports nn.LSTM, nn.GRU and nn.RNN only")
    if not rnn.bias:
        raise ValueError(f"{recurrent} has bias=False; dissect's cells always have both biases")
    if getattr(rnn, "proj_size", 0):
        raise ValueError(f"{recurrent} has proj_size={rnn.proj_size}; LSTM projections are unsupported")
    if cell == "rnn" and rnn.nonlinearity != "tanh":
        raise ValueError(f"{recurrent} uses {rnn.nonlinearity}; dissect's RNN cell is tanh")
    prefix = _prefix(model, rnn)
    for parameter_name, _ in rnn.named_parameters():
        tensors[prefix + "." + parameter_name] = getattr(rnn, parameter_name).detach().to(torch.float32).contiguous().cpu()
    names["recurrent"] = prefix

    lin = _module(model, output)
    if not isinstance(lin, torch.nn.Linear) or lin.bias is None:
        raise ValueError(f"{output} must be an nn.Linear with a bias")
    if lin.weight.shape[0] != len(labels):
        raise ValueError(f"{output} has {lin.weight.shape[0]} rows but {len(labels)} labels were given")
    take("output_weight", lin, "weight")
    take("output_bias", lin, "bias")

    if (char_embedding is None) != (char_cnn is None):
        raise ValueError("give both char_embedding and char_cnn, or neither")
    if char_embedding is not None:
        cemb, conv = _module(model, char_embedding), _module(model, char_cnn)
        if not isinstance(cemb, torch.nn.Embedding) or not isinstance(conv, torch.nn.Conv1d):
            raise ValueError("the char encoder must be an nn.Embedding and an nn.Conv1d (max-pooled); other char encoders are unsupported")
        k = conv.kernel_size[0]
        if conv.stride != (1,) or conv.dilation != (1,) or conv.groups != 1 or k % 2 == 0 or conv.padding != ((k - 1) // 2,) or conv.bias is None:
            raise ValueError(f"{char_cnn} must have stride 1, dilation 1, one group, an odd kernel, padding (kernel - 1) / 2 and a bias")
        if chars is None or cemb.weight.shape[0] != len(chars):
            raise ValueError(f"{char_embedding} needs one char per row ({cemb.weight.shape[0]})")
        take("char_embedding", cemb, "weight")
        take("char_cnn_weight", conv, "weight")
        take("char_cnn_bias", conv, "bias")

    if crf is not None:
        c = _module(model, crf)
        if not hasattr(c, "transitions"):
            raise ValueError(f"{crf} has no transitions")
        take("crf_transitions", c, "transitions")
        if hasattr(c, "start_transitions") or hasattr(c, "end_transitions"):
            take("crf_start", c, "start_transitions")
            take("crf_end", c, "end_transitions")

    os.makedirs(out_dir, exist_ok=True)
    save_file(tensors, os.path.join(out_dir, "state.safetensors"))
    for name, items in (("words", words), ("labels", labels), ("chars", chars)):
        if items is not None:
            with open(os.path.join(out_dir, name + ".txt"), "w", encoding="utf-8") as handle:
                handle.write("".join(item + "\n" for item in items))
    mapping = {
        "cell": cell, "layers": rnn.num_layers, "bidirectional": rnn.bidirectional, "tensors": names,
        "words_file": "words.txt", "labels_file": "labels.txt",
        "lookup": {"lowercase": lowercase, "digits_to_zero": digits_to_zero, "unknown_word": unknown_word},
    }
    if chars is not None and char_embedding is not None:
        mapping["chars_file"] = "chars.txt"
        mapping["lookup"]["unknown_char"] = unknown_char
    path = os.path.join(out_dir, "mapping.json")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(mapping, handle, indent=1)
        handle.write("\n")
    if dissect:
        subprocess.run([dissect, "import", "--safetensors", os.path.join(out_dir, "state.safetensors"), "--mapping", path,
                        "--out", os.path.join(out_dir, "model")], check=True)
    return path
