"""File → Export… / Import… dialogs, driven by clicks: real exporters, real pycocotools."""
import time

import pytest
from PySide6.QtCore import Qt

from grounding_desktop.core import Box, BoxSource, BoxState
from grounding_desktop.project import open_project
from grounding_desktop.ui import transfer_dialogs
from grounding_desktop.ui.transfer_dialogs import ExportDialog, ImportDialog


@pytest.fixture
def labelled(photos):
    store, _ = open_project(photos)
    img = store.images.by_path()["a1.png"]
    store.labels.add_expression(img.id, "the white box", [Box(0, 0, (40, 40, 81, 101), BoxState.ACCEPTED, BoxSource.MODEL, 0.9)])
    store.labels.add_expression(img.id, "a unicorn", no_target=True)
    yield store
    store.close()


def _run(qtbot, dialog):
    qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.job is not None and not dialog.job.running and dialog.run_button.isEnabled(),
                    timeout=20000)


def test_export_then_import_round_trip(qtbot, labelled, tmp_path, photos):
    from pycocotools.coco import COCO

    dialog = ExportDialog(labelled)
    qtbot.addWidget(dialog)
    out = tmp_path / "out" / "g.json"
    out.parent.mkdir()
    dialog.out.setText(str(out))
    _run(qtbot, dialog)
    text = dialog.summary.toPlainText()
    assert f"wrote {out}" in text and "phrases 2 (no-target 1)" in text
    coco = COCO(str(out))
    assert sorted(i["caption"] for i in coco.dataset["images"]) == ["a unicorn", "the white box"]
    assert dialog.progress.value() == dialog.progress.maximum()

    # import into a fresh project of the same photos (a separate database)
    other, _ = open_project(photos, db=tmp_path / "other.sqlite")
    imp = ImportDialog(other)
    qtbot.addWidget(imp)
    changed = []
    imp.finished_with_changes.connect(lambda: changed.append(True))
    imp.file.setText(str(out))
    imp.fields.widgets["as_proposals"].setChecked(True)
    _run(qtbot, imp)
    assert changed and "imported" in imp.summary.toPlainText()
    (expr, boxes), (empty, none) = other.labels.annotations(other.images.by_path()["a1.png"].id)
    assert expr.text == "the white box" and boxes[0].bbox == (40.0, 40.0, 81.0, 101.0)
    assert boxes[0].state == BoxState.PROPOSED and empty.text == "a unicorn" and none == []
    other.close()


def test_bad_options_and_bad_file_are_reported_and_change_nothing(qtbot, labelled, tmp_path):
    dialog = ExportDialog(labelled)
    qtbot.addWidget(dialog)
    dialog.fields.widgets["splits"].setText("80,abc")
    qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
    assert "--splits" in dialog.summary.toPlainText() and dialog.job is None

    bad = tmp_path / "bad.json"
    bad.write_text('{"images": [')
    imp = ImportDialog(labelled)
    qtbot.addWidget(imp)
    imp.file.setText(str(bad))
    before = labelled.counts()
    _run(qtbot, imp)
    assert "malformed JSON" in imp.summary.toPlainText() and str(bad) in imp.summary.toPlainText()
    assert labelled.counts() == before


def test_cancel_leaves_the_earlier_file(qtbot, labelled, tmp_path, monkeypatch):
    out = tmp_path / "g.json"
    out.write_text("earlier export")
    real = transfer_dialogs.export_project

    def slow_export(store, fmt, path, options, progress, cancelled):
        def slow_progress(done, total):  # gives the Cancel click time to land mid-export
            progress(done, total)
            time.sleep(0.05)
        return real(store, fmt, path, options, slow_progress, cancelled)

    monkeypatch.setattr(transfer_dialogs, "export_project", slow_export)
    dialog = ExportDialog(labelled)
    qtbot.addWidget(dialog)
    dialog.out.setText(str(out))
    dialog.show()
    qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
    assert dialog.cancel_button.isEnabled() and not dialog.close_button.isEnabled()
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)  # Esc cancels a running job instead of closing
    qtbot.waitUntil(lambda: not dialog.job.running and dialog.run_button.isEnabled(), timeout=20000)
    assert "Cancelled" in dialog.summary.toPlainText()
    assert out.read_text() == "earlier export"
    assert dialog.isVisible()  # Esc cancelled the job, it did not close the dialog


