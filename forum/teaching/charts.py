"""The figures of the teacher's workspace, by week, and the geometry of their SVG charts.

The numbers come from the database in a fixed number of queries; medians are taken in Python
(neither database has one portable median). A chart is drawn by templates/forum/teach/chart.html
from `Chart`: the bars' coordinates are computed here, so that the template only places them.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Exists, Min, OuterRef, Q
from django.db.models.functions import TruncWeek
from django.utils import timezone
from django.utils.translation import gettext as _

from forum.models import Comment, Report
from forum.teaching.selectors import Teaching, Workspace, lesson_counts, waiting
from lessons.models import Course

WEEKS = 12
TOP_LESSONS = 10

# The drawing, in SVG user units.
WIDTH = 640
HEIGHT = 220
LEFT = 48  # room for the axis' numbers
RIGHT = 8
TOP = 16
BOTTOM = 28  # room for the labels under the bars
ROW = 26  # a horizontal chart's row
LABEL_WIDTH = 220  # a horizontal chart's labels


def week_of(day: date) -> date:
    """The Monday that starts `day`'s week (as TruncWeek counts weeks)."""
    return day - timedelta(days=day.weekday())


def _day(value: datetime | date) -> date:
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def _median_hours(spans: list[timedelta]) -> float | None:
    if not spans:
        return None
    return round(statistics.median(s.total_seconds() for s in spans) / 3600, 1)


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: float
    label: str
    series: int


@dataclass
class Series:
    name: str
    values: list[float | None]


@dataclass
class Chart:
    """A bar chart (grouped when it has more than one series) and the table of its numbers."""

    key: str
    title: str
    description: str
    labels: list[str]
    series: list[Series]
    unit: str = ""
    horizontal: bool = False
    bars: list[Bar] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT
    top_value: float = 0

    def __post_init__(self) -> None:
        values = [v for s in self.series for v in s.values if v is not None]
        self.top_value = max(values, default=0)
        if self.horizontal:
            self._lay_out_rows()
        else:
            self._lay_out_columns()

    @property
    def is_empty(self) -> bool:
        return not self.labels

    @property
    def rows(self) -> list[tuple[str, list[float | None]]]:
        return [(label, [s.values[i] for s in self.series]) for i, label in enumerate(self.labels)]

    @property
    def legend(self) -> list[dict]:
        """Where each series' swatch and name go, along the top, when there is more than one."""
        if len(self.series) < 2:
            return []
        return [
            {"x": LEFT + 8 + i * 110, "name": series.name, "series": i}
            for i, series in enumerate(self.series)
        ]

    @property
    def axis(self) -> dict[str, float]:
        return {"left": LEFT, "bottom": self.height - BOTTOM, "right": self.width - RIGHT}

    def _scale(self, value: float, room: float) -> float:
        return round(value / self.top_value * room, 2) if self.top_value else 0

    def _lay_out_columns(self) -> None:
        room = self.height - TOP - BOTTOM
        slot = (self.width - LEFT - RIGHT) / max(len(self.labels), 1)
        bar = slot * 0.7 / max(len(self.series), 1)
        for i, label in enumerate(self.labels):
            for j, series in enumerate(self.series):
                value = series.values[i] or 0
                height = self._scale(value, room)
                self.bars.append(
                    Bar(
                        x=round(LEFT + i * slot + slot * 0.15 + j * bar, 2),
                        y=round(self.height - BOTTOM - height, 2),
                        width=round(bar, 2),
                        height=height,
                        value=value,
                        label=label,
                        series=j,
                    )
                )
        self.ticks = [
            {"x": round(LEFT + (i + 0.5) * slot, 2), "label": label}
            for i, label in enumerate(self.labels)
        ]

    def _lay_out_rows(self) -> None:
        self.height = TOP + ROW * max(len(self.labels), 1) + 8
        room = self.width - LABEL_WIDTH - RIGHT - 40
        for i, label in enumerate(self.labels):
            value = self.series[0].values[i] or 0
            self.bars.append(
                Bar(
                    x=LABEL_WIDTH,
                    y=TOP + i * ROW + 4,
                    width=self._scale(value, room),
                    height=ROW - 8,
                    value=value,
                    label=label,
                    series=0,
                )
            )
        self.ticks = []


@dataclass
class Week:
    start: date
    comments: int = 0
    top_level: int = 0
    answered: int = 0
    median_hours: float | None = None

    @property
    def answered_share(self) -> int | None:
        """Percent of the week's top-level comments that have a teacher's answer."""
        return round(self.answered * 100 / self.top_level) if self.top_level else None

    def csv_row(self) -> list:
        return [
            self.start.isoformat(),
            self.comments,
            self.top_level,
            self.answered,
            "" if self.answered_share is None else self.answered_share,
            "" if self.median_hours is None else self.median_hours,
        ]


@dataclass
class CourseFigures:
    weeks: list[Week]
    median_hours: float | None  # over all the weeks shown
    charts: list[Chart]


def _window(today: date) -> tuple[list[date], datetime]:
    starts = [week_of(today) - timedelta(weeks=n) for n in range(WEEKS - 1, -1, -1)]
    return starts, timezone.make_aware(datetime.combine(starts[0], time.min))


def _courses(workspace: Workspace, course: Course | None) -> list[int]:
    return [course.pk] if course else [c.pk for c in workspace.courses]


