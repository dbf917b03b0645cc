"""``python -m aigc_check``: the same command as ``aigc-check``."""

import sys

from .cli import main

sys.exit(main())
