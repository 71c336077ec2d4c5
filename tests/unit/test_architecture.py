"""The layering rules of docs/ARCHITECTURE.md, checked twice: statically, by import-linter's
contracts in pyproject.toml (every module, ui and the composition modules included), and at run
time, by importing every module of a layer with the libraries it must not use blocked and looking
at which of the package's modules got imported (this also catches lazy imports inside functions)."""
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = """
import sys, importlib, importlib.abc, pkgutil
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {blocked!r}:
            raise ImportError('blocked import of ' + name)
sys.meta_path.insert(0, Block())
pkg = importlib.import_module('grounding_desktop.{layer}')
for info in pkgutil.walk_packages(getattr(pkg, '__path__', []), pkg.__name__ + '.'):
    importlib.import_module(info.name)
allowed = {allowed!r}
full = ['grounding_desktop.' + a for a in allowed or ()]
own = [m for m in sys.modules if m.startswith('grounding_desktop.')]
def ok(m):  # an allowed module, one inside it, or the package that holds it
    return any(m == p or m.startswith(p + '.') or p.startswith(m + '.') for p in full)
bad = [m for m in own if allowed is not None and not ok(m)]
assert not bad, 'imports outside its layer: ' + ', '.join(sorted(bad))
print(sorted(m for m in ('torch', 'PySide6', 'cv2', 'ray') if m in sys.modules))
"""

REPO = Path(__file__).resolve().parents[2]
PACKAGE = "grounding_desktop"

LINT = """
import sys
from importlinter.cli import lint_imports
sys.exit(lint_imports(config_filename="pyproject.toml", no_cache=True, no_logo=True))
"""


