"""Formulas as a class reads them: `Σ_{j=1}^{7} w_j x_j` -> Σ with its range, w with j below.

Lecture steps keep their formulas and captions in a small TeX-like notation (plain JSON
text): `a_{...}` / `a^{...}` put a group below / above, `a_j` a single index below, and a
letter directly followed by digits (`x1`, `w2`) is an index too, as the slides write it.
`rich` turns that into Qt rich text (<sub>, <sup>) for labels that show HTML; `plain`
uses Unicode sub/superscript characters for widgets that only draw plain text. Qt-free,
so the step format can be checked headless.
"""

from __future__ import annotations

import html
import re

# a group in braces, or a single run of letters / digits / prime after _ or ^
_GROUP = re.compile(r"([_^])(\{([^{}]*)\}|([A-Za-z0-9]+))")
# x1, w12, W1 as index: a single letter (not part of a word) followed by digits
_DIGIT_INDEX = re.compile(r"(?<![A-Za-z0-9.])([A-Za-z])(\d+)(?![A-Za-z0-9])")
_SUB = str.maketrans("0123456789+-=()aeijklmnoprstuvx",
                     "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ")
_SUP = str.maketrans("0123456789+-=()inT", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁱⁿᵀ")


def rich(text: str) -> str:
    """Qt rich text for `text`: indices as <sub>, powers as <sup>, runs of spaces kept."""
    out = html.escape(text, quote=False)
    out = _DIGIT_INDEX.sub(r"\1<sub>\2</sub>", out)
    out = _GROUP.sub(_tag, out)
    return re.sub(r" {2,}", lambda m: "&nbsp;" * len(m.group()), out)


def plain(text: str) -> str:
    """The same notation with Unicode sub/superscripts (`c_i` -> cᵢ, `x1` -> x₁); a group
    with a character that has no Unicode form is kept in parentheses after the mark."""
    out = _DIGIT_INDEX.sub(lambda m: m.group(1) + m.group(2).translate(_SUB), text)
    return _GROUP.sub(_unicode, out)


def _tag(m: re.Match[str]) -> str:
    body = m.group(3) if m.group(3) is not None else m.group(4)
    body = body.replace("..", "…")
    tag = "sub" if m.group(1) == "_" else "sup"
    return f"<{tag}>{body}</{tag}>"


def _unicode(m: re.Match[str]) -> str:
    body = m.group(3) if m.group(3) is not None else m.group(4)
    table = _SUB if m.group(1) == "_" else _SUP
    moved = body.translate(table)
    if any(a == b for a, b in zip(body, moved, strict=True)):   # a character without a Unicode form
        return ("_" if m.group(1) == "_" else "^") + "(" + body + ")"
    return moved
