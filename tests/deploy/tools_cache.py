"""Where deploy/k8s/tools.sh keeps the tools it builds: one machine-level cache
shared by every checkout (keep in step with tools.sh)."""

import os
from pathlib import Path

TOOLS_CACHE = Path(os.environ.get("CRM_TOOLS_CACHE") or Path(
    os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "crm-platform-tools")
