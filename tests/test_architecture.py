"""The house rules, checked: imports point down the layers (pyproject's import-linter contracts), the product
path loads nothing of training, data building or evaluation, and no module imports itself round a cycle."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESEARCH = ("model.training", "model.data", "model.evaluate", "model.evaluate_reader")

SCORE = """<?xml version="1.0" encoding="UTF-8"?>
<score-partwise version="3.1">
  <part-list><score-part id="P1"><part-name>Piano</part-name></score-part></part-list>
  <part id="P1">
    <measure number="1">
      <attributes><divisions>1</divisions><time><beats>4</beats><beat-type>4</beat-type></time>
        <clef><sign>G</sign><line>2</line></clef></attributes>
      <note><pitch><step>C</step><octave>4</octave></pitch><duration>2</duration><type>half</type></note>
      <note><pitch><step>E</step><octave>4</octave></pitch><duration>2</duration><type>half</type></note>
    </measure>
  </part>
</score-partwise>
"""

# run in a fresh interpreter, so nothing another test imported counts
PRODUCT_PATH = """
import json, sys
from pathlib import Path

def research():
    return sorted(m for m in sys.modules if m.split(".")[:2] in (["model", "training"], ["model", "data"])
                  or m in ("model.evaluate", "model.evaluate_reader"))

import model.api as api

after_import = research()
midi = api.translate(api.load(Path(sys.argv[1])), api.Modality.MIDI)
notes = sorted((n.pitch, round(n.start, 3), round(n.end, 3)) for i in midi.pm.instruments for n in i.notes)
print(json.dumps({"file": api.__file__, "after_import": after_import, "after_translation": research(),
                  "notes": notes}))
"""


def _tool(name: str) -> str:
    """A console script of the interpreter running the tests (installed by the ``test`` extra)."""
    found = shutil.which(name, path=str(Path(sys.executable).parent))
    assert found, f"{name} is not installed beside {sys.executable}: pip install -e '.[test]'"
    return found


def test_import_contracts_are_kept():
    """The four contracts of pyproject.toml: the app reaches the model through model.api only; the model never
    imports Qt, the app or the tools; inference and what it stands on never import training, data building or
    evaluation; the layers only point down."""
    run = subprocess.run([_tool("lint-imports"), "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Contracts: 4 kept, 0 broken." in run.stdout, run.stdout


def test_the_product_path_loads_no_training_data_or_evaluation(tmp_path):
    score = tmp_path / "score.musicxml"
    score.write_text(SCORE)
    run = subprocess.run([sys.executable, "-c", PRODUCT_PATH, str(score)], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    got = json.loads(run.stdout.strip().splitlines()[-1])
    assert Path(got["file"]).resolve() == ROOT / "model" / "api.py"     # this checkout's model, not another
    assert got["notes"] == [[60, 0.0, 1.0], [64, 1.0, 2.0]]              # the translation really ran
    assert got["after_import"] == []
    assert got["after_translation"] == []


IMPORT_GRAPH = """
import json, grimp
graph = grimp.build_graph("model", "unimt_desktop", "tools", cache_dir=None)
imports = {m: sorted(graph.find_modules_directly_imported_by(m) & graph.modules) for m in graph.modules}
print(json.dumps(imports))
"""


def _cycles(imports: dict[str, list[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)

    for root in sorted(imports):
        if root in index:
            continue
        visit(root)
        work = [(root, iter(sorted(imports[root])))]
        while work:
            v, children = work[-1]
            w = next(children, None)
            if w is not None:
                if w not in index:
                    visit(w)
                    work.append((w, iter(sorted(imports[w]))))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def test_no_module_imports_itself_round_a_cycle():
    """Imports inside functions count too: a cycle hidden in one is still a cycle."""
    run = subprocess.run([sys.executable, "-c", IMPORT_GRAPH], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    imports = json.loads(run.stdout)
    assert {"model.api", "model.inference.engine", "unimt_desktop.mainwindow", "tools.probe"} <= set(imports)
    assert _cycles(imports) == []


def test_the_cycle_finder_finds_a_cycle():
    imports = {"a": ["b"], "b": ["c"], "c": ["a", "e"], "d": ["a"], "e": ["f"], "f": ["e"]}
    assert _cycles(imports) == [["e", "f"], ["a", "b", "c"]]
    assert _cycles({"a": ["b"], "b": []}) == []


def test_ruff_finds_nothing():
    """pyflakes, pycodestyle, isort and bugbear (pyproject's [tool.ruff.lint]) over the whole tree."""
    folders = ["model", "unimt_desktop", "tests", "tools", "scripts"]
    run = subprocess.run([_tool("ruff"), "check", "--no-cache", *folders], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr


MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 100


def _functions(tree, prefix: str = ""):
    """(qualified name, lines) of every function and method in a module's tree, nested ones too."""
    import ast

    for child in ast.iter_child_nodes(tree):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            name = f"{prefix}{child.name}"
            if not isinstance(child, ast.ClassDef):
                yield name, child.end_lineno - child.lineno + 1
            yield from _functions(child, name + ".")


def _sizes() -> tuple[dict[str, int], dict[str, int]]:
    """(lines of every module, lines of every function as "path:qualified name"): shipped code and tools."""
    import ast

    modules, functions = {}, {}
    for folder in ("model", "unimt_desktop", "tools"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            text = path.read_text()
            modules[rel] = text.count("\n")
            functions.update({f"{rel}:{name}": n for name, n in _functions(ast.parse(text))})
    return modules, functions


def test_no_module_over_600_lines_and_no_function_over_100():
    modules, functions = _sizes()
    assert len(modules) > 50 and "model/api.py" in modules
    assert "model/inference/engine.py:Engine.recognise" in functions
    assert {m: n for m, n in modules.items() if n > MAX_MODULE_LINES} == {}
    assert {f: n for f, n in functions.items() if n > MAX_FUNCTION_LINES} == {}
