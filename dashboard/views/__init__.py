"""Server-rendered pages (Jinja2); each module exposes ``router``."""
