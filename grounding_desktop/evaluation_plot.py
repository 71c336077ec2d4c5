"""The picture of an :class:`~grounding_desktop.evaluation.Evaluation`: per-phrase Acc@0.5 beside
the reliability diagram (for each tenth of the score, the fraction of top boxes that were right;
on the diagonal, a score means what it says). ``evaluate --plot FILE.png`` writes it, the app's
Evaluate dialog shows it.

matplotlib is imported here, inside the function, and drawn with its Agg canvas on a ``Figure``
of its own (no pyplot, no GUI backend): it runs on any thread and loads only when a picture is
asked for.
"""
from __future__ import annotations

import io

from .evaluation import Evaluation, calibration_error

MAX_PHRASES = 25  # the phrases tried most; the rest are in the table and the JSON
DPI = 100


def plot_png(report: Evaluation, width: int = 1000, height: int = 420) -> bytes:
    """The picture as PNG bytes, ``width`` x ``height`` pixels."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    accuracy, diagram = fig.subplots(1, 2, width_ratios=(1.25, 1))
    _accuracy(accuracy, report)
    _diagram(diagram, report)
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI)
    return out.getvalue()


def _accuracy(ax, report: Evaluation) -> None:
    shown = report.phrases[:MAX_PHRASES]
    names = [r.phrase if len(r.phrase) <= 24 else r.phrase[:23] + "…" for r in shown]
    values = [100 * r.accuracy for r in shown]
    ax.barh(range(len(shown)), values, color="#4c72b0")
    ax.set_yticks(range(len(shown)), names, fontsize=8)
    ax.invert_yaxis()
    for i, r in enumerate(shown):
        ax.text(min(values[i] + 1, 88), i, f"{r.hits}/{r.tried}", va="center", fontsize=7)
    total = report.total
    if total.tried:
        ax.axvline(100 * total.accuracy, color="#c44e52", linestyle="--", linewidth=1,
                   label=f"all phrases {100 * total.accuracy:.1f} %")
        ax.legend(loc="lower right", fontsize=8)
    more = len(report.phrases) - len(shown)
    ax.set_title("Acc@0.5 per phrase" + (f" ({more} more not shown)" if more > 0 else ""), fontsize=10)
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of images where the top box was right", fontsize=8)


def _diagram(ax, report: Evaluation) -> None:
    bins = report.reliability_bins
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
    ax.text(0.62, 0.66, "score = fraction right", rotation=45, rotation_mode="anchor", transform_rotates_text=True,
            color="grey", fontsize=7)
    filled = [b for b in bins if b.count]
    ax.bar([(b.low + b.high) / 2 for b in filled], [b.fraction_right for b in filled], width=0.09, color="#55a868")
    for b in filled:
        ax.text((b.low + b.high) / 2, b.fraction_right + 0.015, str(b.count), ha="center", fontsize=7)
    error = calibration_error(bins)
    ax.set_title("Reliability of the score" + (f" (ECE {error:.2f})" if error is not None else ""), fontsize=10)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.08)  # room for the counts above a full bar
    ax.set_xticks([k / 5 for k in range(6)])
    ax.set_xticks([k / 10 for k in range(11)], minor=True)
    ax.set_yticks([k / 5 for k in range(6)])
    ax.tick_params(labelsize=7)
    ax.set_xlabel("top box's score (top boxes above each bar)", fontsize=8)
    ax.set_ylabel("fraction right (IoU ≥ 0.5)", fontsize=8)
