"""The six chapters teach: they fit a reading budget, keep the site's machinery out of sight, and define each
term of the glossary in bold in the chapter where it first appears."""

from __future__ import annotations

import re

import pytest

from helpers import ROOT
from pagetest.plugin import parse_page
from pagetest.prose import collapsed, prose, reading_words

CHAPTERS = ["first-convnet.md", "convolution.md", "padding.md", "strides.md", "max-pooling.md", "invariance.md"]
BUDGET, PER_CHAPTER, APPENDIX = 10_000, 2_400, {"benchmark.md": 2_000}
MACHINERY = re.compile(r"\btests?/|\btest suite\b|\btest_\w+\.py|\bassert\b|\bsha-?256\b|\bcache\b|\bcached\b|"
                       r"fit_or_load|\btrained\(", re.I)
GLOSSARY = ROOT / "includes" / "glossary.md"
TERMS = ["filter", "kernel", "feature map", "channel", "receptive field", "padding", "stride", "ReLU", "max pooling"]


def text(chapter: str) -> str:
    return (ROOT / "docs" / chapter).read_text(encoding="utf-8")


def test_the_six_chapters_fit_the_reading_budget_outside_their_collapsed_blocks():
    words = {chapter: reading_words(text(chapter)) for chapter in CHAPTERS}
    assert sum(words.values()) <= BUDGET, f"{sum(words.values()):,} words in the chapters (at most {BUDGET:,}): {words}"
    long = {chapter: count for chapter, count in words.items() if count > PER_CHAPTER}
    assert not long, f"chapters over {PER_CHAPTER:,} words outside their collapsed blocks: {long}"


@pytest.mark.parametrize("doc, limit", APPENDIX.items())
def test_an_appendix_page_fits_its_reading_budget(doc, limit):
    assert reading_words(text(doc)) <= limit


def test_the_word_count_leaves_out_collapsed_blocks_and_comments_but_counts_code():
    page = 'one two\n<!-- three\nfour -->\n??? info "Going further"\n\n    five six\n\n    seven\n\n```python\neight\n```\n'
    assert collapsed(page).split() == ["one", "two", "```python", "eight", "```"]
    assert reading_words(page) == 5


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_a_chapter_never_mentions_the_sites_machinery(chapter):
    """No test file, test suite, assert, SHA-256, cache or fit_or_load in the prose or in the code it shows."""
    shown = [text(chapter)] + [block.source for block in parse_page(ROOT / "docs" / chapter, ROOT / "mkdocs.yml")]
    found = sorted({match[0] for part in shown for match in MACHINERY.finditer(part)})
    assert not found, f"{chapter} mentions {found}: that belongs in the tests and in docs/checks.md"


def test_the_glossary_defines_every_term_the_chapters_rely_on():
    defined = dict(re.findall(r"^\*\[([^\]]+)\]: (.+)$", GLOSSARY.read_text(encoding="utf-8"), re.M))
    missing = [term for term in TERMS if term not in defined]
    assert not missing, f"includes/glossary.md does not define {missing}"


@pytest.mark.parametrize("term", TERMS)
def test_a_term_is_defined_in_bold_in_the_chapter_where_it_first_appears(term):
    word = re.compile(rf"\b{re.escape(term)}", re.I)
    first = next((chapter for chapter in CHAPTERS if word.search(re.sub(r"`[^`\n]+`", "", prose(text(chapter))))),
                  None)
    assert first, f"no chapter uses {term!r}"
    bold = re.compile(rf"\*\*{re.escape(term)}[a-z]*\*\*", re.I)
    assert bold.search(text(first)), f"{term!r} first appears in {first}, which must define it in bold (**{term}**)"


# Deep Learning with Python, 2nd edition, Listings 8.1 to 8.4: the code the first chapter opens with.
BOOK_LISTINGS = '''
from tensorflow import keras
from tensorflow.keras import layers
inputs = keras.Input(shape=(28, 28, 1))
x = layers.Conv2D(filters=32, kernel_size=3, activation="relu")(inputs)
x = layers.MaxPooling2D(pool_size=2)(x)
x = layers.Conv2D(filters=64, kernel_size=3, activation="relu")(x)
x = layers.MaxPooling2D(pool_size=2)(x)
x = layers.Conv2D(filters=128, kernel_size=3, activation="relu")(x)
x = layers.Flatten()(x)
outputs = layers.Dense(10, activation="softmax")(x)
model = keras.Model(inputs=inputs, outputs=outputs)
model.summary()
from tensorflow.keras.datasets import mnist
(train_images, train_labels), (test_images, test_labels) = mnist.load_data()
train_images = train_images.reshape((60000, 28, 28, 1))
train_images = train_images.astype("float32") / 255
test_images = test_images.reshape((10000, 28, 28, 1))
test_images = test_images.astype("float32") / 255
model.compile(optimizer="rmsprop",
    loss="sparse_categorical_crossentropy",
    metrics=["accuracy"])
model.fit(train_images, train_labels, epochs=5, batch_size=64)
test_loss, test_acc = model.evaluate(test_images, test_labels)
print(f"Test accuracy: {test_acc:.3f}")
'''


def statements(code: str) -> list[str]:
    import ast

    return [ast.dump(node) for node in ast.parse(code).body]


def test_the_first_chapter_opens_with_the_books_code_and_only_its_data_lines_differ():
    first = parse_page(ROOT / "docs" / CHAPTERS[0], ROOT / "mkdocs.yml")[0]
    page, book = statements(first.source), statements(BOOK_LISTINGS)
    differ = [line for line in [*set(page) - set(book), *set(book) - set(page)] if "mnist" not in line.lower()]
    assert not differ, f"the first block of {CHAPTERS[0]} differs from the book's listings beyond the data lines"
    assert [line for line in page if line in book] == [line for line in book if line in page], "in the book's order"
