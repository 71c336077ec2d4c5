"""The phrase side: the sentence encoder (all-MiniLM-L6-v2, run directly) that maps a phrase's noun
onto the detector's classes."""
