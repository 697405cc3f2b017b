"""The test tokenizer of text.tokenize and what the Python `tokenizers` package makes of some texts with it.

TextTokenizeOperatorTest checks that the operator (Hugging Face tokenizers through DJL) outputs exactly what this
package outputs for the same tokenizer.json and the same max_length, padding, truncation and special tokens.

    .venv/bin/python dag/src/test/resources/tokenizer/make_tokenizer.py --train  # a new tokenizer.json, and the rest
    .venv/bin/python dag/src/test/resources/tokenizer/make_tokenizer.py          # the rest from tokenizer.json
    .venv/bin/python dag/src/test/resources/tokenizer/make_tokenizer.py --check  # exits 1 when the rest is stale

The files, next to this script:
  tokenizer.json               BERT-style WordPiece (lowercase, accents stripped, BERT pre-tokenizer, [CLS] text
                               [SEP]), trained from scratch on corpus.txt by --train. Training breaks ties between
                               equally frequent pairs in hash order, so each --train makes a different (equally
                               valid) vocabulary: the committed file is the reference, and the rest follows it.
  tokenizer_with_padding.json  the same with padding (left, to 7, with [UNK]) and truncation (left, to 5) written
                               in the file: the operator must ignore both and give the same outputs
  golden.json                  the outputs of CASES, as the operator's params and its three outputs per case
"""

import argparse
import json
import sys
from pathlib import Path

import tokenizers
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

TOKENIZERS_VERSION = "0.23.3"
HERE = Path(__file__).resolve().parent
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]

LONG_TEXT = ("The driver crossed the valley every morning for twenty years, and each spring he counted the lambs in"
             " the green fields while the children raced their sticks under the old bridges towards the sea.")

TEXTS = [
    "Hello, world!",
    "The baker opens her shop before dawn.",
    "Café naïve RÉSUMÉ at the Crème Brûlée bakery",
    "Well... it's 7:30 -- isn't it?! (Yes; \"quite\" late.)",
    "Zyxqv flurbs quixotically over the hills",
    "Tea time 🙂🍰 and 🍞 with friends by the river 河",
    "",
    "  \tTabs,\nnew lines and   spaces  ",
    LONG_TEXT,
]

# The operator's params for each case, and the texts of its one request.
CASES = [
    ("max_length padding, truncated to 16",
     {"max_length": 16, "padding": "max_length", "truncation": True, "add_special_tokens": True}, TEXTS),
    ("longest padding: the long text, untruncated, sets the length",
     {"max_length": 64, "padding": "longest", "truncation": True, "add_special_tokens": True}, TEXTS),
    ("longest padding of short texts",
     {"max_length": 16, "padding": "longest", "truncation": True, "add_special_tokens": True},
     [TEXTS[0], TEXTS[6], TEXTS[5]]),
    ("truncated to 8, longest padding",
     {"max_length": 8, "padding": "longest", "truncation": True, "add_special_tokens": True}, TEXTS),
    ("without special tokens",
     {"max_length": 16, "padding": "max_length", "truncation": True, "add_special_tokens": False}, TEXTS),
    ("without truncation, every text within max_length",
     {"max_length": 128, "padding": "longest", "truncation": False, "add_special_tokens": True}, TEXTS),
    ("one empty text without special tokens: zero columns",
     {"max_length": 8, "padding": "longest", "truncation": True, "add_special_tokens": False}, [""]),
]


def train():
    """A BERT-style WordPiece tokenizer trained on corpus.txt."""
    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=100))
    tokenizer.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.decoder = decoders.WordPiece(prefix="##")
    trainer = trainers.WordPieceTrainer(vocab_size=400, min_frequency=1, special_tokens=SPECIAL_TOKENS,
                                        continuing_subword_prefix="##", show_progress=False)
    corpus = (HERE / "corpus.txt").read_text(encoding="utf-8")
    tokenizer.train_from_iterator([line for line in corpus.splitlines() if line.strip()], trainer=trainer)
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        special_tokens=[("[CLS]", tokenizer.token_to_id("[CLS]")), ("[SEP]", tokenizer.token_to_id("[SEP]"))])
    return tokenizer


def with_padding(tokenizer_json):
    """The same tokenizer, with padding and truncation the operator must not follow written into the file."""
    tokenizer = Tokenizer.from_str(tokenizer_json)
    tokenizer.enable_padding(direction="left", pad_id=tokenizer.token_to_id("[UNK]"), pad_token="[UNK]", length=7)
    tokenizer.enable_truncation(max_length=5, direction="left")
    return tokenizer.to_str(pretty=True)


