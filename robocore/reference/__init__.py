"""The actions reference (`robo docs`, `robo plugins ACTION`): every installed action's documentation.

`collect` reads it from the registry (signature, docstring, result TypedDict); `markdown` and
`html` render it, section titles in the active language, docstrings as written.
"""

from robocore.reference.html import html
from robocore.reference.markdown import action_markdown, markdown
from robocore.reference.model import ActionDoc, ParamDoc, collect, document

__all__ = ["ActionDoc", "ParamDoc", "action_markdown", "collect", "document", "html", "markdown"]
