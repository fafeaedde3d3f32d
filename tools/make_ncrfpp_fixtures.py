#!/usr/bin/env python3
"""Fixtures for tools/import_ncrfpp.py: small models trained by NCRF++ itself, with NCRF++'s own decode.

    python3 tools/make_ncrfpp_fixtures.py --ncrfpp DIR [--data ../shared/data/conll2003]

DIR is a checkout of jiesutd/NCRFpp (its code is run, never copied). On the first 1,000 training sentences of
CoNLL-2003 (two columns, no -DOCSTART-; dev: the first 100), four models are trained for 20 epochs (SGD, lr 0.05,
word dim 20, hidden 32, chars 8 -> 16 filters, no pretrained vectors): a BiLSTM-CRF and a GRU with softmax
without chars, and a BiLSTM with softmax and a BiLSTM-CRF with NCRF++'s char CNN. NCRF++'s best-dev model of each
is decoded by NCRF++ on the first 200 test sentences (ncrfpp-tags.txt; a char model a second time with each word
pooled over its own characters, own-characters-tags.txt) and converted by tools/import_ncrfpp.py into
Tests/DissectCLITests/Fixtures/ncrfpp/, with the data. About 6 minutes on 2 cores.

The README's agreement figure for a full-size model comes from the same script:

    python3 tools/make_ncrfpp_fixtures.py --ncrfpp DIR --sizes ncrfpp --train-sentences 14041 --test-sentences 3453 \
        --epochs 2 --learning-rate 0.015 --kinds bilstm-softmax-chars,bilstm-crf-chars --out /tmp/ncrfpp-full --work /tmp/ncrfpp-full-work \
        --dissect .build/release/dissect
"""
import argparse
import glob
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "DissectCLITests", "Fixtures", "ncrfpp")
DECODE = """
import sys
import torch
import torch.nn.functional as F
import main
from model.charcnn import CharCNN
from utils.data import Data


def own_characters(self, inputs, lengths):
    # Each word's feature from its own characters only (zero padding at both ends, as dissect's char CNN),
    # instead of NCRF++'s pooling over the batch's padded width.
    rows = []
    for row, length in enumerate(lengths.reshape(-1)):
        length = max(int(length), 1)
        embedded = self.char_embeddings(inputs[row:row + 1, :length]).transpose(2, 1)
        rows.append(F.max_pool1d(self.char_cnn(embedded), length).view(-1))
    return torch.stack(rows)


if sys.argv[3] == "own-characters":
    CharCNN.get_last_hiddens = own_characters
config, out = sys.argv[1], sys.argv[2]
data = Data()
data.read_config(config)
data.load(data.dset_dir)
data.read_config(config)
data.generate_instance("raw")
results, _ = main.load_model_decode(data, "raw")
with open(out, "w", encoding="utf-8") as handle:
    for sentence in results:
        handle.write("".join(tag + "\\n" for tag in sentence) + "\\n")
"""
TRAIN_SENTENCES, TEST_SENTENCES, EPOCHS, LEARNING_RATE = 1000, 200, 20, 0.05
SIZES = {"small": (20, 8, 16, 32), "ncrfpp": (50, 30, 50, 200)}  # word dim, char dim, char filters, hidden
KINDS = [  # name, word encoder, CRF, chars
    ("bilstm-crf", "LSTM", True, False),
    ("gru-softmax", "GRU", False, False),
    ("bilstm-softmax-chars", "LSTM", False, True),
    ("bilstm-crf-chars", "LSTM", True, True),
]


