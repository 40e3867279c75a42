"""The outcome reports: what educators earned, submitted, were told "not yet" and have in
progress; the continuing-education credit each earned; how often each rubric criterion was
judged "not yet"; and how long attempts took to be submitted and decided.

Who sees what: an operator reports on every organisation; an organisation's admin on the
credentials of the organisations they administer, wherever (on any platform) educators work on
them; nobody else. Every figure is read from the features that hold it through their public
functions (``app.catalog.outline``, ``app.evidence.tallies``, ``app.grading.calibration``,
``app.lti.directory``), each in a fixed number of statements whatever the number of attempts:
the rows come back grouped, and are named and summed here.

How each figure is counted, in the words the pages use:

- *Earned* and *Not yet*: decisions made in the period with that outcome.
- *Submitted*: submissions made in the period, whatever has happened to them since.
- *In progress*: attempts begun in the period and not submitted yet.
- An attempt's *course* is the one it was first opened from (an educator's work on a
  credential follows them from course to course); work begun in the catalog has none.
- A credential in two stacks counts in both when rows are stacks.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from app.catalog import authoring
from app.catalog.outline import Outline, outline
from app.errors import Forbidden
from app.evidence import tallies
from app.evidence.tallies import Period
from app.grading.calibration import CriterionTally, criterion_tallies
from app.grading.turnaround import percentile
from app.lti import directory
from app.reports.charts import Chart, bar_chart
from app.reports.filters import GROUPS, Filters, InvalidFilter
from app.reports.tables import Column, Table, number

NO_COURSE = "Not from a course (begun in the catalog)"
NO_STACK = "In no stack"
DAY = 86400.0


class NotForAuthors(Forbidden):
    code = "reports_not_allowed"
    title = "Reports are for operators and organisation admins"


@dataclass(frozen=True)
class Scope:
    """The organisations a reader may report on (``None``: every one, for an operator)."""

    organisation_ids: frozenset[int] | None


def scope_of(rights: authoring.Rights) -> Scope:
    """Return what an account with ``rights`` may report on, or refuse an author who
    administers no organisation."""
    if rights.is_operator:
        return Scope(None)
    managed = frozenset(o for o in rights.roles if rights.may_manage(o))
    if not managed:
        raise NotForAuthors(
            "Reports show an organisation's results, so they are open to its admins and to "
            "the people who run this Microcred; your account writes credentials.",
            hint="Ask one of your organisation's admins to make you an admin too, or to "
            "share a report's address with you.",
        )
    return Scope(managed)


@dataclass(frozen=True)
class Selection:
    """The filters, checked against what the reader may see: the credentials counted, the
    platform and the period."""

    filters: Filters
    outline: Outline
    """The catalog of the reader's organisations (the filters' choices)."""
    platforms: list[directory.Platform]
    credential_ids: frozenset[int]
    registration_id: int | None
    period: Period


def _unknown(kind: str, value: str) -> InvalidFilter:
    return InvalidFilter(
        f"There is no {kind} “{value[:80]}” that you may report on.",
        hint=f"Choose the {kind} from the list, or clear the filter to see every one.",
        field=kind,
    )


def selection(session: Session, scope: Scope, filters: Filters) -> Selection:
    """Check the filters against the reader's scope (400 for a value naming nothing in it)."""
    found = outline(session, scope.organisation_ids)
    platforms = directory.platforms(session)
    credentials = set(found.credentials)
    if filters.organisation:
        organisation = next(
            (o for o in found.organisations.values() if o.slug == filters.organisation), None
        )
        if organisation is None:
            raise _unknown("organisation", filters.organisation)
        credentials = {
            c for c in credentials if found.credentials[c].organisation_id == organisation.id
        }
    registration_id = None
    if filters.platform:
        platform = next((p for p in platforms if p.uuid == filters.platform), None)
        if platform is None:
            raise _unknown("platform", filters.platform)
        registration_id = platform.id
    if filters.stack:
        stack = next((s for s in found.stacks.values() if s.slug == filters.stack), None)
        if stack is None:
            raise _unknown("stack", filters.stack)
        credentials &= set(stack.credential_ids)
    if filters.credential:
        credential = next(
            (c for c in found.credentials.values() if c.slug == filters.credential), None
        )
        if credential is None:
            raise _unknown("credential", filters.credential)
        credentials &= {credential.id}
    return Selection(
        filters=filters,
        outline=found,
        platforms=platforms,
        credential_ids=frozenset(credentials),
        registration_id=registration_id,
        period=Period(filters.since, filters.until),
    )


