"""Copy-time task: write a gitignored ``.env`` holding freshly generated secrets.

Secrets are never template answers (they would land in the answers file) and are never rendered
(rendering must be reproducible for ``copier update``). An existing ``.env`` is left untouched.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

ENV_FILE = Path(".env")

TEMPLATE = """\
# Local settings for this checkout. Never commit this file (it is in .gitignore).
# Every setting and its default is listed in .env.example.
ENV=dev
SECRET_KEY={secret_key}
"""


def main() -> int:
    if ENV_FILE.exists():
        print(f"{ENV_FILE} exists: leaving it as it is")
        return 0
    content = TEMPLATE.format(secret_key=secrets.token_urlsafe(48))
    fd = os.open(ENV_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as env_file:
        env_file.write(content)
    return 0


if __name__ == "__main__":
    sys.exit(main())
