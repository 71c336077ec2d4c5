"""From evidence to a score: the phrase scorer, its fused weights and their fit, the colour statistics
of regions, and the concepts learned from the user's boxes."""
