"""``python -m aigc_check``: the same command as ``aigc-check``."""

import sys

from ._entry import main

sys.exit(main())
