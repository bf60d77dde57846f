"""The site's sources and build: configuration conventions, embedded code, chapter structure, notebooks."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import nbformat
import pytest
import yaml

from helpers import ROOT
from site_build import built_site

DOCS = ROOT / "docs"
CHAPTERS = ["first-convnet.md", "convolution.md", "padding.md", "strides.md", "max-pooling.md", "invariance.md"]
COMPANIONS = ["first_convnet.py", "convolution.py", "padding.py", "strides.py", "max_pooling.py", "invariance.py"]
FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<info>[^\n]*)\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.M | re.S)
SNIPPET = re.compile(r'^--8<-- "(?P<path>[^":]+):(?P<section>[\w-]+)"$')
MARKER = re.compile(r"# --8<-- \[(start|end):([\w-]+)\]")


class _Loader(yaml.SafeLoader):
    """Reads mkdocs.yml as written: `!ENV NAME` stays the variable's name, `!!python/name:x` the string x."""


_Loader.add_constructor("!ENV", lambda loader, node: f"${loader.construct_scalar(node)}")
_Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: suffix)


def config() -> dict:
    return yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_Loader)


def extension(name: str) -> dict:
    for entry in config()["markdown_extensions"]:
        if entry == name:
            return {}
        if isinstance(entry, dict) and name in entry:
            return entry[name] or {}
    raise AssertionError(f"mkdocs.yml does not enable {name}")


def plugin(name: str) -> dict:
    for entry in config()["plugins"]:
        if isinstance(entry, dict) and name in entry:
            return entry[name] or {}
    raise AssertionError(f"mkdocs.yml does not enable the {name} plugin")


def python_fences(page: Path) -> list[str]:
    return [m["body"] for m in FENCE.finditer(page.read_text(encoding="utf-8")) if m["info"].split()[:1] == ["python"]]


def sections(script: Path) -> list[str]:
    """The snippet sections a script defines, in order (each must start before it ends)."""
    opened, names = [], []
    for kind, name in MARKER.findall(script.read_text(encoding="utf-8")):
        if kind == "start":
            opened.append(name)
            names.append(name)
        else:
            assert opened and opened.pop() == name, f"{script.name}: section {name!r} ends before it starts"
    assert not opened, f"{script.name}: sections never ended: {opened}"
    return names


def test_notebooks_come_from_the_companion_scripts_only_and_are_not_executed_by_the_build():
    jupyter = plugin("mkdocs-jupyter")
    assert sorted(jupyter["include"]) == sorted(f"code/notebooks/{name}" for name in COMPANIONS)
    assert (jupyter["execute"], jupyter["allow_errors"], jupyter["include_source"]) == (False, False, True)


@pytest.mark.parametrize("doc", sorted(DOCS.glob("*.md")), ids=lambda doc: doc.name)
def test_python_on_the_pages_is_embedded_from_code_never_pasted(doc):
    for body in python_fences(doc):
        for line in body.strip().splitlines():
            match = SNIPPET.match(line.strip())
            assert match, f"{doc.name}: Python written into the page instead of embedded from code/: {line!r}"
            assert match["section"] in sections(ROOT / match["path"]), f"{doc.name}: {line.strip()}"


@pytest.mark.parametrize("chapter, script", list(zip(CHAPTERS, COMPANIONS)))
def test_each_chapter_tells_its_companion_scripts_story_in_order(chapter, script):
    embedded = [SNIPPET.match(body.strip().splitlines()[0].strip()) for body in python_fences(DOCS / chapter)]
    own = [match["section"] for match in embedded if match["path"] == f"code/notebooks/{script}"]
    assert own == sections(ROOT / "code" / "notebooks" / script), f"{chapter} must show every section of code/notebooks/{script}, in order"


@pytest.mark.parametrize("chapter, script", list(zip(CHAPTERS, COMPANIONS)))
def test_each_chapter_ends_with_a_summary_and_exercises_with_worked_solutions(chapter, script):
    text = (DOCS / chapter).read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", text, re.M)
    assert headings[-2:] == ["Summary", "Exercises"], f"{chapter}: {headings[-2:]}"
    exercises = text.split("\n## Exercises\n")[1]
    solutions = exercises.split('??? success "Solution"')[1:]
    assert 2 <= len(solutions) <= 5 and exercises.count("**Exercise ") == len(solutions)
    for solution in solutions:
        assert f'--8<-- "code/notebooks/{script}:exercise_' in solution, f"{chapter}: a solution without its code"


