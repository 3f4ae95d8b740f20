"""The living lab's pod runtime (see runtime.py and lab/README.md)."""