def test_import_linter_contracts_hold():
    r = subprocess.run([sys.executable, "-c", LINT], capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0, r.stdout + r.stderr


HEAVY = {"torch", "torchvision", "PySide6", "cv2", "sentence_transformers"}


def _run(layer: str, blocked: set, allowed=None) -> subprocess.CompletedProcess:
    code = SCRIPT.format(blocked=blocked, layer=layer, allowed=allowed)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_package_and_cli_import_light():
    for layer in ("__init__", "cli", "commands"):
        r = _run(layer, set())
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == "[]", f"{layer} imported {r.stdout}"


@pytest.mark.parametrize("layer,allowed", [
    ("core", ("core",)),
    ("store", ("core", "store")),
    ("io", ("core", "io")),
])
def test_core_store_io_are_qt_and_torch_free_and_stay_in_their_layer(layer, allowed):
    r = _run(layer, HEAVY, allowed)
    assert r.returncode == 0, r.stderr


def test_the_document_model_is_qt_and_torch_free():
    """The editing rules run without Qt or torch (the phrase parser of their plural rule is in core)."""
    r = _run("editing", HEAVY, ("core", "store", "editing"))
    assert r.returncode == 0, r.stderr


def test_ui_never_imports_the_cli():
    """Only ``commands/gui.py`` imports ``ui`` (lazily); ``ui`` importing ``commands``, even inside a
    function, would close a cycle. Read from the source, so lazy imports count too."""
    import ast
    from pathlib import Path

    import grounding_desktop.ui as ui

    bad = []
    for path in Path(ui.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                target = "." * node.level + (node.module or "")
                if target.startswith(("..commands", "..cli", "grounding_desktop.commands", "grounding_desktop.cli")):
                    bad.append(f"{path.name}: {target}")
    assert not bad, bad


def test_the_model_process_is_driven_without_torch_or_qt():
    """The app imports ``model_worker`` to talk to its model process: that must not load torch into
    the GUI process (the model runs in the other one), and the process itself never imports Qt."""
    r = _run("model_worker", HEAVY)
    assert r.returncode == 0, r.stderr


def test_grounding_never_imports_qt_or_ui():
    r = _run("grounding", {"PySide6"}, ("core", "grounding"))
    assert r.returncode == 0, r.stderr


def test_the_window_and_the_document_stay_readable_in_size():
    """docs/ARCHITECTURE.md: ``main_window.py`` only wires (at most 300 lines), and no class of
    ``editing`` or ``ui`` grows past 400 lines (split it by what it holds, as the document is)."""
    import ast

    package = REPO / "grounding_desktop"
    assert len((package / "ui" / "main_window.py").read_text().splitlines()) <= 300
    big = [f"{path.name}:{node.name}" for folder in ("editing", "ui") for path in (package / folder).glob("*.py")
           for node in ast.walk(ast.parse(path.read_text()))
           if isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno >= 400]
    assert not big, big


def mutual_imports(packages):
    """Pairs of modules of ``packages`` (dotted names: ``grounding_desktop`` itself, or packages
    under it such as ``grounding_desktop.ui``) that import each other, counting every import grimp
    finds: lazy ones inside functions and ``TYPE_CHECKING`` ones too."""
    import grimp

    graph = grimp.build_graph(PACKAGE, cache_dir=None)
    prefixes = tuple(packages)
    ours = [m for m in graph.modules if m.startswith(prefixes)]
    return sorted({tuple(sorted((m, other))) for m in ours for other in graph.find_modules_directly_imported_by(m)
                   if other.startswith(prefixes) and m in graph.find_modules_directly_imported_by(other)})


def test_no_two_modules_import_each_other():
    """No two modules of the whole package import each other: a circle of imports makes neither
    readable alone (issue 22). ``folder_tools`` and ``window_layout`` read the window through
    ``window_layout.Window``, ``io.selection`` counts what it chose in ``io.export_summary`` rather
    than the summary reading the selection's records."""
    assert mutual_imports((PACKAGE,)) == []


def _strings(path: Path):
    """The string constants of a module, its docstrings left out (they may name keys)."""
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = {id(n.body[0].value) for n in ast.walk(tree)
            if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    return [(n.lineno, n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs]


# Keys that are not actions of the key table, named where a widget handles them itself.
KEYS_OF_THEIR_OWN = ("Enter or a click opens one",)  # the search panel's result list


def test_messages_name_keys_only_through_the_key_table():
    """Issue 22: what the app says names a key through ``editing.keys.key(action)``, so a rebound key
    is named right everywhere; no string of ``editing`` or ``ui`` writes "W", "Tab", "Shift+Enter"...
    (single letters are looked for as "(W)"; arrows and Home/End read as words, so they are not)."""
    import re

    from grounding_desktop.editing.keys import KEYS, display_keys

    names = {display_keys((k,)) for keys in KEYS.values() for k in keys}
    named = sorted((n for n in names if "+" in n or re.fullmatch(r"F\d+|Tab|Enter|Esc|Del|Backspace|Space|PgUp|PgDown", n)),
                   key=len, reverse=True)
    letters = sorted(n for n in names if len(n) == 1)
    pattern = re.compile(r"(?<![\w+])(" + "|".join(map(re.escape, named)) + r")(?![\w+])|\((" + "|".join(letters) + r")\)")
    package = REPO / "grounding_desktop"
    found = [f"{path.name}:{line}: {text[:60]!r}" for folder in ("editing", "ui") for path in (package / folder).glob("*.py")
             if path.name != "keys.py" for line, text in _strings(path)
             if pattern.search(text) and not any(own in text for own in KEYS_OF_THEIR_OWN)]
    assert not found, found


def test_the_editing_rules_are_tested_without_qt():
    """Issue 22: the document's and the session's tests need no Qt application (no ``qapp`` or
    ``qtbot`` fixture, no PySide6 import): the rules run on the plain undo stack."""
    for name in ("test_document.py", "test_session.py"):
        source = (REPO / "tests" / "unit" / name).read_text(encoding="utf-8")
        assert not any(word in source for word in ("qapp", "qtbot", "PySide6")), name


def long_parameter_lists(folders, most: int = 6):
    """Functions and methods of the modules under ``folders`` (paths: the package, or folders in
    it) taking more than ``most`` parameters: positional, keyword-only, ``*args`` and ``**kwargs``
    count; ``self`` and ``cls`` do not."""
    import ast

    found = []
    for folder in folders:
        for path in sorted(Path(folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    a = node.args
                    names = [p.arg for p in a.posonlyargs + a.args + a.kwonlyargs] + [p.arg for p in (a.vararg, a.kwarg) if p]
                    names = names[1:] if names[:1] in (["self"], ["cls"]) else names
                    if len(names) > most:
                        found.append(f"{path.relative_to(REPO)}:{node.lineno} {node.name} ({len(names)})")
    return found


def test_no_function_takes_more_than_six_parameters():
    """Issue 22: no function of the whole package takes more than 6 parameters; a longer list
    becomes a small record (``io.import_plan.ImportOptions``, ``io.export_images.ImageCopies``,
    ``folder.propose.ProposeRun``, ``ui.model_start.ModelStart``)."""
    assert long_parameter_lists([REPO / PACKAGE]) == []


def test_the_model_keeps_at_most_12_modules_at_its_top_level():
    """``grounding/`` is grouped by the model's stages (detectors, text, recognition, scoring);
    only the ``Grounder`` and what spans the stages stay on top."""
    top = sorted(p.name for p in (REPO / "grounding_desktop" / "grounding").glob("*.py") if p.name != "__init__.py")
    assert len(top) <= 12, top
