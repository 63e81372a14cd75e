"""Colours, fonts and line widths for the two places the app is used: a laptop and a projector.

A projector washes out dark backgrounds and thin lines, so the projector theme is light,
high contrast, with larger fonts and thicker lines. Views read every colour from a `Theme`
so switching is one call to each view's `apply_theme`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pyqtgraph as pg


@dataclass(frozen=True)
class Theme:
    """One look for the whole app; colours are '#rrggbb' strings."""

    name: str
    background: str
    foreground: str
    panel: str          # widget backgrounds around the plots
    grid: str
    real: str           # real data: red, as in the lecture
    estimate: str       # the model's estimate: blue, as in the lecture
    train_color: str    # training points / training loss
    unseen_color: str   # unseen points / unseen loss
    path: str           # gradient-descent path on the error surface
    current: str        # current point
    arrow: str          # the step about to be taken
    minimum: str        # global-minimum marker
    accent: str
    warning: str
    font_pt: int
    title_pt: int
    line_width: float
    point_size: float
    colormap: str       # a pyqtgraph colormap name

    def pen(self, color: str, width: float | None = None, alpha: int = 255,
            style: object | None = None) -> pg.QtGui.QPen:
        """A cosmetic pen in `color` (width in pixels, default the theme's line width)."""
        c = pg.mkColor(color)
        c.setAlpha(alpha)
        kw = {} if style is None else {"style": style}
        return pg.mkPen(c, width=self.line_width if width is None else width, **kw)

    def brush(self, color: str, alpha: int = 255) -> pg.QtGui.QBrush:
        c = pg.mkColor(color)
        c.setAlpha(alpha)
        return pg.mkBrush(c)


DARK = Theme(
    name="dark",
    background="#14161b",
    foreground="#d8dde6",
    panel="#1d2027",
    grid="#3a3f4b",
    real="#ff5a5a",
    estimate="#4ea3ff",
    train_color="#f0a030",
    unseen_color="#49d3a0",
    path="#ffffff",
    current="#ffe14d",
    arrow="#ff4df0",
    minimum="#7dff6a",
    accent="#4ea3ff",
    warning="#ff7043",
    font_pt=10,
    title_pt=12,
    line_width=2.0,
    point_size=5.0,
    colormap="viridis",
)

PROJECTOR = Theme(
    name="projector",
    background="#ffffff",
    foreground="#000000",
    panel="#f2f2f2",
    grid="#b0b0b0",
    real="#d40000",
    estimate="#0044cc",
    train_color="#c05a00",
    unseen_color="#007a4d",
    path="#000000",
    current="#ff00aa",
    arrow="#e00000",
    minimum="#00a000",
    accent="#0044cc",
    warning="#c62828",
    font_pt=14,
    title_pt=17,
    line_width=3.5,
    point_size=8.0,
    colormap="cividis",
)

THEMES: dict[str, Theme] = {"dark": DARK, "projector": PROJECTOR}

# The optimizer race's racers (GD, momentum, Adam, RMSProp, Nesterov, AdaGrad by default),
# in both themes: bright on both colour maps' valleys (viridis, cividis); loss plots draw
# each in its `legible_on` shade. Each stands apart from the training run's colour (and
# the unseen one's) that shares the loss plots with them by `RACER_APART` or more, as
# drawn in either theme: momentum's orange (#ff9f0a) was 13 from the dark theme's
# training orange and 18 (its shade) from the projector's, and a class read the two
# curves as one; its pink is 82 and 68.
RACER_COLORS = ("#ff3b30", "#ff6fae", "#ff2dff", "#00e5ff", "#ffffff", "#b6ff00")
RACER_APART = 30.0      # CIE76 colour difference; ~2.3 is the least a person notices


# The themes' sizes are drawn for a 1920 x 1080 screen (its free height about 1,000 px).
DESIGN_HEIGHT = 1000
# No theme's text goes below these, however small the screen (the dark theme's own sizes:
# a laptop's 10 pt is the smallest that reads).
FLOOR = {"font_pt": 11, "title_pt": 13, "line_width": 2.5, "point_size": 5.5}


def for_screen(theme: Theme, free_height: int) -> Theme:
    """`theme` for a screen whose free area is `free_height` pixels tall.

    A projector at 1280 x 720 shows the window at the same physical size as one at
    1920 x 1080, so the projector theme's 14 pt text is half as large again relative to
    the window: the panel needs scrolling and the plots' captions run over them. Scaling
    its sizes with the screen keeps the picture a lecturer prepared on a 1080 screen,
    never below `FLOOR` (nor below the theme's own sizes where those are smaller: the dark
    theme stays as it is)."""
    f = min(1.0, max(free_height, 1) / DESIGN_HEIGHT)
    if f >= 1.0:
        return theme
    sizes = {}
    for key, floor in FLOOR.items():
        own = getattr(theme, key)
        value = max(own * f, min(own, floor))
        sizes[key] = round(value) if isinstance(own, int) else round(value, 2)
    return replace(theme, **sizes)


def relative_luminance(colour: str) -> float:
    """WCAG 2 relative luminance of a '#rrggbb' colour."""
    channels = [int(colour[i:i + 2], 16) / 255.0 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two colours (1 to 21; text needs >= 4.5)."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def colour_difference(a: str, b: str) -> float:
    """CIE76 colour difference of two '#rrggbb' colours (Euclidean in CIELAB, D65):
    how different they look, not how far apart their channels are."""
    la, lb = _lab(a), _lab(b)
    return sum((x - y) ** 2 for x, y in zip(la, lb, strict=True)) ** 0.5


def _lab(colour: str) -> tuple[float, float, float]:
    """sRGB '#rrggbb' -> CIELAB (D65 white)."""
    rgb = [int(colour[i:i + 2], 16) / 255.0 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb)
    xyz = ((0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047,
           0.2126 * r + 0.7152 * g + 0.0722 * b,
           (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883)
    fx, fy, fz = (t ** (1 / 3) if t > 216 / 24389 else (24389 / 27 * t + 16) / 116
                  for t in xyz)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def readable_on(background: str) -> str:
    """White or near-black, whichever reads better on `background` (white on the dark
    theme's orange warning is only 2.7:1, near-black 7:1)."""
    return max(("#ffffff", "#111111"), key=lambda c: contrast_ratio(c, background))


def legible_on(colour: str, background: str, ratio: float = 3.0) -> str:
    """`colour`, or the nearest shade of it (toward black on a light background, toward
    white on a dark one) that stands out from `background` by WCAG `ratio` (3:1, the
    contrast asked of graphics). The racers' bright colours are chosen for the error
    surface's dark valley; on the projector theme's white loss plots the white racer was
    invisible and the lime and cyan ones faint (1.1-1.9:1)."""
    target = "#000000" if relative_luminance(background) > 0.5 else "#ffffff"
    mix = colour
    for step in range(11):
        mix = blend(colour, target, step / 10)
        if contrast_ratio(mix, background) >= ratio:
            return mix
    return mix


def blend(colour: str, other: str, f: float) -> str:
    """'#rrggbb' `f` of the way from `colour` to `other` (channel by channel)."""
    return "#" + "".join(
        f"{round(int(colour[i:i + 2], 16) * (1 - f) + int(other[i:i + 2], 16) * f):02x}"
        for i in (1, 3, 5))


def stylesheet(theme: Theme) -> str:
    """QSS for the whole application (docks, tables, buttons, combo boxes). QWidget's
    colour reaches menu items too: a disabled one (File > Reopen last session with none
    kept) is set apart, faded toward the panel, or it read as enabled."""
    t = theme
    return f"""
QWidget {{ background-color: {t.panel}; color: {t.foreground}; font-size: {t.font_pt}pt; }}
QMainWindow::separator {{ background: {t.grid}; width: 3px; height: 3px; }}
QDockWidget {{ font-size: {t.title_pt}pt; font-weight: bold; }}
QDockWidget::title {{ background: {t.background}; padding: 4px 8px; }}
QLabel#viewTitle {{ font-size: {t.title_pt}pt; font-weight: bold; padding: 2px 4px; }}
QLabel#viewNote {{ color: {t.foreground}; font-style: italic; padding: 0 4px; }}
LiveLabel#viewNote {{ color: {t.foreground}; font-style: italic; }}
QTableView {{ background-color: {t.background}; alternate-background-color: {t.panel};
             gridline-color: {t.grid}; selection-background-color: {t.accent};
             selection-color: {t.background}; }}
QHeaderView::section {{ background-color: {t.panel}; color: {t.foreground};
                        border: 1px solid {t.grid}; padding: 3px; font-weight: bold; }}
QPushButton {{ background-color: {t.background}; border: 1px solid {t.grid};
               border-radius: 4px; padding: 4px 10px; }}
QPushButton:hover {{ border-color: {t.accent}; }}
QPushButton:pressed {{ background-color: {t.accent}; color: {t.background}; }}
QComboBox, QSpinBox, QDoubleSpinBox, QLineEdit {{
    background-color: {t.background}; border: 1px solid {t.grid}; border-radius: 3px;
    padding: 2px 6px; }}
QComboBox QAbstractItemView {{ background-color: {t.background};
                               selection-background-color: {t.accent}; }}
QCheckBox::indicator {{ width: {t.font_pt + 4}px; height: {t.font_pt + 4}px; }}
QToolTip {{ background-color: {t.background}; color: {t.foreground};
            border: 1px solid {t.grid}; }}
QStatusBar {{ background: {t.background}; }}
QMenu::item:disabled {{ color: {blend(t.foreground, t.panel, 0.55)}; }}
"""


def apply_pyqtgraph(theme: Theme) -> None:
    """Global pyqtgraph defaults for plots created after this call."""
    pg.setConfigOptions(antialias=True, background=theme.background,
                        foreground=theme.foreground)
