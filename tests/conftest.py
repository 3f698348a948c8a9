"""Test-wide safety: nothing may reach a network service (CRDS, pysiaf's version check)."""

import os

# Any stray CRDS server call fails at once instead of hanging; no CRDS parameter files are requested.
os.environ.setdefault("CRDS_SERVER_URL", "https://localhost:1")
os.environ.setdefault("STPIPE_DISABLE_CRDS_STEPPARS", "true")
