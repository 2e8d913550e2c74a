"""Import-time economies for the `robo` process (imported first by the package).

structlog imports rich's traceback and pretty-printer (with pygments and attrs)
whenever rich is installed, to decorate exceptions on a console. Robocore formats
exceptions itself before any renderer sees them (`format_exc_info`, then the
secret scrub), so that integration is never used; skipping it saves 30-50 ms of
every cold `robo run` (measured: `import structlog` 94-125 ms with it, 51-54 ms
without). rich itself stays importable: only structlog's optional look-up of it
fails, while structlog is first imported.
"""

from __future__ import annotations

import sys

if "structlog" not in sys.modules and "rich" not in sys.modules:
    sys.modules["rich"] = None  # type: ignore[assignment]  # `import rich` raises ImportError
    try:
        import structlog  # noqa: F401
    finally:
        del sys.modules["rich"]
