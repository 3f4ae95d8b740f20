"""Prompt datasets: seeded random prompts, shared prefixes, JSONL files."""

import json

import pytest

from bench import datasets


def test_random_prompts_are_seeded_and_sized():
    a = datasets.random_prompts(5, 32, 7, seed=3)
    assert [p.text for p in a] == [p.text for p in datasets.random_prompts(5, 32, 7, seed=3)]
    assert [p.text for p in a] != [p.text for p in datasets.random_prompts(5, 32, 7, seed=4)]
    assert all(len(p.text.split()) == 32 and p.output_tokens == 7 for p in a)


def test_random_prompts_range_ratio_bounds():
    a = datasets.random_prompts(50, 100, 10, seed=1, range_ratio=0.2)
    assert all(80 <= len(p.text.split()) <= 120 for p in a)
    assert len({len(p.text.split()) for p in a}) > 1


def test_shared_prefix_groups_share_their_prefix_and_interleave():
    ps = datasets.shared_prefix_prompts(9, groups=3, prefix_tokens=20, suffix_tokens=5, output_tokens=4, seed=1)
    assert [p.meta["prefix_group"] for p in ps] == [0, 1, 2] * 3
    prefixes = [" ".join(p.text.split()[:20]) for p in ps]
    assert prefixes[0] == prefixes[3] == prefixes[6] and prefixes[0] != prefixes[1]
    assert len({p.text for p in ps}) == 9  # unique suffixes
    assert all(len(p.text.split()) == 25 for p in ps)


def test_jsonl_prompts(tmp_path):
    f = tmp_path / "p.jsonl"
    f.write_text(
        "\n".join(
            [
                json.dumps({"prompt": "hello there", "output_tokens": 5}),
                "",
                json.dumps({"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]}),
                json.dumps("just a string"),
            ]
        )
    )
    ps = datasets.jsonl_prompts(str(f), output_tokens=9)
    assert [(p.text, p.output_tokens) for p in ps] == [("hello there", 5), ("a\nb", 9), ("just a string", 9)]


@pytest.mark.parametrize("line", ["{not json", json.dumps({"prompt": ""}), json.dumps({"other": 1})])
def test_jsonl_bad_line_names_its_number(tmp_path, line):
    f = tmp_path / "p.jsonl"
    f.write_text(json.dumps({"prompt": "ok"}) + "\n" + line + "\n")
    with pytest.raises(ValueError, match=r"p\.jsonl:2"):
        datasets.jsonl_prompts(str(f), 4)


def test_build_picks_the_configured_dataset():
    ps = datasets.build({"seed": 1, "dataset": {"kind": "shared_prefix", "groups": 2, "prefix_tokens": 4, "suffix_tokens": 2}}, 4)
    assert [p.meta["prefix_group"] for p in ps] == [0, 1, 0, 1]
    with pytest.raises(ValueError, match="unknown dataset kind"):
        datasets.build({"dataset": {"kind": "sharegpt"}}, 1)
