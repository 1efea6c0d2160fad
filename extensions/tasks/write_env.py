"""Copy-time task: write a private, gitignored ``.env`` for the checkout's local settings.

It holds no secret: the service reads none (``SECRET_KEY`` was dropped; a deployment that still
sets it starts, with a warning). Local values such as passwords belong here, never in template
answers (they would land in the answers file). An existing ``.env`` is left untouched.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ENV_FILE = Path(".env")

TEMPLATE = """\
# Local settings for this checkout. Never commit this file (it is in .gitignore).
# Every setting and its default is listed in .env.example.
ENV=dev
"""


def main() -> int:
    if ENV_FILE.exists():
        print(f"{ENV_FILE} exists: leaving it as it is")
        return 0
    fd = os.open(ENV_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as env_file:
        env_file.write(TEMPLATE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
