"""The grounding model (torch). Never imports Qt."""
import os as _os

# torch's OpenMP workers spin while they wait, by default. On a 2-core desktop that is also
# painting a GUI (or running anything else) a spinning worker starves its partner and one
# detection can take 5-15x longer (benchmarks/detector_speed.py measured 40 ms -> 0.4-1.5 s
# under load; with PASSIVE it stayed near the OpenCV baseline). libgomp reads this once, when
# torch is first imported, so it is set here, before any module of this package imports torch;
# an explicit setting by the user wins.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