def test_main_window_export_and_import_shortcuts(gui, tmp_path):
    """Ctrl+E / Ctrl+I open the dialogs on the window's project; an import shows up at once."""
    w = gui.w
    gui.key(Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier, widget=w.canvas)
    gui.wait(lambda: isinstance(getattr(w, "transfer_dialog", None), ExportDialog) and w.transfer_dialog.isVisible())
    exp = w.transfer_dialog
    assert exp.store is gui.store
    exp.close()

    data = {
        "images": [{"id": 1, "file_name": w.doc.labels.image.path, "width": w.doc.labels.image.width, "height": w.doc.labels.image.height,
                    "caption": "the pale square", "original_id": 7, "tokens_negative": []}],
        "annotations": [{"id": 1, "image_id": 1, "bbox": [40, 40, 81, 101], "area": 8181, "iscrowd": 0,
                         "category_id": 1, "tokens_positive": [[0, 15]]}],
        "categories": [{"id": 1, "name": "object"}],
    }
    import json

    src = tmp_path / "in.json"
    src.write_text(json.dumps(data))
    gui.key(Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier, widget=w.canvas)
    gui.wait(lambda: isinstance(w.transfer_dialog, ImportDialog) and w.transfer_dialog.isVisible())
    imp = w.transfer_dialog
    imp.file.setText(str(src))
    _run(gui.qtbot, imp)
    assert "imported" in imp.summary.toPlainText(), imp.summary.toPlainText()
    (expr, boxes), = gui.annotations()
    assert expr.text == "the pale square" and boxes[0].bbox == (40.0, 40.0, 81.0, 101.0)
    # the window shows it without a reload: the phrases panel and the canvas were refreshed
    assert [r.text(0) for r in w.panel.rows()][0] == "the pale square"
    assert [b.xywh() for b in w.canvas.box_items()] == [(40.0, 40.0, 81.0, 101.0)]


def test_the_bar_moves_while_the_labels_are_read_and_cancel_acts_there(qtbot, tmp_path):
    """A large project takes seconds to read before any file is written: the bar counts that work
    too, and a Cancel then stops the export before the read is done."""
    from grounding_desktop.core import ScanEntry
    from grounding_desktop.store import ProjectStore

    store = ProjectStore(tmp_path / "p.sqlite", root=tmp_path)
    store.images.apply_scan([ScanEntry(f"im{i}.jpg", 1, 1.0, 100, 80, f"h{i}") for i in range(300)])
    with store.transaction():
        for img in store.images.all():
            store.labels.add_expression(img.id, "the things", [Box(0, 0, (1.0, 2.0, 3.0, 4.0))] * 50)
    rows = store.counts()["boxes"] + store.counts()["phrases"]
    dialog = ExportDialog(store)
    qtbot.addWidget(dialog)
    dialog.out.setText(str(tmp_path / "g.json"))
    dialog.show()
    seen = []

    def on_progress(value):
        seen.append((value, dialog.progress.maximum()))
        if len(seen) == 1:
            qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)

    dialog.progress.valueChanged.connect(on_progress)
    qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.job.running and dialog.run_button.isEnabled(), timeout=20000)
    first_value, first_max = next((v, m) for v, m in seen if m > 1)
    assert first_value < rows <= first_max  # reported while the rows were read, on a bar that counts them
    assert "Cancelled" in dialog.summary.toPlainText() and not (tmp_path / "g.json").exists()
    store.close()


def _cli_help(command: str) -> str:
    import contextlib
    import io

    from grounding_desktop.cli import main

    text = io.StringIO()
    with contextlib.redirect_stdout(text), pytest.raises(SystemExit):
        main([command, "--help"])
    return text.getvalue()


