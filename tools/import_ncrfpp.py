#!/usr/bin/env python3
"""Convert an NCRF++ sequence-labelling model to the files `dissect import` reads (torch only, no NCRF++ code).

    python3 tools/import_ncrfpp.py --model X.model --dset X.dset --out DIR [--dissect .build/release/dissect]

Reads the state dict that NCRF++ saves (`torch.save(model.state_dict())`) and its `.dset` file (a pickle of
NCRF++'s `Data.__dict__`, whose alphabets are read by a small unpickler of our own that turns every NCRF++ class
into a plain attribute holder). NCRF++'s conventions, and what the conversion does with them:
  * every alphabet numbers its entries from 1; index 0 is padding. The word and char embeddings keep row 0 under a
    name no word can have; the word and char alphabets' own "</unk>" is the unknown entry;
  * the label alphabet reserves index 0, and with a CRF the output layer has two more rows, START and STOP (the
    transitions' last two). Row 0 and those rows are dropped from the output layer, and the transitions are mapped
    to dissect's [m + 2]^2 layout (labels, then START, then STOP), so no label is duplicated;
  * NCRF++ looks words up exactly, after turning digits into 0 when `number_normalized`: the mapping says
    `lowercase: false`, so dissect does not try the lower-case form.
Supported: a word LSTM or GRU (any layers, uni or bi), softmax or CRF, with or without NCRF++'s char CNN. Word
features (`feature=[POS]`), char LSTM/GRU encoders and CNN word encoders are refused with an error naming them.
"""
import argparse
import json
import os
import pickle
import subprocess
import sys

import torch
from safetensors.torch import save_file


class Stub:
    """Stands in for NCRF++'s classes (Alphabet, Data): their pickled state becomes attributes."""
    def __setstate__(self, state):
        self.__dict__.update(state)


class DsetUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if module.startswith("utils") or module.startswith("model"):
            return Stub
        if module in ("collections", "builtins", "copy_reg", "__builtin__") or module.startswith("numpy"):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"the .dset refers to {module}.{name}, which a saved NCRF++ Data never holds")


def attribute(holder, name):
    return holder[name] if isinstance(holder, dict) else getattr(holder, name)


def convert(model_path, dset_path, out_dir):
    with open(dset_path, "rb") as handle:
        data = DsetUnpickler(handle).load()
    state = torch.load(model_path, map_location="cpu", weights_only=True)
    get = lambda name: attribute(data, name)
    if get("sentence_classification"):
        raise SystemExit("error: this NCRF++ model is a sentence classifier, not a sequence labeller")
    if get("feature_num"):
        raise SystemExit(f"error: the model uses word features {get('feature_name')}; dissect imports words and chars only")
    extractor = get("word_feature_extractor")
    if extractor not in ("LSTM", "GRU"):
        raise SystemExit(f"error: the word encoder is {extractor}; dissect imports NCRF++'s LSTM and GRU word encoders")
    use_char = bool(get("use_char"))
    if use_char and get("char_feature_extractor") != "CNN":
        raise SystemExit(f"error: the char encoder is {get('char_feature_extractor')}; dissect imports NCRF++'s char CNN only")
    crf = bool(get("use_crf"))
    labels = list(get("label_alphabet").instances)
    if len(set(labels)) != len(labels):
        raise SystemExit("error: the label alphabet repeats a label")
    words = list(get("word_alphabet").instances)
    padding = "<ncrfpp-padding>"
    while padding in words:
        padding += "_"
    cell = extractor.lower()
    # NCRF++'s word sequence module keeps its recurrent layer as `lstm`, a GRU included.
    prefix = "word_hidden.lstm"
    if not any(k.startswith(prefix + ".weight_ih_l0") for k in state):
        raise SystemExit(f"error: the state dict has no {prefix}.weight_ih_l0; is {model_path} an NCRF++ model?")
    tensors = {
        "embed.weight": state["word_hidden.wordrep.word_embedding.weight"],
    }
    for key, value in state.items():
        if key.startswith(prefix + "."):
            tensors["encoder." + key[len(prefix) + 1:]] = value
    m = len(labels)
    weight, bias = state["word_hidden.hidden2tag.weight"], state["word_hidden.hidden2tag.bias"]
    # Rows 1 … m are the labels; row 0 is padding, and with a CRF rows m + 1 and m + 2 are START and STOP.
    tensors["proj.weight"] = weight[1:m + 1]
    tensors["proj.bias"] = bias[1:m + 1]
    names = {"word_embedding": "embed.weight", "recurrent": "encoder", "output_weight": "proj.weight", "output_bias": "proj.bias"}
    if crf:
        t = state["crf.transitions"]
        if t.shape != (m + 3, m + 3):
            raise SystemExit(f"error: crf.transitions has shape {tuple(t.shape)}, expected {(m + 3, m + 3)} for {m} labels")
        order = list(range(1, m + 1)) + [m + 1, m + 2]  # labels, START, STOP
        tensors["crf.transitions"] = t[order][:, order]
        names["crf_transitions"] = "crf.transitions"
    chars = None
    if use_char:
        chars = list(get("char_alphabet").instances)
        char_padding = "<ncrfpp-padding>"
        while char_padding in chars:
            char_padding += "_"
        chars = [char_padding] + chars
        tensors["char_emb.weight"] = state["word_hidden.wordrep.char_feature.char_embeddings.weight"]
        tensors["char_conv.weight"] = state["word_hidden.wordrep.char_feature.char_cnn.weight"]
        tensors["char_conv.bias"] = state["word_hidden.wordrep.char_feature.char_cnn.bias"]
        names.update({"char_embedding": "char_emb.weight", "char_cnn_weight": "char_conv.weight", "char_cnn_bias": "char_conv.bias"})
    os.makedirs(out_dir, exist_ok=True)
    save_file({k: v.detach().to(torch.float32).contiguous() for k, v in tensors.items()}, os.path.join(out_dir, "state.safetensors"))
    for name, items in (("words", [padding] + words), ("labels", labels), ("chars", chars)):
        if items is not None:
            with open(os.path.join(out_dir, name + ".txt"), "w", encoding="utf-8") as handle:
                handle.write("".join(item + "\n" for item in items))
    layers = 1 + max(int(k.split("_l")[1].split("_")[0]) for k in tensors if k.startswith("encoder.weight_ih_l"))
    mapping = {"cell": cell, "layers": layers, "bidirectional": any(k.endswith("_reverse") for k in tensors),
               "tensors": names, "words_file": "words.txt", "labels_file": "labels.txt",
               "lookup": {"lowercase": False, "digits_to_zero": bool(get("number_normalized")),
                          "unknown_word": get("word_alphabet").UNKNOWN}}
    if use_char:
        mapping["chars_file"] = "chars.txt"
        mapping["lookup"]["unknown_char"] = get("char_alphabet").UNKNOWN
    path = os.path.join(out_dir, "mapping.json")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(mapping, handle, indent=1)
        handle.write("\n")
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="the state dict NCRF++ saved (X.N.model)")
    parser.add_argument("--dset", required=True, help="NCRF++'s .dset file of the same run")
    parser.add_argument("--out", required=True, help="where state.safetensors, mapping.json and the lists go")
    parser.add_argument("--dissect", help="a dissect binary: also run `dissect import` into OUT/model")
    args = parser.parse_args()
    mapping = convert(args.model, args.dset, args.out)
    if args.dissect:
        subprocess.run([args.dissect, "import", "--safetensors", os.path.join(args.out, "state.safetensors"),
                        "--mapping", mapping, "--out", os.path.join(args.out, "model")], check=True)
    print("wrote", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
