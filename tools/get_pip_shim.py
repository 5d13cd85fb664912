"""Stand-in for pip's get-pip.py bootstrap script that ansible-test downloads.

ansible-test fetches get-pip.py from a host this machine cannot reach; this shim does the same
job with the interpreter's own ``ensurepip`` and then installs the requested pip from the
package index.  `make sanity` puts it where ansible-test looks for its cached copy.
"""

import subprocess
import sys

IGNORED = {"--no-setuptools", "--no-wheel"}


def main():
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
    args = [arg for arg in sys.argv[1:] if arg not in IGNORED]
    subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)


if __name__ == "__main__":
    main()