def course_figures(workspace: Workspace, course: Course | None, *, today: date) -> CourseFigures:
    """Comments per week, the share a teacher answered, the median time to a teacher's first
    answer and the lessons with the most waiting comments: three queries."""
    starts, since = _window(today)
    weeks = {start: Week(start) for start in starts}
    by_teacher = Teaching.objects.filter(
        course=OuterRef("lesson__course"), member=OuterRef("member")
    )
    comments = (
        Comment.objects.counted()
        .filter(lesson__course__in=_courses(workspace, course), created_at__gte=since)
        .filter(is_author_reply=False)
        .exclude(Exists(by_teacher))
    )
    rows = (
        comments.annotate(week=TruncWeek("created_at"))
        .order_by()
        .values("week")
        .annotate(total=Count("pk"), top_level=Count("pk", filter=Q(parent__isnull=True)))
    )
    for row in rows:
        week = weeks.get(_day(row["week"]))
        if week is not None:
            week.comments, week.top_level = row["total"], row["top_level"]
    # The first 作者回复 of each of those top-level comments, read from the answers' side (one
    # grouping of the answers) rather than with a subquery per comment.
    parent_by_teacher = Teaching.objects.filter(
        course=OuterRef("lesson__course"), member=OuterRef("parent__member")
    )
    pairs = (
        Comment.objects.counted()
        .filter(is_author_reply=True, parent__parent__isnull=True)
        .filter(
            parent__status=Comment.Status.PUBLISHED,
            parent__deleted_at__isnull=True,
            parent__is_author_reply=False,
            parent__created_at__gte=since,
            parent__lesson__course__in=_courses(workspace, course),
        )
        .exclude(Exists(parent_by_teacher))
        .order_by()
        .values("parent_id", "parent__created_at")
        .annotate(first=Min("created_at"))
        .values_list("parent__created_at", "first")
    )
    spans: dict[date, list[timedelta]] = defaultdict(list)
    for created, first in pairs:
        spans[week_of(_day(created))].append(max(first - created, timedelta(0)))
    for start, week in weeks.items():
        week.answered = len(spans[start])
        week.median_hours = _median_hours(spans[start])
    overall = _median_hours([span for week_spans in spans.values() for span in week_spans])

    labels = [start.strftime("%m-%d") for start in starts]
    ordered = [weeks[start] for start in starts]
    scope = waiting(workspace)
    if course is not None:
        scope = scope.filter(lesson__course=course)
    top = lesson_counts(scope)[:TOP_LESSONS]
    charts = [
        Chart(
            "comments",
            _("Comments per week"),
            _(
                "Comments and replies written in each of the last %(weeks)d weeks, "
                "teachers' left out."
            )
            % {"weeks": WEEKS},
            labels,
            [Series(_("Comments"), [w.comments for w in ordered])],
        ),
        Chart(
            "answered",
            _("Share answered by a teacher"),
            _("Of each week's top-level comments, the percent that have a teacher's answer."),
            labels,
            [Series(_("Answered (percent)"), [w.answered_share for w in ordered])],
            unit="%",
        ),
        Chart(
            "answer-time",
            _("Median time to the first teacher answer"),
            _(
                "For each week's answered top-level comments, "
                "the median hours until the first answer."
            ),
            labels,
            [Series(_("Hours"), [w.median_hours for w in ordered])],
            unit="h",
        ),
        Chart(
            "waiting-lessons",
            _("Lessons with the most waiting comments"),
            _("The lessons whose comments wait longest for an answer, by how many wait."),
            [f"{count.title}" for count in top],
            [Series(_("Waiting"), [count.waiting for count in top])],
            horizontal=True,
        ),
    ]
    return CourseFigures(ordered, overall, charts)


@dataclass
class ModerationFigures:
    median_hours: float | None
    waiting_review: int
    charts: list[Chart]


def moderation_figures(
    workspace: Workspace, course: Course | None, *, today: date
) -> ModerationFigures:
    """Reports opened and resolved per week, the median time to resolution, and the comments
    waiting for review per course: two queries."""
    starts, since = _window(today)
    reports = Report.objects.filter(comment__lesson__course__in=_courses(workspace, course))
    opened: dict[date, int] = defaultdict(int)
    resolved: dict[date, int] = defaultdict(int)
    spans: dict[date, list[timedelta]] = defaultdict(list)
    rows = reports.filter(Q(created_at__gte=since) | Q(resolved_at__gte=since)).values_list(
        "created_at", "resolved_at"
    )
    for created, done in rows:
        opened[week_of(_day(created))] += 1
        if done is not None:
            resolved[week_of(_day(done))] += 1
            spans[week_of(_day(done))].append(max(done - created, timedelta(0)))
    pending = list(
        Comment.objects.filter(
            status=Comment.Status.PENDING,
            deleted_at__isnull=True,
            lesson__course__in=_courses(workspace, course),
        )
        .order_by()
        .values("lesson__course__title")
        .annotate(n=Count("pk"))
        .values_list("lesson__course__title", "n")
    )
    pending.sort(key=lambda row: (-row[1], row[0]))
    labels = [start.strftime("%m-%d") for start in starts]
    charts = [
        Chart(
            "reports",
            _("Reports opened and resolved per week"),
            _("Reports made on comments in each week, and those a moderator resolved."),
            labels,
            [
                Series(_("Opened"), [opened[s] for s in starts]),
                Series(_("Resolved"), [resolved[s] for s in starts]),
            ],
        ),
        Chart(
            "resolution-time",
            _("Median time to resolution"),
            _("For the reports resolved each week, the median hours from report to decision."),
            labels,
            [Series(_("Hours"), [_median_hours(spans[s]) for s in starts])],
            unit="h",
        ),
        Chart(
            "review",
            _("Comments waiting for review"),
            _("Comments held for a moderator's approval, by course."),
            [title for title, _n in pending[:TOP_LESSONS]],
            [Series(_("Waiting for review"), [n for _title, n in pending[:TOP_LESSONS]])],
            horizontal=True,
        ),
    ]
    every = [span for week_spans in spans.values() for span in week_spans]
    return ModerationFigures(_median_hours(every), sum(n for _t, n in pending), charts)