@dataclass(frozen=True)
class Choices:
    """What the filters offer, as ``(value, label)``: the reader's organisations, stacks and
    credentials, and every platform."""

    organisations: list[tuple[str, str]]
    platforms: list[tuple[str, str]]
    stacks: list[tuple[str, str]]
    credentials: list[tuple[str, str]]


def choices_of(found: Outline, platforms: list[directory.Platform]) -> Choices:
    return Choices(
        organisations=[(o.slug, o.name) for o in found.organisations.values()],
        platforms=[(p.uuid, p.name) for p in platforms],
        stacks=[(s.slug, s.title) for s in found.stacks.values()],
        credentials=[(c.slug, c.title) for c in found.credentials.values()],
    )


def choices(session: Session, scope: Scope) -> Choices:
    """The filters' choices, for a page whose filters were refused."""
    return choices_of(outline(session, scope.organisation_ids), directory.platforms(session))


@dataclass(frozen=True)
class Report:
    """One report as shown: a summary, a chart and the table (which the CSV writes)."""

    key: str
    title: str
    summary: str
    table: Table
    chart: Chart


# --- Naming the groups -------------------------------------------------------------------------


GroupKey = int | str | None
"""What tells a report's groups apart: an id, a month, or ``None`` (no course, no stack)."""


class _Groups:
    """Name the group(s) a row of tallies falls in, for one ``by``."""

    def __init__(
        self, session: Session, chosen: Selection, by: str, link_ids: Iterable[int | None]
    ) -> None:
        self.by = by
        self.outline = chosen.outline
        self.platforms = {p.id: p.name for p in chosen.platforms}
        links = {link for link in link_ids if link is not None}
        self.courses = directory.courses_of_links(session, links) if by == "course" else {}
        self.stacks: dict[int, list[tuple[GroupKey, str]]] = defaultdict(list)
        for stack in chosen.outline.stacks.values():
            for credential_id in stack.credential_ids:
                self.stacks[credential_id].append((stack.id, stack.title))

    def of(
        self,
        registration_id: int,
        credential_id: int,
        link_id: int | None,
        month: str | None,
    ) -> list[tuple[GroupKey, str]]:
        """The (key, name) of each group the row belongs to."""
        credential = self.outline.credentials[credential_id]
        if self.by == "organisation":
            organisation = self.outline.organisations[credential.organisation_id]
            return [(organisation.id, organisation.name)]
        if self.by == "platform":
            return [(registration_id, self.platforms.get(registration_id, "Unknown platform"))]
        if self.by == "course":
            course = self.courses.get(link_id) if link_id is not None else None
            if course is None:
                return [(None, NO_COURSE)]
            platform = self.platforms.get(course.registration_id, "")
            return [(course.id, f"{course.title} ({platform})")]
        if self.by == "stack":
            return self.stacks.get(credential_id) or [(None, NO_STACK)]
        if self.by == "month":
            return [(month, month or "")]
        return [(credential_id, credential.title)]

    def order(self, groups: dict[GroupKey, str]) -> list[GroupKey]:
        """The groups' keys in the order the rows are listed: months in time, the others by
        name (work with no course, or no stack, last)."""
        if self.by == "month":
            return sorted(groups, key=lambda key: str(key))
        return sorted(groups, key=lambda key: (key is None, groups[key].casefold(), str(key)))


def _in_period(value: datetime | None, period: Period) -> bool:
    if value is None:
        return False
    return (period.since is None or value >= period.since) and (
        period.until is None or value < period.until
    )


def _period_words(filters: Filters) -> str:
    if filters.start and filters.end:
        return f"from {filters.start.isoformat()} to {filters.end.isoformat()}"
    if filters.start:
        return f"since {filters.start.isoformat()}"
    if filters.end:
        return f"up to {filters.end.isoformat()}"
    return "at any time"


