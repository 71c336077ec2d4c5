"""Grounding → Model…: the user's ONNX detector chosen in the app, remembered per project, the model
reloaded with it and its runtime in the status bar."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from grounding_desktop.core.detector_choice import DetectorChoice
from grounding_desktop.ui.model_dialog import ModelDialog


def _choose_own_model(gui, path: str) -> ModelDialog:
    gui.w.actions_by_name["model"].trigger()
    dlg = gui.w.findChild(ModelDialog, "modelDialog")
    assert dlg is not None and dlg.isVisible()
    gui.qtbot.mouseClick(dlg.own, Qt.MouseButton.LeftButton)
    dlg.model_file.clear()
    gui.qtbot.keyClicks(dlg.model_file, path)
    gui.qtbot.mouseClick(dlg.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    return dlg


def test_own_detector_is_used_remembered_and_shown(open_window, photos, tmp_path):
    model = tmp_path / "widgets.onnx"
    model.write_bytes(b"the fake grounder never opens it")
    gui = open_window(photos)
    assert gui.w.host.runtime == "fake"  # a new project: the default detector
    assert gui.w.status.model.text().endswith("· fake")

    dlg = _choose_own_model(gui, str(tmp_path / "missing.onnx"))
    assert dlg.isVisible() and "no such file" in dlg.error.text()  # stays open, says why
    dlg.model_file.clear()
    gui.qtbot.keyClicks(dlg.model_file, str(model))
    gui.qtbot.mouseClick(dlg.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)

    wanted = DetectorChoice(onnx_file=str(model.resolve()))
    gui.wait(lambda: gui.w.host.ready and gui.w.host.runtime == f"fake ({wanted.describe()})")
    assert wanted.describe() in gui.w.status.model.text()
    assert DetectorChoice.from_json(gui.store.get_meta("detector")) == wanted
    gui.type_phrase("the widget")  # the reloaded model answers
    gui.w.close()

    reopened = open_window(photos)
    assert reopened.w.host.runtime == f"fake ({wanted.describe()})"
    assert wanted.describe() in reopened.w.status.model.text()


def test_a_stored_backend_this_version_does_not_declare_falls_back_with_a_message(tmp_path):
    """A project saved by a version with another backend reopens on the default detector, saying so."""
    from grounding_desktop.store import ProjectStore
    from grounding_desktop.ui.model_dialog import project_detector

    store = ProjectStore(tmp_path / "p.sqlite", root=tmp_path)
    try:
        store.set_meta("detector", '{"backend": "tensorrt"}')
        choice, problem = project_detector(store)
    finally:
        store.close()
    assert choice == DetectorChoice()
    assert "unknown backend 'tensorrt'" in problem and "using the bundled detector" in problem


def test_the_status_bar_names_the_fit_the_model_proposes_with_after_it_learned(open_window, photos):
    """The model's version names the fit that fuses its evidence, which a project's refit changes
    (the stand-in's changes with every box it is taught): the status bar's facts follow, as the
    boxes it proposes from then on carry the new version."""
    from fakes import RefittingGrounder

    gui = open_window(photos, factory=RefittingGrounder)
    assert gui.w.host.info.model_version == "fake-1" and "Model fake-1\n" in gui.w.status.model.toolTip()
    gui.type_phrase("a thing")
    gui.key(Qt.Key.Key_Return, widget=gui.w.phrase_bar.edit)  # accept the first proposal: taught
    gui.wait(lambda: gui.w.host.info.model_version == "fake-1+fit-1")
    assert "Model fake-1+fit-1\n" in gui.w.status.model.toolTip()
    assert gui.w.host.ready and gui.w.status.model.text().endswith("· fake")
