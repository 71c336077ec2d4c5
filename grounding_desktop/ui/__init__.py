"""PySide6 front end. Nothing outside ``ui`` imports it."""