def nav_section(title: str) -> list:
    return next(entry[title] for entry in config()["nav"] if isinstance(entry, dict) and title in entry)


def test_learn_holds_the_six_chapters_in_order_and_the_appendix_the_rest():
    assert nav_section("Learn") == CHAPTERS
    assert nav_section("Interactive") == ["explorer.md", "playground.md"]
    assert nav_section("Under the hood") == ["benchmark.md", "experiments.md", "checks.md"]
    notebooks = json.dumps(nav_section("Notebooks"))
    assert all(f'"code/notebooks/{script}"' in notebooks for script in COMPANIONS)


def test_figures_are_served_from_snaps_not_copied_into_docs():
    assert not list(DOCS.rglob("*.png"))
    site = built_site()
    for name in {path.name for path in (ROOT / "snaps").glob("*.png")}:
        assert (site / "snaps" / name).read_bytes() == (ROOT / "snaps" / name).read_bytes()


def test_every_figure_has_a_caption_and_no_image_stands_outside_one():
    """Alt text is checked on the built pages (test_page_structure.py), light against dark in test_figures.py."""
    for page in DOCS.glob("*.md"):
        text = page.read_text(encoding="utf-8")
        for figure in re.findall(r"<figure markdown=\"span\">(.*?)</figure>", text, re.S):
            assert re.search(r"<figcaption>\S.*?</figcaption>", figure, re.S), f"{page.name}: a figure without caption"
        assert text.count("](snaps/") == 2 * text.count("<figure markdown=\"span\">"), \
            f"{page.name}: an image outside a figure"


@pytest.mark.parametrize("script", COMPANIONS)
def test_notebook_page_offers_a_valid_ipynb_without_section_markers(script):
    stem = script.removesuffix(".py")
    folder = built_site() / "code" / "notebooks" / stem
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert f'href="{stem}.ipynb"' in page and f'href="{stem}.py"' in page
    assert "8&lt;--" not in page, "the snippet section markers show on the notebook page"
    notebook = nbformat.read(folder / f"{stem}.ipynb", as_version=4)
    nbformat.validate(notebook)
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    assert "--8<--" not in code and "import" in code
    assert notebook.cells[0].cell_type == "markdown" and notebook.cells[0].source.startswith("# ")


def test_output_size_formulas_on_the_pages_are_the_ones_the_code_implements():
    from convnets.shapes import output_size

    for page in ("padding.md", "strides.md"):
        text = (DOCS / page).read_text(encoding="utf-8")
        for padding in ("valid", "same"):
            tex = re.search(rf"^o_{{\\text{{{padding}}}}} = (.+?)\s*\.?$", text, re.M)
            assert tex, f"{page}: no display formula for padding={padding!r}"
            formula = tex_to_python(tex[1])
            for n in range(3, 30):
                for k in range(1, min(n, 6) + 1):
                    for s in range(1, 5) if page == "strides.md" else (1,):  # the padding chapter: stride 1
                        assert eval(formula, {"floor": _floor, "ceil": _ceil}, {"n": n, "k": k, "s": s}) == \
                            output_size(n, k, s, padding), f"{page}: {tex[1]} at n={n}, k={k}, s={s}"


