"""Build a small local Hugging Face tokenizer for GuideLLM (no Hub access on the test machines).

Word-level over the bench harness's prompt vocabulary with a whitespace pre-tokenizer, so one
word = one token, as the simulator's dummy tokenizer counts. Both tools then ask for the same
prompt and output lengths, and output token counts come from the server's ``usage`` in both.
Run with GuideLLM's Python: ``python make_tokenizer.py OUT_DIR``."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))

from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

from bench.datasets import _VOCAB


def main(out: str):
    vocab = {"[UNK]": 0, "[PAD]": 1, "<s>": 2, "</s>": 3}
    for w in _VOCAB:
        vocab.setdefault(w, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", bos_token="<s>", eos_token="</s>")
    fast.save_pretrained(out)


if __name__ == "__main__":
    main(sys.argv[1])
