"""``python -m api.cli``: the same as the ``voice-service`` command."""

import sys

from api.cli import main

sys.exit(main())
