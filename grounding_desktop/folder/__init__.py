"""Whole folders at once: the feature pass, search by phrase, propose for every image.

The model's work runs on an engine (``engine.Engine``): this process (``LocalEngine``) or a Ray
cluster (``ray_engine.RayEngine``, an optional extra). Either way results come back to the caller,
the one writer of the project database and of the features file beside it.
"""
