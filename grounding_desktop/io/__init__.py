"""Folder scanning, image decoding and the export/import formats. Imports ``core`` only."""
