"""The document model of the open image and its undoable edits. Qt-free: imports ``core``,
``store`` and the phrase parser (``core.phrase_parse``), never Qt or torch."""
