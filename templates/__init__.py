"""Jinja2 templates for generated client packages (data only, no code)."""
