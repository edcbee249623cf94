"""``python -m genosynth.cli``: the ``genosynth`` command."""

import sys

from genosynth.cli import main

if __name__ == "__main__":
    sys.exit(main())
