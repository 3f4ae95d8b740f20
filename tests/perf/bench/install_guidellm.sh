#!/usr/bin/env bash
# Installs GuideLLM 0.8.1 (the comparison tool of tests/integration/bench and tests/perf/bench)
# into its own venv: $LLM_PLATFORM_CACHE/guidellm/0.8.1/venv. Idempotent (.complete marker).
#
# GuideLLM needs torch. This machine offers no CPU-only torch wheel: /opt/wheels (pip's
# find-links) is empty and PyPI serves only the CUDA-linked x86_64 build, whose import fails
# without the nvidia-* wheels ("ValueError: libcublasLt.so.*[0-9] not found in the system path",
# checked with `pip install --no-deps torch==2.15.0`). So torch 2.15.0 is installed with its CUDA
# runtime wheels (~4.5 GB on disk, once per machine cache); it runs on CPU here
# (torch.cuda.is_available() is False). If a CPU wheel appears in /opt/wheels, pip takes it first.
set -euo pipefail
CACHE="${LLM_PLATFORM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/llm-platform}"
DIR="$CACHE/guidellm/0.8.1"
V="$DIR/venv"
[[ -f "$DIR/.complete" && -x "$V/bin/guidellm" ]] && { echo "$V"; exit 0; }
rm -rf "$V"
mkdir -p "$DIR/wheels"
python3 -m venv "$V"
"$V/bin/pip" install --quiet --find-links "$DIR/wheels" torch==2.15.0 >&2
"$V/bin/pip" install --quiet guidellm==0.8.1 tokenizers transformers >&2
"$V/bin/python" -c "import torch, guidellm; print('torch', torch.__version__)" >&2
touch "$DIR/.complete"
echo "$V"
