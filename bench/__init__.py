"""llm.platform bench: an async streaming load generator for OpenAI-compatible endpoints that
ties client latency to server queue depth, KV-cache usage, GPU use and cost in the same run.

Run ``python -m bench --help`` from the repository root.
"""

__version__ = "0.1.0"
# Bump on any incompatible change of report.json (bench/schema/report-v<N>.schema.json).
SCHEMA_VERSION = "1.0"
