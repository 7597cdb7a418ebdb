"""``python -m bench [--scenario NAME] [--out DIR] [--list] [--live]``: ``bestrate bench``."""

from __future__ import annotations

from .harness import main

raise SystemExit(main())
