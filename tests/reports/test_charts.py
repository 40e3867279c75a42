"""The reports' bar charts laid out on the server: a scale that ends on a round number above
the largest bar, every bar's number written at its end, and no more groups drawn than can be
read (the table beside the chart keeps every row)."""

from __future__ import annotations

from app.reports.charts import MAX_GROUPS, bar_chart, nice_step
from app.reports.tables import number


def chart(values: list[float | None], labels: list[str] | None = None, whole: bool = True):
    return bar_chart(
        title="t",
        description="d",
        labels=labels or [f"Group {n}" for n in range(len(values))],
        series=[("Earned", "chart-earned", values)],
        show=number,
        axis_label="a",
        whole=whole,
    )


def test_the_scale_ends_on_a_round_number_above_the_largest_bar():
    assert [t.label for t in chart([3.0, 7.0]).ticks] == ["0", "2", "4", "6", "8"]
    assert [t.label for t in chart([0.0, 0.0]).ticks] == ["0", "1"]
    assert nice_step(1.0, whole=True) == 1 and nice_step(1.0, whole=False) == 0.25
    assert nice_step(39, whole=False) == 10


def test_each_bar_is_as_long_as_its_value_and_says_it():
    drawn = chart([2.0, 4.0, None])
    bars = [group.bars[0] for group in drawn.groups]
    assert bars[1].width == 2 * bars[0].width > 0
    assert [bar.label for bar in bars] == ["2", "4", "none"]
    assert bars[2].width == 0
    assert bars[0].title == "Group 0 — Earned: 2"


def test_long_names_are_shortened_in_the_chart_only():
    long = "A credential with a title much longer than the chart's room for it"
    group = chart([1.0], [long]).groups[0]
    assert group.label.endswith("…") and len(group.label) < len(long)
    assert group.full_label == long


def test_no_more_groups_are_drawn_than_can_be_read():
    drawn = chart([1.0] * (MAX_GROUPS + 5))
    assert (drawn.shown, drawn.total, len(drawn.groups)) == (MAX_GROUPS, MAX_GROUPS + 5, MAX_GROUPS)