def outputs(tokenizer_json, params, texts):
    """What the package outputs with the operator's params: truncation and padding set explicitly, to the right."""
    tokenizer = Tokenizer.from_str(tokenizer_json)
    tokenizer.no_padding()
    tokenizer.no_truncation()
    if params["truncation"]:
        tokenizer.enable_truncation(max_length=params["max_length"], stride=0, strategy="longest_first",
                                    direction="right")
    tokenizer.enable_padding(direction="right", pad_id=tokenizer.token_to_id("[PAD]"), pad_type_id=0,
                             pad_token="[PAD]",
                             length=params["max_length"] if params["padding"] == "max_length" else None)
    encodings = tokenizer.encode_batch(texts, add_special_tokens=params["add_special_tokens"])
    for text, encoding in zip(texts, encodings):
        if len(encoding.ids) > params["max_length"]:
            raise SystemExit(f"case {params}: {text!r} has {len(encoding.ids)} tokens, over max_length")
    return {
        "input_ids": [encoding.ids for encoding in encodings],
        "attention_mask": [encoding.attention_mask for encoding in encodings],
        "token_type_ids": [encoding.type_ids for encoding in encodings],
    }


def golden(tokenizer_json):
    cases = []
    for name, params, texts in CASES:
        case = {"name": name, "params": params, "texts": texts}
        case.update(outputs(tokenizer_json, params, texts))
        cases.append(case)
    return {"tokenizers": TOKENIZERS_VERSION, "tokenizer": "tokenizer.json", "cases": cases}


def dumps(value):
    """golden.json with one line per text and per row, so a diff shows which ones changed."""
    lines = ["{", f'  "tokenizers": {json.dumps(value["tokenizers"])},',
             f'  "tokenizer": {json.dumps(value["tokenizer"])},', '  "cases": [']
    for i, case in enumerate(value["cases"]):
        lines.append("    {")
        lines.append(f'      "name": {json.dumps(case["name"])},')
        lines.append(f'      "params": {json.dumps(case["params"])},')
        keys = ("texts", "input_ids", "attention_mask", "token_type_ids")
        for key in keys:
            end = "" if key == keys[-1] else ","
            rows = [f"        {json.dumps(row, ensure_ascii=False)}" for row in case[key]]
            lines.extend([f'      "{key}": [', ",\n".join(rows), f"      ]{end}"] if rows
                         else [f'      "{key}": []{end}'])
        lines.append("    }" + ("," if i < len(value["cases"]) - 1 else ""))
    lines.extend(["  ]", "}"])
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--train", action="store_true", help="train a new tokenizer.json on corpus.txt first")
    mode.add_argument("--check", action="store_true",
                      help="compare with the committed files instead of writing them; exit 1 when they differ")
    args = parser.parse_args()
    if tokenizers.__version__ != TOKENIZERS_VERSION:
        raise SystemExit(f"tokenizers {tokenizers.__version__} is installed (expected: {TOKENIZERS_VERSION}, as"
                         " in server/src/test/python/requirements.txt)")

    if args.train:
        (HERE / "tokenizer.json").write_text(train().to_str(pretty=True) + "\n", encoding="utf-8")
    tokenizer_json = (HERE / "tokenizer.json").read_text(encoding="utf-8")
    files = {
        "tokenizer_with_padding.json": with_padding(tokenizer_json) + "\n",
        "golden.json": dumps(golden(tokenizer_json)),
    }
    if not args.check:
        for name, text in files.items():
            (HERE / name).write_text(text, encoding="utf-8")
        print(f"wrote {', '.join(files)} in {HERE}")
        return 0

    stale = []
    for name, text in files.items():
        committed = HERE / name
        if not committed.is_file():
            stale.append(f"{name}: missing")
        elif json.loads(committed.read_text(encoding="utf-8")) != json.loads(text):
            stale.append(f"{name}: differs from what tokenizers {TOKENIZERS_VERSION} makes of tokenizer.json")
    for problem in stale:
        print(problem, file=sys.stderr)
    if stale:
        print(f"rerun {Path(__file__).name} without --check to rewrite them, then TextTokenizeOperatorTest",
              file=sys.stderr)
        return 1
    print("tokenizer_with_padding.json and golden.json are what tokenizers " + TOKENIZERS_VERSION
          + " makes of tokenizer.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
