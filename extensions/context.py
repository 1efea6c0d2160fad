"""Context hook: names derived from the answers, computed once for every template."""

from __future__ import annotations

from typing import Any

from copier_template_extensions import ContextHook


class DerivedNamesHook(ContextHook):
    """Adds values every template needs but no user should have to type.

    - ``python_target``: the ruff/black target for ``python_version`` (``"3.11"`` -> ``"py311"``).
    - ``python_requires``: the ``requires-python`` specifier (``">=3.11"``).
    """

    def hook(self, context: dict[str, Any]) -> None:
        version = str(context.get("python_version", "3.11"))
        context["python_target"] = "py" + version.replace(".", "")
        context["python_requires"] = f">={version}"
