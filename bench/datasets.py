"""Prompt datasets: seeded random prompts of a set token length, shared-prefix prompts, JSONL.

Token lengths of the synthetic prompts are counted in words drawn from a vocabulary of short,
common English words that common BPE tokenizers and the simulator's dummy tokenizer (one token
per word) each map to one token; behind a real tokenizer the server's ``usage.prompt_tokens``
is recorded per request, so the report shows the real input length.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field

_WORDS = (
    "the of and to in is it you that he was for on are as with his they at be this have from or one had "
    "by word but not what all were we when your can said there use an each which she do how their if "
    "will up other about out many then them these so some her would make like him into time has look two "
    "more write go see number no way could people my than first water been call who oil its now find "
    "long down day did get come made may part over new sound take only little work know place year live "
    "me back give most very after thing our just name good sentence man think say great where help "
    "through much before line right too mean old any same tell boy follow came want show also around "
    "form three small set put end does another well large must big even such because turn here why ask "
    "went men read need land different home us move try kind hand picture again change off play spell "
    "air away animal house point page letter mother answer found study still learn should world high "
    "every near add food between own below country plant last school father keep tree never start city "
    "earth eye light thought "
)
_VOCAB = tuple(_WORDS.split())


@dataclass
class Prompt:
    text: str
    output_tokens: int
    input_tokens_hint: int = 0
    meta: dict = field(default_factory=dict)


def _words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(_VOCAB) for _i in range(max(1, n)))


def random_prompts(count: int, input_tokens: int, output_tokens: int, seed: int, range_ratio: float = 0.0) -> list[Prompt]:
    """``count`` prompts of ``input_tokens`` words (± range_ratio, uniform), reproducible by seed."""
    rng = random.Random(seed)
    out = []
    for _i in range(count):
        n_in = _jitter(rng, input_tokens, range_ratio)
        n_out = _jitter(rng, output_tokens, range_ratio)
        out.append(Prompt(_words(rng, n_in), n_out, n_in))
    return out


def shared_prefix_prompts(count: int, groups: int, prefix_tokens: int, suffix_tokens: int, output_tokens: int, seed: int) -> list[Prompt]:
    """``groups`` shared system prefixes of ``prefix_tokens``; each prompt = prefix + a unique suffix.

    Prompts are interleaved across groups (g0, g1, ..., g0, g1, ...) so a prefix-cache-aware router
    sees repeated prefixes spread over time."""
    rng = random.Random(seed)
    prefixes = [_words(rng, prefix_tokens) for _i in range(max(1, groups))]
    out = []
    for i in range(count):
        g = i % len(prefixes)
        text = prefixes[g] + " " + _words(rng, suffix_tokens)
        out.append(Prompt(text, output_tokens, prefix_tokens + suffix_tokens, {"prefix_group": g}))
    return out


def jsonl_prompts(path: str, output_tokens: int, limit: int | None = None) -> list[Prompt]:
    """One JSON object per line: ``{"prompt": "..."}`` (or ``text``/``messages``), optional
    ``output_tokens``/``max_tokens``. Blank lines are skipped; a malformed line is an error with
    its line number."""
    out = []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError as exc:
                raise ValueError("%s:%d: not JSON: %s" % (path, lineno, exc)) from exc
            if isinstance(obj, str):
                obj = {"prompt": obj}
            text = obj.get("prompt") or obj.get("text")
            if text is None and isinstance(obj.get("messages"), list):
                text = "\n".join(str(m.get("content", "")) for m in obj["messages"] if isinstance(m, dict))
            if not isinstance(text, str) or not text:
                raise ValueError("%s:%d: needs a non-empty 'prompt', 'text' or 'messages'" % (path, lineno))
            n_out = int(obj.get("output_tokens") or obj.get("max_tokens") or output_tokens)
            out.append(Prompt(text, n_out, 0, {"line": lineno}))
            if limit and len(out) >= limit:
                break
    if not out:
        raise ValueError("%s: no prompts" % path)
    return out


def _jitter(rng: random.Random, n: int, ratio: float) -> int:
    if ratio <= 0:
        return n
    lo, hi = max(1, int(n * (1 - ratio))), max(1, int(n * (1 + ratio)))
    return rng.randint(lo, hi)


def build(cfg: dict, count: int) -> list[Prompt]:
    """The dataset a run config asks for (``cfg['dataset']``)."""
    ds = cfg.get("dataset") or {"kind": "random"}
    kind = ds.get("kind", "random")
    seed = int(cfg.get("seed", 0))
    if kind == "random":
        return random_prompts(
            count,
            int(ds.get("input_tokens", cfg.get("input_tokens", 256))),
            int(ds.get("output_tokens", cfg.get("output_tokens", 128))),
            seed,
            float(ds.get("range_ratio", 0.0)),
        )
    if kind == "shared_prefix":
        return shared_prefix_prompts(
            count,
            int(ds.get("groups", 10)),
            int(ds.get("prefix_tokens", 128)),
            int(ds.get("suffix_tokens", 64)),
            int(ds.get("output_tokens", cfg.get("output_tokens", 128))),
            seed,
        )
    if kind == "jsonl":
        return jsonl_prompts(ds["path"], int(ds.get("output_tokens", cfg.get("output_tokens", 128))))
    raise ValueError("unknown dataset kind %r (random, shared_prefix, jsonl)" % kind)
