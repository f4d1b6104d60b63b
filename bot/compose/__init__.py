"""Reply suggestions rendered from scripts_zh/ with Jinja2, and remedy options."""
