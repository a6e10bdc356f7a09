"""The overview's charts as plain geometry, drawn by the templates as inline SVG: no script, no library in
the browser, readable without JavaScript (and printable)."""

from collections.abc import Sequence
from dataclasses import dataclass

from inovda_shared.indonesian import format_number

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 36


@dataclass(frozen=True)
class Mark:
    x: float
    y: float
    label: str  # the value as text, for a tooltip and for screen readers


@dataclass(frozen=True)
class Rule:
    """A horizontal line across the plot: a predicate band's lower bound."""

    y: float
    label: str


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    marks: tuple[Mark, ...]
    rules: tuple[Rule, ...]
    ticks: tuple[Rule, ...]
    x_labels: tuple[Mark, ...]

    @property
    def points(self) -> str:
        return " ".join(f"{mark.x:.1f},{mark.y:.1f}" for mark in self.marks)


def line_chart(
    values: Sequence[tuple[str, float]], bands: Sequence[tuple[str, float]], x_label_every: int = 0
) -> LineChart:
    """`values` in order (label, IID); `bands` (name, lower bound) drawn as rules where they fall in view."""
    numbers = [value for _, value in values]
    low = max(0.0, min([*numbers, *(bound for _, bound in bands if bound > 0)], default=0.0) - 5)
    high = min(100.0, max([*numbers, 0.0]) + 5)
    if high - low < 10:
        high = min(100.0, low + 10)
    span = high - low

    def y_of(value: float) -> float:
        return TOP + (HEIGHT - TOP - BOTTOM) * (1 - (value - low) / span)

    plot_width = WIDTH - LEFT - RIGHT
    step = plot_width / max(len(values) - 1, 1)
    marks = tuple(
        Mark(LEFT + index * step, y_of(value), f"{label}: IID {format_number(value)}")
        for index, (label, value) in enumerate(values)
    )
    rules = tuple(Rule(y_of(bound), f"{name} ({format_number(bound)})") for name, bound in bands if low < bound < high)
    tick_step = 5 if span <= 30 else 10
    first = int(low // tick_step + 1) * tick_step
    ticks = tuple(Rule(y_of(value), format_number(value, 0)) for value in range(first, int(high) + 1, tick_step))
    every = x_label_every or max(1, len(values) // 6)
    x_labels = tuple(
        Mark(LEFT + index * step, HEIGHT - BOTTOM + 16, label)
        for index, (label, _) in enumerate(values)
        if index % every == 0 or index == len(values) - 1
    )
    return LineChart(WIDTH, HEIGHT, marks, rules, ticks, x_labels)


@dataclass(frozen=True)
class Bar:
    label: str
    x: float
    width: float
    total_y: float
    total_height: float
    done_y: float
    done_height: float
    total: int
    done: int


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    bars: tuple[Bar, ...]
    baseline: float


def bar_chart(rows: Sequence[tuple[str, int, int]]) -> BarChart:
    """One bar per row (label, total, done): the whole height is the total, the filled part what is done."""
    top = max([total for _, total, _ in rows], default=1) or 1
    plot_height = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - RIGHT) / max(len(rows), 1)
    bars = []
    for index, (label, total, done) in enumerate(rows):
        total_height = plot_height * total / top
        done_height = plot_height * done / top
        bars.append(
            Bar(
                label=label,
                x=LEFT + index * slot + slot * 0.15,
                width=slot * 0.7,
                total_y=TOP + plot_height - total_height,
                total_height=total_height,
                done_y=TOP + plot_height - done_height,
                done_height=done_height,
                total=total,
                done=done,
            )
        )
    return BarChart(WIDTH, HEIGHT, tuple(bars), TOP + plot_height)
