"""The grounding model (torch). Never imports Qt."""
