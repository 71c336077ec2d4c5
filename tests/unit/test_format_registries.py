"""The export and import formats, declared once (``io.formats.EXPORT_FORMATS``,
``io.importers.IMPORT_FORMATS``): the README's tables and the File menu's tips name exactly the
declared formats, so a format added or dropped in its registry cannot leave them behind."""
import re
from pathlib import Path

from grounding_desktop.io.formats import EXPORT_FORMATS
from grounding_desktop.io.importers import IMPORT_FORMATS
from grounding_desktop.ui.shortcuts import ACTIONS

REPO = Path(__file__).resolve().parents[2]


def readme_section(title: str) -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else None]


def test_the_readme_tables_name_exactly_the_declared_formats():
    exports = {f.name for f in EXPORT_FORMATS}
    imports = {f.flag for f in IMPORT_FORMATS}
    both = readme_section("Formats in and out")
    assert set(re.findall(r"`--format ([\w-]+)`", both)) == exports
    assert set(re.findall(r"`(--[\w-]+) (?:FILE|DIR)", both)) == imports
    export_rows = re.findall(r"^\| `([a-z][\w-]*)` \|", readme_section("Export formats"), re.M)
    assert sorted(export_rows) == sorted(exports)


def test_the_file_menu_tips_name_exactly_the_declared_formats():
    tip = {a.name: a.tip for a in ACTIONS}
    assert all(f.name in tip["export"] for f in EXPORT_FORMATS)
    assert all(f.flag[2:] in tip["import"] for f in IMPORT_FORMATS)
