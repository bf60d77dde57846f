"""Every page of the built site is readable without seeing it: meaningful alt text, headings that do not skip levels."""

from __future__ import annotations

import re

from site_build import content_pages, site_pages

# nbconvert's placeholder for a notebook figure without a description.
PLACEHOLDER_ALT = "no description has been provided for this image"
GENERIC_ALT = {"image", "figure", "img", "picture", "plot", "chart", "diagram", "screenshot", "png", "svg"}


def alt_problem(alt: str | None, src: str) -> str | None:
    """Why an image's alt text does not describe it, or None when it does."""
    text = " ".join((alt or "").split())
    name = src.rsplit("/", 1)[-1].split("?")[0]
    if not text:
        return "has no alt text"
    if text.lower() == PLACEHOLDER_ALT or text.lower() in GENERIC_ALT:
        return f"has a placeholder alt text {text!r}"
    if text == name or re.fullmatch(r"[\w.-]+\.(png|jpe?g|svg|gif|webp)", text, re.I):
        return f"uses a file name as alt text {text!r}"
    if len(text.split()) < 3:
        return f"has an alt text too short to describe it {text!r}"
    return None


def test_every_image_has_meaningful_alt_text():
    problems = []
    for page in site_pages():
        for image in page.images:
            src = image.get("src") or ""
            problem = alt_problem(image.get("alt"), src)
            if problem:
                problems.append(f"{page.url_path}: image {src[:60]!r} {problem}")
    assert not problems, "\n".join(problems)


def test_headings_start_at_h1_and_never_skip_a_level():
    problems = []
    for page in content_pages():
        levels = [level for level, _ in page.headings]
        if not levels or levels[0] != 1:
            problems.append(f"{page.url_path}: the first heading is not an h1: {page.headings[:1]}")
        for (before, _), (level, text) in zip(page.headings, page.headings[1:]):
            if level > before + 1:
                problems.append(f"{page.url_path}: h{before} is followed by h{level} {text!r}")
    assert not problems, "\n".join(problems)


def test_alt_text_check_rejects_placeholders_and_file_names():
    assert alt_problem("", "a.png") == "has no alt text"
    assert alt_problem("No description has been provided for this image", "data:") is not None
    assert alt_problem("filters.png", "../snaps/filters.png") is not None
    assert alt_problem("The 32 first-layer filters of the trained convnet", "filters.png") is None
