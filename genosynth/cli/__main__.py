"""``python -m genosynth.cli``: the ``genosynth`` command."""

import sys

from genosynth.cli import main

sys.exit(main())
