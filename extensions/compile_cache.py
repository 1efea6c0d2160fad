"""Jinja extension: compile each template string once per environment.

Copier compiles a string every time it renders one, with no cache of its own: every part of every
path (``{{ module_name }}`` once for each file below that folder), the answers file's path (once
for each path part, to compare with it), ``_exclude`` and ``_tasks`` entries, question defaults.
Rendering this template compiles about 1,200 strings, fewer than 300 of them different, and a
``copier update`` renders it three times: compiling took over a tenth of a no-op update.

:class:`CompileCache` makes ``environment.from_string`` return the template it compiled before
for the same source, as Jinja's own cache does for templates loaded by name. A compiled template
holds no render state (Copier never changes one) and reads the environment's globals when it
renders, so reusing it renders the same output. The cache never leaves its environment (Copier
builds one per template version), passes through calls it cannot answer (``globals``,
``template_class``, a source that is not a string) and still runs the extensions' ``preprocess``
on every call: Copier's ``yield`` tag resets its state there, and a changed result compiles the
source again.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any

from jinja2 import Environment, Template, nodes
from jinja2.ext import Extension

MAX_ENTRIES = 4096
"""Sources kept per environment; the oldest goes first beyond that (a render needs ~300)."""

FromString = Callable[..., Template]


class CompileCache(Extension):
    """Wraps ``environment.from_string`` with a bounded cache keyed by the source string."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self._attach(environment.from_string)

    def _attach(self, compile_string: FromString) -> None:
        self.entries: dict[str, tuple[str, Template]] = {}
        self._compile = compile_string
        self.environment.from_string = self.from_string  # type: ignore[method-assign]

    def bind(self, environment: Environment) -> CompileCache:
        """The copy for an overlay of the environment: a cache of its own, compiling with the
        overlay (which may have other settings), not with the environment it copies."""
        bound = super().bind(environment)
        bound._attach(type(environment).from_string.__get__(environment))
        return bound

    def from_string(
        self,
        source: str | nodes.Template,
        globals: MutableMapping[str, Any] | None = None,
        template_class: type[Template] | None = None,
    ) -> Template:
        """``Environment.from_string``, answered from the cache when the call allows it."""
        if globals is not None or template_class is not None or type(source) is not str:
            return self._compile(source, globals, template_class)
        entry = self.entries.get(source)
        if entry is not None:
            preprocessed, template = entry
            if self.environment.preprocess(source) == preprocessed:
                return template
        template = self._compile(source)
        if len(self.entries) >= MAX_ENTRIES:
            del self.entries[next(iter(self.entries))]
        self.entries[source] = (self.environment.preprocess(source), template)
        return template
