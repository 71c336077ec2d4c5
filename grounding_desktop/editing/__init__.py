"""The document model of the open image and its undoable edits. Qt-free: imports ``core``,
``store`` and the phrase parser (``grounding.phrase_parse``, pure Python), never Qt or torch."""
