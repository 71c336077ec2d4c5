"""The one table of user actions; their keys are ``editing.keys.KEYS``, the table the document's
messages name keys from too.

Menus, the toolbar, the Help → Keyboard shortcuts dialog and the README's table are all built from
``ACTIONS``, so a key can never be documented in one place and bound differently in another.
This module is plain Python (no Qt) so the README table can be generated without a display.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..editing.keys import KEYS, RECENT_FOLDERS, display_keys, key
from ..io.formats import EXPORT_FORMATS
from ..io.importers import IMPORT_FORMATS


def _either(names) -> str:
    """"a, b or c": the formats a tip names, read from their registries."""
    *rest, last = names
    return f"{', '.join(rest)} or {last}" if rest else last


@dataclass(frozen=True)
class ActionSpec:
    """A user action; its keys are ``editing.keys.KEYS[name]`` (``QKeySequence`` portable strings;
    the first is shown in menus)."""

    name: str
    text: str
    menu: str
    tip: str
    toolbar: bool = False
    checkable: bool = False
    icon: str = ""  # a QStyle.StandardPixmap name, drawn by the platform style
    short: str = ""  # toolbar label
    canvas_only: bool = False  # keys that mean something else in lists and text fields (arrows)
    needs: str = ""  # enabled only while this holds (a key of ``window_actions.needs_now``); "": always
    notes: str = field(default="", compare=False)  # extra words for the help table only

    @property
    def keys(self) -> tuple[str, ...]:
        return KEYS[self.name]


ACTIONS: tuple[ActionSpec, ...] = (
    # File
    ActionSpec("open_folder", "&Open Folder…", "File", "Open a folder of images as a project",
               toolbar=True, icon="SP_DirOpenIcon", short="Open",
               notes=f"{display_keys(RECENT_FOLDERS[:1])} … {display_keys(RECENT_FOLDERS[-1:])} open the recent ones "
                     "(File → Open Recent)"),
    ActionSpec("export", "&Export…", "File",
               f"Write {_either(f.name for f in EXPORT_FORMATS)}, with splits and a summary",
               toolbar=True, icon="SP_DialogSaveButton", short="Export", needs="project"),
    ActionSpec("import", "&Import…", "File",
               f"Add boxes from {_either(f.flag[2:] for f in IMPORT_FORMATS)} files or folders (all of it, or nothing)",
               needs="project"),
    ActionSpec("rescan", "&Rescan Folder", "File", "Look for images added, removed or renamed on disk", needs="project"),
    ActionSpec("quit", "&Quit", "File", "Close the window (every edit is already saved)"),
    # Edit
    ActionSpec("undo", "&Undo", "Edit", "Undo the last edit", toolbar=True, icon="SP_ArrowBack", short="Undo"),
    ActionSpec("redo", "&Redo", "Edit", "Redo the edit just undone",
               toolbar=True, icon="SP_ArrowForward", short="Redo"),
    ActionSpec("history", "&History", "Edit", "Show every edit of this session; click one to go back to it",
               checkable=True),
    ActionSpec("draw_mode", "&Draw Box", "Edit",
               "Drag on the image to draw a box for the typed phrase, or name it when asked "
               f"({key('draw_mode', 1)} also works while typing)",
               toolbar=True, checkable=True, icon="SP_FileDialogNewFolder", short="Draw", needs="image"),
    ActionSpec("delete", "&Delete Selected", "Edit",
               "Delete the selected box (the next box of its phrase is selected) or phrase",
               toolbar=True, icon="SP_TrashIcon", short="Delete", needs="image"),
    ActionSpec("rename", "&Edit Phrase…", "Edit",
               "On a box: give that box alone another phrase, new or on the image; on a phrase: change its text",
               notes="or double-click a box or phrase", needs="image"),
    ActionSpec("nudge_left", "Nudge Box Left", "Edit", "Move the selected box 1 px left (Shift: 10 px)", canvas_only=True),
    ActionSpec("nudge_right", "Nudge Box Right", "Edit", "Move the selected box 1 px right (Shift: 10 px)", canvas_only=True),
    ActionSpec("nudge_up", "Nudge Box Up", "Edit", "Move the selected box 1 px up (Shift: 10 px)", canvas_only=True),
    ActionSpec("nudge_down", "Nudge Box Down", "Edit", "Move the selected box 1 px down (Shift: 10 px)", canvas_only=True),
    # Grounding
    ActionSpec("focus_phrase", "&Type a Phrase", "Grounding", "Put the cursor in the phrase bar",
               notes=f"{key('clear')} in an empty phrase bar returns to the image"),
    ActionSpec("next_proposal", "&Next Proposal", "Grounding", "Highlight the next proposal",
               notes="proposals scoring under the threshold are drawn only while highlighted", needs="proposals"),
    ActionSpec("prev_proposal", "&Previous Proposal", "Grounding", "Highlight the previous proposal", needs="proposals"),
    ActionSpec("accept", "&Accept Proposal", "Grounding",
               "Store the highlighted proposal as a box of the phrase", toolbar=True, icon="SP_DialogApplyButton",
               notes="or click a dashed proposal; with nothing typed, accept the selected proposed box",
               short="Accept", needs="answer_or_proposed_box"),
    ActionSpec("accept_all", "Accept &All Above Threshold", "Grounding",
               "Store every proposal scoring at least the threshold (plural phrases: “the horses”)", needs="answer"),
    ActionSpec("accept_none", "Add Phrase With &No Target", "Grounding",
               "Store the phrase as not in this image (a negative example), also after rejecting its proposals", needs="image"),
    ActionSpec("reject", "&Reject Proposal", "Grounding",
               "Store the highlighted proposal as a rejected box (this box is wrong) and hide it; the phrase "
               "still needs a box", needs="proposals"),
    ActionSpec("evaluate", "&Evaluate…", "Grounding",
               "Measure the model on this project's labels: Acc@0.5 and mean IoU per phrase",
               notes="concepts learned from your boxes are judged leave-one-image-out", needs="project"),
    ActionSpec("clear", "&Clear Proposals", "Grounding", "Clear the phrase, the proposals and the hint point",
               notes="click the image (Ctrl+click over a proposal) to give a hint point"),
    ActionSpec("propose_all", "&Propose for Every Image…", "Grounding",
               "Store the model's best boxes for a list of phrases on every image not yet reviewed, as proposals "
               "to review (one undo step)",
               notes="boxes that are there are never changed; review them with Review by Doubt", needs="project"),
    ActionSpec("prepare_background", "Prepare Images in the &Background", "Grounding",
               "Prepare every image once for search and proposals, by itself when a project opens",
               checkable=True, notes="the status bar shows it, with Cancel and Resume; off: no automatic start"),
    ActionSpec("model", "&Model…", "Grounding",
               "Choose the detector: the bundled one (torch or onnxruntime) or your own ONNX file",
               notes="remembered per project; the status bar says what runs it"),
    # Navigate
    ActionSpec("prev_image", "&Previous Image", "Navigate", "Show the previous image in the list",
               toolbar=True, icon="SP_MediaSeekBackward", short="Previous", needs="project"),
    ActionSpec("next_image", "&Next Image", "Navigate", "Show the next image in the list",
               toolbar=True, icon="SP_MediaSeekForward", short="Next", needs="project"),
    ActionSpec("review_next", "&Mark Reviewed, Next Unreviewed", "Navigate",
               "Accept what is on screen and move on: the image's proposed boxes scoring at least the threshold "
               "become labels, it is marked reviewed, and the next one not yet reviewed is shown", toolbar=True,
               icon="SP_DialogYesButton", notes="weaker proposals (drawn faint) stay proposals; on the image: a tap; "
                                                "Space+drag pans", short="Reviewed → next", needs="image"),
    ActionSpec("review_doubt", "Review by &Doubt", "Navigate",
               "List only the images with proposals, the model's least sure first, and show the first",
               notes=f"{key('review_next')} then walks them in that order", needs="project"),
    ActionSpec("search", "&Search Images…", "Navigate",
               "Rank the folder's images by how well they show a phrase, with the matched box; Enter or a click "
               "opens one with that box highlighted",
               notes="images not prepared yet are searched as they are prepared", needs="project"),
    ActionSpec("first_image", "&First Image", "Navigate", "Show the first image in the list", needs="project"),
    ActionSpec("last_image", "&Last Image", "Navigate", "Show the last image in the list", needs="project"),
    # View
    ActionSpec("fit", "&Fit to Window", "View", "Show the whole image", toolbar=True,
               icon="SP_TitleBarNormalButton", short="Fit"),
    ActionSpec("zoom_in", "Zoom &In", "View", "Zoom in around the centre",
               notes="or the mouse wheel, around the cursor"),
    ActionSpec("zoom_out", "Zoom &Out", "View", "Zoom out around the centre"),
    ActionSpec("actual_size", "&Actual Pixels", "View", "One image pixel per screen pixel"),
    ActionSpec("show_images", "&Images Panel", "View", "Show or hide the image list", checkable=True),
    ActionSpec("show_expressions", "&Phrases Panel", "View", "Show or hide the phrases and boxes",
               checkable=True),
    ActionSpec("show_search", "&Search Panel", "View", "Show or hide the search results", checkable=True),
    # Help
    ActionSpec("shortcuts", "&Keyboard Shortcuts", "Help", "List every action and its keys"),
    ActionSpec("about", "&About Grounding Desktop", "Help", "Version, model and project paths"),
)

MENUS: tuple[str, ...] = ("File", "Edit", "Grounding", "Navigate", "View", "Help")

# Mouse gestures are not actions, but people look for them in the same table.
MOUSE: tuple[tuple[str, str], ...] = (
    ("Wheel", "Zoom around the cursor"),
    ("Middle drag / Space+drag / drag empty image", "Pan"),
    ("Click a dashed proposal", "Accept it"),
    ("Click the image (Ctrl+click over proposals)", "Hint point: where the model should look"),
    ("Click a box, then drag it or its handles", "Select, move, resize (kept inside the image)"),
    (f"Drag in draw mode ({key('draw_mode')})", "Draw a box for the current phrase"),
    ("Double-click a box or phrase", "Edit the phrase (of a box: that box alone)"),
)


def spec(name: str) -> ActionSpec:
    for a in ACTIONS:
        if a.name == name:
            return a
    raise KeyError(name)


def markdown_table() -> str:
    """The shortcut table as Markdown, for the README (``python -m grounding_desktop.ui.shortcuts``)."""
    lines = ["| Menu | Action | Keys | What it does |", "|---|---|---|---|"]
    for a in ACTIONS:
        lines.append(f"| {a.menu} | {a.text.replace('&', '').rstrip('…')} | {display_keys(a.keys)} | "
                     f"{a.tip}{'; ' + a.notes if a.notes else ''} |")
    lines.append("")
    lines.append("| Mouse | |")
    lines.append("|---|---|")
    lines.extend(f"| {g} | {d} |" for g, d in MOUSE)
    return "\n".join(lines)


def shown_keys(a: ActionSpec) -> str:
    return display_keys(a.keys)


if __name__ == "__main__":  # pragma: no cover
    print(markdown_table())
