"""Copy-time task: make the new project a git repository unless it already is inside one.

`copier update` needs the project under git; running `git init` inside an existing repository (a
monorepo, say) would create a nested one, so it is skipped there.
"""

from __future__ import annotations

import shutil
import subprocess
import sys


def main() -> int:
    if shutil.which("git") is None:
        print("git not found: skipping `git init` (copier update needs the project under git)")
        return 0
    inside = subprocess.run(
        ["git", "rev-parse", "--is-inside-work-tree"],
        capture_output=True,
        text=True,
        check=False,
    )
    if inside.returncode == 0 and inside.stdout.strip() == "true":
        return 0
    return subprocess.run(["git", "init", "--quiet"], check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