def test_general_output_size_formula_on_the_strides_page_is_what_keras_and_the_code_compute():
    import keras
    import numpy as np

    from convnets.shapes import conv_output_size

    text = (DOCS / "strides.md").read_text(encoding="utf-8")
    tex = re.search(r"^\s*o = (.+?)\s*\.?$", text, re.M)  # also inside a collapsed block
    assert tex, "strides.md: no display formula o = ... for the general output size"
    formula = tex_to_python(tex[1])
    assert {"n", "k", "s", "d", "p_before", "p_after"} <= set(re.findall(r"[a-z_]+", formula)), formula
    paddings = [(0, 0), (1, 1), (0, 1), (2, 1), (3, 0)]
    for k, s, d in itertools.product((1, 2, 3, 5), (1, 2, 3), (1, 2, 3)):
        # Keras refuses strides > 1 with dilation_rate > 1: there, keep every s-th output of stride 1.
        refused = s > 1 and d > 1
        conv = keras.layers.Conv2D(1, k, strides=1 if refused else s, dilation_rate=d)
        for n, (before, after) in itertools.product((5, 9, 12, 28), paddings):
            span = d * (k - 1) + 1  # the window; the image is one window wide, its columns unpadded
            if span > n + before + after:
                continue
            padded = keras.layers.ZeroPadding2D(((before, after), (0, 0)))(np.zeros((1, n, span, 1), "float32"))
            rows = conv(padded).shape[1]
            keras_rows = len(range(0, rows, s)) if refused else rows
            names = {"n": n, "k": k, "s": s, "d": d, "p_before": before, "p_after": after}
            stated = eval(formula, {"floor": _floor, "ceil": _ceil}, names)
            assert stated == keras_rows == conv_output_size(n, k, s, d, (before, after)), f"{tex[1]} at {names}"


def test_convolution_equation_on_the_convolution_page_is_what_keras_computes():
    import keras
    import numpy as np

    text = (DOCS / "convolution.md").read_text(encoding="utf-8")
    tex = re.search(r"^y_\{i,j,o\} = (.+?)\s*$", text, re.M)
    assert tex, "convolution.md: no display formula y_{i,j,o} = ..."
    expression = sums_to_python(tex[1])
    rng = np.random.default_rng(0)
    for k, s, c_in, c_out in itertools.product((1, 2, 3), (1, 2), (1, 3), (1, 2)):
        layer = keras.layers.Conv2D(c_out, k, strides=s, bias_initializer="random_normal")
        x = rng.normal(size=(1, 7, 6, c_in)).astype("float32")
        y = np.asarray(layer(x))[0]
        w, b = layer.get_weights()
        for i, j, o in itertools.product(*(range(size) for size in y.shape)):
            names = {"x": x[0], "w": w, "b": b, "i": i, "j": j, "o": o, "k": k, "s": s, "C_in": c_in}
            stated = eval(expression, {"range": range, "sum": sum, **names})  # globals: the generator sees them
            assert abs(stated - y[i, j, o]) < 1e-4, f"{tex[1]} at k={k}, s={s}, C_in={c_in}, output {(i, j, o)}"


def test_one_by_one_parameter_formula_on_the_convolution_page_is_what_keras_counts():
    import keras

    text = (DOCS / "convolution.md").read_text(encoding="utf-8")
    tex = re.search(r"^\s*(\(C_\\text\{in\} \+ 1\)\\, C_\\text\{out\})\s*$", text, re.M)  # in a block, indented
    assert tex, "convolution.md: no display formula for the parameters of a 1×1 convolution"
    formula = tex_to_python(tex[1].replace(r"\,", " *"))
    for c_in, c_out in itertools.product((1, 3, 32, 128), (1, 16, 64)):
        layer = keras.layers.Conv2D(c_out, 1)
        layer.build((None, 8, 8, c_in))
        assert eval(formula, {}, {"C_in": c_in, "C_out": c_out}) == layer.count_params(), (c_in, c_out)


def sums_to_python(tex: str) -> str:
    """A formula of the form  b_o + \\sum_{u=0}^{k-1} ... x_{...}\\; w_{...}  as a Python expression: each sum
    a generator over its index, from its lower bound to its upper bound included."""
    one_sum = r"\\sum_\{(\w)=(\d)\}\^\{?((?:[^{}\s]|\{[^{}]*\})*)\}?\s*"  # \sum_{u=0}^{k-1}; ^H needs no {}
    sums = re.findall(one_sum, tex)
    head, term = re.split(one_sum, tex)[0], re.split(one_sum, tex)[-1]

    def plain(part: str) -> str:
        part = re.sub(r"\b([A-Za-z])_\\text\{(\w+)\}", r"\1_\2", part)  # C_\text{in}: C_in
        part = part.replace(r"\,", "").replace(r"\;", " * ")
        part = re.sub(r"\\frac\{([^{}]*)\}\{([A-Z])([A-Z])\}", r"(\1) / (\2 * \3) * ", part)  # \frac{1}{HW}
        part = re.sub(r"\b([a-z])_\{([^{}]*)\}", r"\1[\2]", part)  # x_{i, j}: x[i, j]
        part = re.sub(r"\b([a-z])_([a-z])\b", r"\1[\2]", part)  # b_o: b[o]
        part = re.sub(r"\b([a-z]) (?=[a-z]\b)", r"\1 * ", part)  # i s: i * s
        assert "\\" not in part, f"unexpected LaTeX in {tex!r}"
        return part

    loops = " ".join(f"for {name} in range({low}, {plain(top)} + 1)" for name, low, top in sums)
    return f"{plain(head)}sum({plain(term)} {loops})"