def two_columns(source, target, sentences):
    lines, count = [], 0
    for line in open(source, encoding="utf-8"):
        line = line.strip()
        if line.startswith("-DOCSTART-"):
            continue
        if not line:
            if lines and lines[-1] != "":
                lines.append("")
                count += 1
                if count >= sentences:
                    break
            continue
        parts = line.split()
        lines.append(parts[0] + " " + parts[-1])
    with open(target, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines).rstrip("\n") + "\n\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ncrfpp", required=True, help="a checkout of jiesutd/NCRFpp")
    parser.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data", "conll2003"))
    parser.add_argument("--work", default="/tmp/ncrfpp-fixtures", help="where NCRF++ writes its models")
    parser.add_argument("--out", default=OUT, help="where the fixtures go")
    parser.add_argument("--train-sentences", type=int, default=TRAIN_SENTENCES)
    parser.add_argument("--test-sentences", type=int, default=TEST_SENTENCES)
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--learning-rate", type=float, default=LEARNING_RATE)
    parser.add_argument("--sizes", choices=sorted(SIZES), default="small",
                        help="small: the fixtures' sizes; ncrfpp: NCRF++'s defaults (word 50, chars 30 -> 50, hidden 200)")
    parser.add_argument("--dissect", help="a dissect binary: import each model and print its agreement with NCRF++'s "
                        "decode, instead of decoding a char model a second time")
    parser.add_argument("--kinds", default=",".join(kind[0] for kind in KINDS), help="a comma-separated subset")
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    train, dev, test = (os.path.join(args.work, n) for n in ("train.txt", "dev.txt", "test.txt"))
    two_columns(os.path.join(args.data, "train.txt"), train, args.train_sentences)
    two_columns(os.path.join(args.data, "valid.txt"), dev, 100)
    two_columns(os.path.join(args.data, "test.txt"), test, args.test_sentences)
    os.makedirs(args.out, exist_ok=True)
    shutil.copy(test, os.path.join(args.out, "data.conll"))
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    from import_ncrfpp import convert
    wanted = set(args.kinds.split(","))
    for name, encoder, crf, chars in KINDS:
        if name not in wanted:
            continue
        model_dir = os.path.join(args.work, name)
        for old in glob.glob(model_dir + ".*.model"):
            os.remove(old)
        config = os.path.join(args.work, name + ".config")
        word, char, filters, hidden = SIZES[args.sizes]
        with open(config, "w") as handle:
            handle.write(f"""train_dir={train}\ndev_dir={dev}\ntest_dir={test}\nmodel_dir={model_dir}
norm_word_emb=False\nnorm_char_emb=False\nnumber_normalized=True\nseg=True\nword_emb_dim={word}\nchar_emb_dim={char}
use_crf={crf}\nuse_char={chars}\nword_seq_feature={encoder}\nchar_seq_feature=CNN\nstatus=train\noptimizer=SGD
iteration={args.epochs}\nbatch_size=10\nave_batch_loss=False\ncnn_layer=4\nchar_hidden_dim={filters}\nhidden_dim={hidden}
dropout=0.5\nlstm_layer=1\nbilstm={encoder == 'LSTM'}\nlearning_rate={args.learning_rate}\nlr_decay=0.05\nmomentum=0\nl2=1e-8\n""")
        subprocess.run([sys.executable, "main.py", "--config", config], cwd=args.ncrfpp, check=True, stdout=subprocess.DEVNULL)
        # NCRF++ saves a model each time the dev score improves: the last one is the best.
        best = sorted(glob.glob(model_dir + ".*.model"), key=lambda p: int(p.rsplit(".", 2)[1]))[-1]
        decode = os.path.join(args.work, name + ".decode.config")
        with open(decode, "w") as handle:
            handle.write(f"raw_dir={test}\ndset_dir={model_dir}.dset\nload_model_dir={best}\nstatus=decode\n")
        target = os.path.join(args.out, name)
        convert(best, model_dir + ".dset", target)
        # NCRF++'s own 1-best writer fails under Python 3 (bytes + str), so its decode function is called directly
        # (1-best: Viterbi with a CRF, arg-max without) and its tags written here. A char model is decoded twice:
        # as NCRF++ does it, and with each word pooled over its own characters (what dissect computes).
        own = chars and not args.dissect
        modes = [("ncrfpp-tags.txt", "batch")] + ([("own-characters-tags.txt", "own-characters")] if own else [])
        for file, mode in modes:
            decoded = os.path.join(target, file)
            subprocess.run([sys.executable, "-c", DECODE, decode, decoded, mode], cwd=args.ncrfpp, check=True,
                           stdout=subprocess.DEVNULL, env=dict(os.environ, PYTHONPATH=args.ncrfpp))
        tags = [line.strip() for line in open(os.path.join(target, "ncrfpp-tags.txt"), encoding="utf-8") if line.strip()]
        print(name, os.path.basename(best), len(tags), "tokens,", sum(1 for t in tags if t != "O"), "not O", flush=True)
        if args.dissect:
            model = os.path.join(target, "model")
            shutil.rmtree(model, ignore_errors=True)
            subprocess.run([args.dissect, "import", "--safetensors", os.path.join(target, "state.safetensors"),
                            "--mapping", os.path.join(target, "mapping.json"), "--out", model], check=True, stdout=subprocess.DEVNULL)
            predictions = os.path.join(target, "dissect-predictions.txt")
            subprocess.run([args.dissect, "evaluate", "--model", model, "--data", test, "--predictions", predictions],
                           check=True, stdout=subprocess.DEVNULL)
            ours = [line.split()[-1] for line in open(predictions, encoding="utf-8") if line.strip()]
            same = sum(1 for a, b in zip(ours, tags) if a == b)
            print(f"  dissect agrees with NCRF++'s decode on {same} of {len(tags)} tokens ({100 * same / len(tags):.2f} %)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
