"""The array kernel: pure numpy functions over columns, no domain imports.

Conventions fixed here for every kernel module:

- group codes are ``int32`` in ``[0, n_groups)``; ``-1`` means "no group";
- timestamps are ``int64`` UTC epoch seconds, :data:`MISSING` (numpy's NaT bit
  pattern, the smallest int64) meaning "no timestamp";
- name suffixes: ``*_rate`` lies in [0, 1], ``*_seconds`` is a duration in seconds,
  ``*_count`` is a count.
"""

from typing import Final

import numpy as np

__all__ = ("MISSING",)

MISSING: Final[int] = int(np.iinfo(np.int64).min)
"""The "no timestamp" value of int64 epoch-second columns (``NaT`` when viewed as
``datetime64[s]``)."""