class OneBased:
    """An array indexed from 1, as a formula that counts from 1 writes it."""

    def __init__(self, array) -> None:
        self.array = array

    def __getitem__(self, index: tuple) -> float:
        return self.array[tuple(i - 1 for i in index)]


def test_global_average_pooling_formula_on_the_invariance_page_is_what_keras_computes():
    import keras
    import numpy as np

    text = (DOCS / "invariance.md").read_text(encoding="utf-8")
    tex = re.search(r"^g_c = (.+?), \\qquad c = 1, \\dots, C\.$", text, re.M)
    assert tex, "invariance.md: no display formula g_c = ... for global average pooling"
    expression = sums_to_python(tex[1])
    for height, width, channels in ((1, 1, 1), (3, 5, 2), (6, 4, 3)):
        x = np.random.default_rng(height).normal(size=(1, height, width, channels)).astype("float32")
        keras_means = np.asarray(keras.layers.GlobalAveragePooling2D()(x))[0]
        for c in range(1, channels + 1):
            names = {"x": OneBased(x[0]), "c": c, "H": height, "W": width}
            stated = eval(expression, {"range": range, "sum": sum, **names})
            assert abs(stated - keras_means[c - 1]) < 1e-5, f"{tex[1]} for channel {c} of a {x.shape[1:]} map"


def tex_to_python(tex: str) -> str:
    """The few LaTeX constructs the output-size formulas use, as a Python expression."""
    expression = tex.replace(r"\left\lfloor", "floor(").replace(r"\right\rfloor", ")")
    expression = expression.replace(r"\left\lceil", "ceil(").replace(r"\right\rceil", ")")
    expression = re.sub(r"\b([a-z])_\{\\text\{(\w+)\}\}", r"\1_\2", expression)  # p_{\text{before}}: p_before
    expression = re.sub(r"\b([A-Za-z])_\\text\{(\w+)\}", r"\1_\2", expression)  # C_\text{in}: C_in
    expression = re.sub(r"(\w)\\,\s*\(", r"\1 * (", expression)  # d\,(k - 1): d * (k - 1)
    expression = re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", r"((\1) / (\2))", expression)
    assert "\\" not in expression, f"unexpected LaTeX in {tex!r}"
    return expression


def _floor(x: float) -> int:
    return int(x // 1)


def _ceil(x: float) -> int:
    return -int(-x // 1)


def test_every_page_shows_the_glossary_definitions_as_tooltips_on_its_terms():
    from bs4 import BeautifulSoup

    glossary = dict(re.findall(r"^\*\[([^\]]+)\]: (.+)$", (ROOT / "includes" / "glossary.md").read_text(), re.M))
    for page in ["index.md", *CHAPTERS]:
        html = BeautifulSoup((built_site() / page.replace("index.md", "").replace(".md", "/") / "index.html")
                             .read_text(encoding="utf-8"), "html.parser")
        tips = {abbr.get_text(): abbr["title"] for abbr in html.select("article abbr[title]")}
        assert tips and all(glossary[term] == title for term, title in tips.items()), page
        assert "*[" not in html.select_one("article").get_text(), f"{page}: the glossary's source shows on the page"


def test_figures_in_collapsed_blocks_are_figures_not_paragraphs():
    for page in built_site().rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert not re.search(r"<p>\s*<figure|<figure markdown=", html), f"{page}: a figure left inside a paragraph"