# --- Outcomes ----------------------------------------------------------------------------------

OUTCOME_COLUMNS = (
    (tallies.EARNED, "Earned"),
    (tallies.SUBMITTED, "Submitted"),
    (tallies.NOT_YET, "Not yet"),
    (tallies.IN_PROGRESS, "In progress"),
)
"""Each outcome's key and column header; its chart class is ``chart-`` and the key."""


def outcomes(session: Session, chosen: Selection) -> Report:
    """Earned, submitted, not yet and in progress, per group of ``chosen.filters.by``."""
    by = chosen.filters.by
    rows = tallies.outcome_tallies(
        session,
        chosen.credential_ids,
        chosen.period,
        registration_id=chosen.registration_id,
        by_month=by == "month",
    )
    groups = _Groups(session, chosen, by, (r.resource_link_id for r in rows))
    names: dict[GroupKey, str] = {}
    counts: dict[GroupKey, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    totals: dict[str, int] = defaultdict(int)
    for row in rows:
        totals[row.outcome] += row.count
        for key, name in groups.of(
            row.registration_id, row.credential_id, row.resource_link_id, row.month
        ):
            names[key] = name
            counts[key][row.outcome] += row.count
    keys = groups.order(names)
    header = GROUPS[by]
    table = Table(
        caption=f"Outcomes per {header.lower()}, {_period_words(chosen.filters)}",
        columns=(Column(header), *(Column(label, numeric=True) for _, label in OUTCOME_COLUMNS)),
        rows=[
            (names[key], *(str(counts[key][outcome]) for outcome, _ in OUTCOME_COLUMNS))
            for key in keys
        ],
    )
    chart = bar_chart(
        title=f"Outcomes per {header.lower()}",
        description=f"Bars of earned, submitted, not yet and in progress for each "
        f"{header.lower()}, in that order. The table beside the chart gives every number.",
        labels=[names[key] for key in keys],
        series=[
            (label, f"chart-{outcome}", [float(counts[key][outcome]) for key in keys])
            for outcome, label in OUTCOME_COLUMNS
        ],
        show=number,
        axis_label="Number of attempts",
        whole=True,
    )
    summary = (
        f"In all, {_period_words(chosen.filters)}: {totals[tallies.EARNED]} earned, "
        f"{totals[tallies.SUBMITTED]} submitted, {totals[tallies.NOT_YET]} not yet, and "
        f"{totals[tallies.IN_PROGRESS]} in progress."
    )
    return Report("outcomes", "Outcomes", summary, table, chart)


# --- Continuing-education credit ---------------------------------------------------------------

NO_CREDIT = "No credit set"


def hours(session: Session, chosen: Selection) -> Report:
    """The continuing-education credit each educator earned in the period, per unit (credit is
    counted in its version's unit: clock hours and CEUs are not added together)."""
    earned = tallies.earned_by_educator(
        session, chosen.credential_ids, chosen.period, registration_id=chosen.registration_id
    )
    people = directory.people(session, {row.user_id for row in earned})
    platforms = {p.id: p.name for p in chosen.platforms}
    amounts: dict[tuple[int, str], float] = defaultdict(float)
    credentials: dict[tuple[int, str], int] = defaultdict(int)
    for row in earned:
        version = chosen.outline.versions.get(row.version_id)
        credit = version.credit if version else None
        unit = credit.unit if credit else NO_CREDIT
        credentials[(row.user_id, unit)] += row.count
        if credit:
            amounts[(row.user_id, unit)] += credit.amount * row.count

    def name_of(user_id: int) -> str:
        person = people.get(user_id)
        return person.name if person else f"Person {user_id}"

    keys = sorted(
        credentials,
        key=lambda k: (k[1] == NO_CREDIT, -amounts[k], name_of(k[0]).casefold(), k),
    )
    rows = []
    for user_id, unit in keys:
        person = people.get(user_id)
        rows.append(
            (
                name_of(user_id),
                (person.email or "") if person else "",
                platforms.get(person.registration_id, "") if person else "",
                str(credentials[(user_id, unit)]),
                number(amounts[(user_id, unit)]) if unit != NO_CREDIT else "",
                unit,
            )
        )
    table = Table(
        caption=f"Continuing-education credit earned per educator, {_period_words(chosen.filters)}",
        columns=(
            Column("Educator"),
            Column("Email"),
            Column("Platform"),
            Column("Credentials earned", numeric=True),
            Column("Credit", numeric=True),
            Column("Unit"),
        ),
        rows=rows,
    )
    credited = [k for k in keys if k[1] != NO_CREDIT]
    units = {unit for _, unit in credited}
    chart = bar_chart(
        title="Continuing-education credit per educator",
        description="A bar of credit earned for each educator, most first"
        + (", each in its own unit" if len(units) > 1 else "")
        + ". The table beside the chart gives every number.",
        labels=[
            name_of(user_id) + (f" ({unit})" if len(units) > 1 else "")
            for user_id, unit in credited
        ],
        series=[("Credit", "chart-earned", [amounts[k] for k in credited])],
        show=number,
        axis_label=next(iter(units)) if len(units) == 1 else "Credit, in each row's unit",
    )
    per_unit: dict[str, float] = defaultdict(float)
    for key in credited:
        per_unit[key[1]] += amounts[key]
    educators = len({user_id for user_id, _ in keys})
    summary = (
        f"{educators} educator{'' if educators == 1 else 's'} earned credentials "
        f"{_period_words(chosen.filters)}"
        + (
            ", for "
            + ", ".join(f"{number(total)} {unit}" for unit, total in sorted(per_unit.items()))
            if per_unit
            else ""
        )
        + "."
    )
    return Report("hours", "Continuing-education credit", summary, table, chart)


# --- "Not yet" per criterion -------------------------------------------------------------------


def criteria(session: Session, chosen: Selection) -> Report:
    """How often each rubric criterion was judged "not yet" in the period's decisions, the
    hardest first."""
    found = criterion_tallies(
        session,
        chosen.credential_ids,
        chosen.period.since,
        chosen.period.until,
        registration_id=chosen.registration_id,
    )
    credentials = chosen.outline.credentials

    def rate(tally: CriterionTally) -> float:
        return tally.not_yet / tally.judged if tally.judged else 0.0

    def title_of(credential_id: int, key: str) -> str:
        return dict(credentials[credential_id].criteria).get(key, key)

    order = list(credentials)
    ranked = sorted(
        found,
        key=lambda t: (
            -rate(t),
            order.index(t.credential_id),
            [k for k, _ in credentials[t.credential_id].criteria].index(t.key)
            if t.key in dict(credentials[t.credential_id].criteria)
            else len(credentials[t.credential_id].criteria),
            t.key,
        ),
    )
    rows = [
        (
            title_of(t.credential_id, t.key),
            credentials[t.credential_id].title,
            str(t.judged),
            str(t.not_yet),
            number(100 * rate(t)),
        )
        for t in ranked
    ]
    table = Table(
        caption=f"How often each criterion was judged “not yet”, hardest first, "
        f"{_period_words(chosen.filters)}",
        columns=(
            Column("Criterion"),
            Column("Credential"),
            Column("Decisions", numeric=True),
            Column("Not yet", numeric=True),
            Column("Not yet (%)", numeric=True),
        ),
        rows=rows,
    )
    several = len({t.credential_id for t in ranked}) > 1
    chart = bar_chart(
        title="Share of decisions judging each criterion “not yet”",
        description="A bar for each rubric criterion, the hardest first: the percentage of "
        "decisions that judged it not yet. The table beside the chart gives every number.",
        labels=[
            title_of(t.credential_id, t.key)
            + (f" ({credentials[t.credential_id].title})" if several else "")
            for t in ranked
        ],
        series=[("Not yet (%)", "chart-not_yet", [100 * rate(t) for t in ranked])],
        show=number,
        axis_label="Percent of decisions",
    )
    judged = len(ranked)
    summary = (
        f"{judged} criteri{'on was' if judged == 1 else 'a were'} judged in decisions "
        f"{_period_words(chosen.filters)}. A criterion judged “not yet” often may ask for "
        "something educators find hard, or say it unclearly."
    )
    return Report("criteria", "“Not yet” per criterion", summary, table, chart)


# --- Time taken --------------------------------------------------------------------------------


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _days(values: list[float]) -> tuple[str, str]:
    if not values:
        return "", ""
    return number(statistics.median(values)), number(percentile(values, 0.9))


def timing(session: Session, chosen: Selection) -> Report:
    """How long attempts took from being begun to being submitted (those submitted in the
    period), and from being submitted to being decided (those decided in the period), per
    group of ``chosen.filters.by``: medians and 90th percentiles, in days."""
    by = chosen.filters.by
    rows = tallies.attempt_times(
        session, chosen.credential_ids, chosen.period, registration_id=chosen.registration_id
    )
    groups = _Groups(session, chosen, by, (r.resource_link_id for r in rows))
    names: dict[GroupKey, str] = {}
    to_submit: dict[GroupKey, list[float]] = defaultdict(list)
    to_decide: dict[GroupKey, list[float]] = defaultdict(list)

    def add(
        into: dict[GroupKey, list[float]],
        row: tallies.Times,
        start: datetime,
        end: datetime,
    ) -> None:
        month = f"{end:%Y-%m}"
        for key, name in groups.of(
            row.registration_id, row.credential_id, row.resource_link_id, month
        ):
            names[key] = name
            into[key].append(max(0.0, (end - start).total_seconds() / DAY))

    for row in rows:
        if row.submitted_at is not None and _in_period(row.submitted_at, chosen.period):
            add(to_submit, row, row.started_at, row.submitted_at)
        if (
            row.submitted_at is not None
            and row.decided_at is not None
            and _in_period(row.decided_at, chosen.period)
        ):
            add(to_decide, row, row.submitted_at, row.decided_at)
    keys = groups.order(names)
    header = GROUPS[by]
    table = Table(
        caption=f"Days to submit and to a decision per {header.lower()}, "
        f"{_period_words(chosen.filters)}",
        columns=(
            Column(header),
            Column("Submitted", numeric=True),
            Column("Median days to submit", numeric=True),
            Column("90th percentile to submit", numeric=True),
            Column("Decided", numeric=True),
            Column("Median days to a decision", numeric=True),
            Column("90th percentile to a decision", numeric=True),
        ),
        rows=[
            (
                names[key],
                str(len(to_submit[key])),
                *_days(to_submit[key]),
                str(len(to_decide[key])),
                *_days(to_decide[key]),
            )
            for key in keys
        ],
    )
    chart = bar_chart(
        title=f"Median days per {header.lower()}",
        description=f"Two bars for each {header.lower()}: the median days from beginning an "
        "attempt to submitting it, then from submitting it to a decision. The table beside "
        "the chart gives every number, with the 90th percentiles.",
        labels=[names[key] for key in keys],
        series=[
            ("Begun to submitted", "chart-submitted", [_median(to_submit[key]) for key in keys]),
            ("Submitted to decided", "chart-decided", [_median(to_decide[key]) for key in keys]),
        ],
        show=number,
        axis_label="Days (median)",
    )
    # Counted over the attempts, not the rows: with stacks for rows, one can be in two.
    submitted = sum(1 for r in rows if _in_period(r.submitted_at, chosen.period))
    decided = sum(1 for r in rows if r.submitted_at and _in_period(r.decided_at, chosen.period))
    summary = (
        f"{submitted} attempt{'' if submitted == 1 else 's'} submitted and {decided} "
        f"decided {_period_words(chosen.filters)}. The 90th percentile is the time within "
        "which nine in ten were done."
    )
    return Report("timing", "Time to submit and to a decision", summary, table, chart)


GROUPED = ("credential", "organisation", "stack", "platform", "course", "month")
"""What the grouped reports' rows may stand for, the default first."""

REPORTS: dict[str, tuple[Callable[[Session, Selection], Report], tuple[str, ...]]] = {
    "outcomes": (outcomes, GROUPED),
    "hours": (hours, ()),
    "criteria": (criteria, ()),
    "timing": (timing, GROUPED),
}
"""Each report by its address's name: how it is made, and what its rows may stand for."""
