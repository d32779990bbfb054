"""`python -m homelab`: the same command line as the `homelab` script."""

from homelab.cli import main

raise SystemExit(main())
