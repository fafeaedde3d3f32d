#!/usr/bin/env python3
"""Fixtures for tools/import_ncrfpp.py: small models trained by NCRF++ itself, with NCRF++'s own decode.

    python3 tools/make_ncrfpp_fixtures.py --ncrfpp DIR [--data ../shared/data/conll2003]

DIR is a checkout of jiesutd/NCRFpp (its code is run, never copied). On the first 200 training sentences of
CoNLL-2003 (two columns, no -DOCSTART-), four models are trained for 15 epochs (lr 0.1, word dim 10, hidden 8 per
direction, no pretrained vectors): a BiLSTM-CRF and a GRU with softmax without chars, and a BiLSTM with softmax
and a BiLSTM-CRF with NCRF++'s char CNN. Each is decoded by NCRF++ on the first 100 test sentences and converted
by tools/import_ncrfpp.py; Tests/DissectCLITests/Fixtures/ncrfpp/ gets the converted files, NCRF++'s tags and the data.
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
import main
from utils.data import Data
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
    parser.add_argument("--ncrfpp", required=True)
    parser.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data", "conll2003"))
    parser.add_argument("--work", default="/tmp/ncrfpp-fixtures")
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    train, dev, test = (os.path.join(args.work, n) for n in ("train.txt", "dev.txt", "test.txt"))
    two_columns(os.path.join(args.data, "train.txt"), train, 200)
    two_columns(os.path.join(args.data, "valid.txt"), dev, 50)
    two_columns(os.path.join(args.data, "test.txt"), test, 100)
    os.makedirs(OUT, exist_ok=True)
    shutil.copy(test, os.path.join(OUT, "data.conll"))
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    from import_ncrfpp import convert
    for name, encoder, crf, chars in KINDS:
        model_dir = os.path.join(args.work, name)
        config = os.path.join(args.work, name + ".config")
        with open(config, "w") as handle:
            handle.write(f"""train_dir={train}\ndev_dir={dev}\ntest_dir={test}\nmodel_dir={model_dir}
norm_word_emb=False\nnorm_char_emb=False\nnumber_normalized=True\nseg=True\nword_emb_dim=10\nchar_emb_dim=8
use_crf={crf}\nuse_char={chars}\nword_seq_feature={encoder}\nchar_seq_feature=CNN\nstatus=train\noptimizer=SGD
iteration=15\nbatch_size=10\nave_batch_loss=False\ncnn_layer=4\nchar_hidden_dim=6\nhidden_dim=16\ndropout=0.5
lstm_layer=1\nbilstm={encoder == 'LSTM'}\nlearning_rate=0.1\nlr_decay=0.05\nmomentum=0\nl2=1e-8\n""")
        subprocess.run([sys.executable, "main.py", "--config", config], cwd=args.ncrfpp, check=True, stdout=subprocess.DEVNULL)
        best = sorted(glob.glob(model_dir + ".*.model"), key=lambda p: int(p.rsplit(".", 2)[1]))[-1]
        decoded = os.path.join(args.work, name + ".decoded.txt")
        decode = os.path.join(args.work, name + ".decode.config")
        with open(decode, "w") as handle:
            handle.write(f"raw_dir={test}\ndset_dir={model_dir}.dset\nload_model_dir={best}\nstatus=decode\n")
        # NCRF++'s own 1-best writer fails under Python 3 (bytes + str), so its decode function is called directly
        # (1-best: Viterbi with a CRF, arg-max without) and its tags written here.
        subprocess.run([sys.executable, "-c", DECODE, decode, decoded], cwd=args.ncrfpp, check=True, stdout=subprocess.DEVNULL)
        target = os.path.join(OUT, name)
        convert(best, model_dir + ".dset", target)
        shutil.copy(decoded, os.path.join(target, "ncrfpp-tags.txt"))
        tags = [line.strip() for line in open(decoded, encoding="utf-8") if line.strip()]
        print(name, os.path.basename(best), len(tags), "tokens,", sum(1 for t in tags if t != "O"), "not O")
    return 0


if __name__ == "__main__":
    sys.exit(main())
