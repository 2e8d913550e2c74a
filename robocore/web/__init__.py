"""The managers' pages: static files (pinned npm copies and our own CSS), Jinja2 templates, French formats."""
