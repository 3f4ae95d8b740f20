"""Stand-in for ansible-test's get-pip bootstrap script.

ansible-test downloads get-pip.py from a host outside the package registries
this project may reach. This script does the same job from the registries
that are reachable: ensurepip from the standard library, then pip installs the
requested packages (pip==X among them) from the configured PyPI index.
scripts/test.sh installs it into ansible-test's cache when none is there.
"""

from __future__ import annotations

import subprocess
import sys

# get-pip.py flags that are not pip flags.
GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}


def main(argv):
    subprocess.run([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"], check=True, stdout=subprocess.DEVNULL)
    args = [a for a in argv if a not in GET_PIP_ONLY]
    subprocess.run([sys.executable, "-m", "pip", "install", *args], check=True)


if __name__ == "__main__":
    main(sys.argv[1:])
