// MathJax 3 settings for pymdownx.arithmatex (generic mode): typeset only what arithmatex marked.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true,
  },
  options: {
    ignoreHtmlClass: ".*|",
    processHtmlClass: "arithmatex",
  },
};

// Material can swap pages without a reload; typeset each new page once MathJax has started.
// Wait for MathJax's own first pass, and keep its output cache: clearing it drops the glyph styles of
// formulas already typeset, which then show as blank space.
document$.subscribe(() => {
  if (!window.MathJax.startup) {
    return; // MathJax failed to load
  }
  MathJax.startup.promise.then(() => {
    MathJax.typesetClear();
    MathJax.texReset();
    return MathJax.typesetPromise();
  });
});