def test_the_dialogs_offer_every_format_and_option_the_cli_takes(qtbot, labelled):
    """What the CLI's help lists (but the paths, --db and --json) is in the dialog: each format in
    its list, each option as a widget (named by its flag in the tooltip)."""
    import re

    exp, imp = ExportDialog(labelled), ImportDialog(labelled)
    qtbot.addWidget(exp)
    qtbot.addWidget(imp)
    terminal_only = {"-h", "--help", "--db", "--json", "--out", "--format", "-q", "--quiet"}
    for dialog, command in ((exp, "export"), (imp, "import")):
        raw = _cli_help(command)
        text = " ".join(raw.split())
        listed = {dialog.format.itemData(i, Qt.ItemDataRole.ToolTipRole) for i in range(dialog.format.count())}
        if command == "export":
            formats = re.search(r"--format \{([^}]*)\}", text).group(1).split(",")
            assert listed == {f"--format {f}" for f in formats}
            sources = set()
        else:
            sources = set(re.findall(r"(--[\w-]+ (?:FILE|DIR))", re.search(r"\(([^)]*)\)", text).group(1)))
            assert listed == sources and {"--odvg FILE", "--refcoco DIR"} <= listed
        flags = set(re.findall(r"^  (--?[a-z][a-z-]*)", raw.split("options:")[1], re.MULTILINE))
        offered = {w.toolTip().split(":")[0] for w in dialog.fields.widgets.values()}
        assert offered == flags - terminal_only - {s.split()[0] for s in sources}
    assert {"--with-images", "--dataset-name", "--splits"} <= {w.toolTip().split(":")[0] for w in exp.fields.widgets.values()}


def test_export_dialog_writes_a_self_contained_split_refcoco_named_dataset(qtbot, labelled, tmp_path):
    from pycocotools.coco import COCO

    dialog = ExportDialog(labelled)
    qtbot.addWidget(dialog)
    dialog.show()
    widgets = dialog.fields.widgets
    dialog.format.setCurrentIndex(dialog.format.findData("coco"))
    assert not widgets["dataset_name"].isEnabled()  # a coco-grounding option
    dialog.format.setCurrentIndex(dialog.format.findData("coco-grounding"))
    assert widgets["dataset_name"].isEnabled()
    qtbot.mouseClick(widgets["with_images"], Qt.MouseButton.LeftButton)
    assert widgets["with_images"].isChecked() and not dialog.out.text().endswith(".json")  # a folder now
    out = tmp_path / "dataset"
    dialog.out.setText(str(out))
    qtbot.keyClicks(widgets["dataset_name"], "refcoco")
    qtbot.keyClicks(widgets["splits"], "100,0")
    _run(qtbot, dialog)
    text = dialog.summary.toPlainText()
    assert "Failed" not in text and "skipped 1 phrase: no-target phrase" in text
    coco = COCO(str(out / "annotations" / "grounding_train.json"))
    assert {im["dataset_name"] for im in coco.dataset["images"]} == {"refcoco"}
    assert [im["caption"] for im in coco.dataset["images"]] == ["the white box"]
    assert (out / "images" / "train" / "a1.png").is_file()


@pytest.mark.parametrize("fmt,out", [("odvg", "o.jsonl"), ("refcoco", "refcoco")])
def test_import_dialog_reads_the_other_formats_the_cli_reads(qtbot, labelled, tmp_path, photos, fmt, out):
    from grounding_desktop.io.export import export_project

    labelled.labels.add_expression(labelled.images.by_path()["a2.png"].id, "the pale square", [Box(0, 0, (40, 40, 81, 101))])
    export_project(labelled, fmt, tmp_path / out)
    other, _ = open_project(photos, db=tmp_path / "other.sqlite")
    imp = ImportDialog(other)
    qtbot.addWidget(imp)
    imp.set_format(fmt)
    imp.file.setText(str(tmp_path / out))
    qtbot.mouseClick(imp.fields.widgets["dry_run"], Qt.MouseButton.LeftButton)
    _run(qtbot, imp)
    assert other.counts()["phrases"] == 0 and "Failed" not in imp.summary.toPlainText()  # checked only
    qtbot.mouseClick(imp.fields.widgets["dry_run"], Qt.MouseButton.LeftButton)
    _run(qtbot, imp)
    texts = {e.text for img in ("a1.png", "a2.png") for e, _ in other.labels.annotations(other.images.by_path()[img].id)}
    assert {"the white box", "the pale square"} <= texts
    other.close()
