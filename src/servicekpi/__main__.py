"""``python -m servicekpi``: the command line."""

from servicekpi.cli import main

raise SystemExit(main())
