"""Tests of servicekpi.calendar: the working calendar, exact across DST gaps and folds."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Literal, NamedTuple

import attrs
import numpy as np
import pytest
from dateutil.tz import datetime_ambiguous, datetime_exists, gettz, resolve_imaginary
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from servicekpi import calendar as calendar_module
from servicekpi.calendar import MISSING, WorkCalendar, from_epoch, to_epoch, utc_offsets
from servicekpi.exceptions import CalendarError, NaiveDatetimeError

DAY = 86_400
SHANGHAI = gettz("Asia/Shanghai")
BERLIN = gettz("Europe/Berlin")
DEFAULT = WorkCalendar.default()
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def at(
    zone_name: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0,
    second: int = 0, *, fold: int = 0,
) -> int:
    """Epoch seconds of a local wall-clock time in a zone."""
    return to_epoch(datetime(year, month, day, hour, minute, second, tzinfo=gettz(zone_name), fold=fold))


def sh(*args: int) -> int:
    return at("Asia/Shanghai", *args)


def arr(*values: int) -> NDArray[np.int64]:
    return np.array(values, dtype=np.int64)


def seconds(calendar: WorkCalendar, start: int, end: int) -> int:
    return int(calendar.working_seconds(arr(start), arr(end))[0])


# -- the naive reference: per instant, datetime + dateutil only -----------------------


class Spec(NamedTuple):
    """A calendar described independently of WorkCalendar (seconds of day, end <= 86400)."""

    zone: str
    week: tuple[tuple[tuple[int, int], ...], ...]
    holidays: frozenset[date] = frozenset()
    extra: frozenset[date] = frozenset()
    makeup: int = 0

    def calendar(self) -> WorkCalendar:
        def clock(value: int) -> str:
            return f"{value // 3600:02d}:{value % 3600 // 60:02d}"

        return WorkCalendar(
            tz=self.zone,
            hours=[[f"{clock(a)}-{clock(b)}" for a, b in day] for day in self.week],
            holidays=self.holidays,
            extra_workdays=self.extra,
            makeup_weekday=self.makeup,
        )


def ref_hours(spec: Spec, day: date) -> tuple[tuple[int, int], ...]:
    if day in spec.holidays:
        return ()
    if day in spec.extra:
        return spec.week[spec.makeup]
    return spec.week[day.weekday()]


def ref_is_working(spec: Spec, t: int) -> bool:
    local = datetime.fromtimestamp(t, gettz(spec.zone))
    of_day = local.hour * 3600 + local.minute * 60 + local.second
    return any(a <= of_day < b for a, b in ref_hours(spec, local.date()))


def ref_working_seconds(spec: Spec, start: int, end: int, step: int = 60) -> int:
    """Walk UTC blocks of ``step`` seconds; exact when every boundary is a multiple of it."""
    sign = 1
    if end < start:
        start, end, sign = end, start, -1
    total = 0
    block = start - start % step
    while block < end:
        if ref_is_working(spec, block):
            total += min(end, block + step) - max(start, block)
        block += step
    return sign * total


def ref_roll(spec: Spec, day: date) -> date:
    while not ref_hours(spec, day):
        day += timedelta(days=1)
    return day


def ref_add_working_days(spec: Spec, t: int, n: int) -> int:
    zone = gettz(spec.zone)
    local = datetime.fromtimestamp(t, zone)
    day = ref_roll(spec, local.date())
    for _ in range(n):
        day = ref_roll(spec, day + timedelta(days=1))
    wall = datetime.combine(day, time(local.hour, local.minute, local.second), tzinfo=zone)
    return to_epoch(resolve_imaginary(wall))


def ref_end_of_working_day(spec: Spec, t: int) -> int | None:
    zone = gettz(spec.zone)
    day = ref_roll(spec, datetime.fromtimestamp(t, zone).date())
    base = to_epoch(datetime.combine(day, time(), tzinfo=timezone.utc)) - 2 * DAY
    last = None
    for minute in range(base, base + 5 * DAY, 60):
        if datetime.fromtimestamp(minute, zone).date() == day and ref_is_working(spec, minute):
            last = minute
    return None if last is None else last + 60


# -- strategies -----------------------------------------------------------------------

# (zone, local date) pairs at or next to offset transitions, plus the range ends.
ANCHORS = [
    ("Europe/Berlin", date(2024, 3, 31)),
    ("Europe/Berlin", date(2024, 10, 27)),
    ("America/New_York", date(2024, 3, 10)),
    ("America/New_York", date(2024, 11, 3)),
    ("America/New_York", date(2099, 11, 1)),
    ("Australia/Lord_Howe", date(2024, 4, 7)),
    ("Australia/Lord_Howe", date(2024, 10, 6)),
    ("America/Sao_Paulo", date(2018, 2, 17)),  # falls back at midnight
    ("America/Sao_Paulo", date(2018, 11, 4)),  # springs forward at midnight
    ("Europe/Moscow", date(2011, 3, 27)),
    ("Europe/Moscow", date(2014, 10, 26)),
    ("Asia/Sakhalin", date(2014, 10, 26)),
    ("Asia/Sakhalin", date(2016, 3, 27)),
    ("Pacific/Apia", date(2011, 12, 30)),  # a skipped day
    ("Asia/Kathmandu", date(1986, 1, 1)),  # +05:30 -> +05:45
    ("Pacific/Kiritimati", date(1994, 12, 31)),  # a skipped day
    ("Africa/Sao_Tome", date(2018, 1, 1)),  # changes at 01:00Z on New Year's Day
    ("America/Lima", date(1986, 1, 1)),
    ("Asia/Shanghai", date(1991, 4, 14)),
    ("Asia/Shanghai", date(2024, 2, 10)),
    ("UTC", date(1970, 1, 3)),
    ("Europe/Berlin", date(2100, 12, 28)),
]

NIGHT = [0, 60, 90, 120, 150, 180, 240, 1380, 1410, 1440]


@st.composite
def specs(draw: st.DrawFn, *, grid: int = 1) -> tuple[Spec, int]:
    """A random calendar near a transition, and the anchor instant (UTC midnight)."""
    zone, anchor = draw(st.sampled_from(ANCHORS))
    point = st.one_of(
        st.integers(0, 1440 // grid).map(lambda q: q * grid), st.sampled_from(NIGHT)
    )
    week = []
    for _ in range(7):
        points = sorted(set(draw(st.lists(point, max_size=6))))
        week.append(tuple((points[i] * 60, points[i + 1] * 60) for i in range(0, len(points) - 1, 2)))
    with_hours = [i for i, day in enumerate(week) if day]
    assume(with_hours)
    states = draw(st.lists(st.sampled_from("nnhe"), min_size=9, max_size=9))
    near = [anchor + timedelta(days=k - 4) for k in range(9)]
    return (
        Spec(
            zone=zone,
            week=tuple(week),
            holidays=frozenset(d for d, s in zip(near, states, strict=True) if s == "h"),
            extra=frozenset(d for d, s in zip(near, states, strict=True) if s == "e"),
            makeup=draw(st.sampled_from(with_hours)),
        ),
        to_epoch(datetime.combine(anchor, time(), tzinfo=timezone.utc)),
    )


near = st.integers(-2 * DAY, 2 * DAY)


# -- construction ---------------------------------------------------------------------


class TestConstruction:
    """Building a calendar converts inputs to canonical tuples and validates them."""

    def test_default_hours(self) -> None:
        """The default is Shanghai, Mon-Fri 08:30-12:00 and 13:30-17:30."""
        day = ((time(8, 30), time(12, 0)), (time(13, 30), time(17, 30)))
        assert (day,) * 5 + ((), ()) == DEFAULT.hours
        assert "Asia/Shanghai" == DEFAULT.tz
        assert WorkCalendar() == DEFAULT

    def test_strings_lists_and_24h(self) -> None:
        """Interval strings, lists, None and '24:00' convert to (time, time) tuples."""
        calendar = WorkCalendar(
            hours=[["08:00-12:00", ("13:00", time(18))], "20:00-24:00", None, [], [], [], "00:00-24:00"]
        )
        assert ((time(8), time(12)), (time(13), time(18))) == calendar.hours[0]
        assert ((time(20), time(0)),) == calendar.hours[1]
        assert ((time(0), time(0)),) == calendar.hours[6]
        assert () == calendar.hours[2]

    def test_date_sets_from_any_iterable(self) -> None:
        """Holidays and make-up days accept any iterable of dates or ISO strings."""
        calendar = WorkCalendar(
            holidays=(date(2024, 10, d) for d in (1, 2)), extra_workdays=["2024-10-12"]
        )
        assert frozenset({date(2024, 10, 1), date(2024, 10, 2)}) == calendar.holidays
        assert frozenset({date(2024, 10, 12)}) == calendar.extra_workdays

    def test_frozen_hashable_evolve(self) -> None:
        """Calendars are frozen values: equal ones hash equal, changes go through evolve."""
        assert hash(WorkCalendar()) == hash(DEFAULT)
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            DEFAULT.tz = "UTC"  # type: ignore[misc]
        assert "UTC" == attrs.evolve(DEFAULT, tz="UTC").tz

    def test_hours_on(self) -> None:
        """hours_on applies holidays, then make-up days, then the weekday."""
        calendar = WorkCalendar(
            hours=["09:00-12:00"] * 5 + ["09:00-10:00", None],
            holidays={date(2024, 10, 1)},
            extra_workdays={date(2024, 10, 12)},
        )
        assert () == calendar.hours_on(date(2024, 10, 1))
        assert ((time(9), time(12)),) == calendar.hours_on(date(2024, 10, 12))  # a Saturday
        assert ((time(9), time(10)),) == calendar.hours_on(date(2024, 10, 19))
        assert () == calendar.hours_on(date(2024, 10, 13))


class TestValidation:
    """Invalid calendars raise CalendarError naming the field and the value."""

    @pytest.mark.parametrize("zone", ["Mars/Olympus", "", "XYZ3", "../zoneinfo/UTC", "/etc/localtime", ":UTC"])
    def test_unknown_zone(self, zone: str) -> None:
        """Only IANA names are zones: no paths, POSIX strings or local time."""
        with pytest.raises(CalendarError, match=rf"'tz' must be an IANA time zone name \(got {zone!r}\)"):
            WorkCalendar(tz=zone)

    def test_seven_entries(self) -> None:
        """hours needs Monday..Sunday."""
        with pytest.raises(CalendarError, match=r"'hours' must have 7 weekday entries, Monday..Sunday \(got 5: "):
            WorkCalendar(hours=["09:00-17:00"] * 5)

    def test_hours_not_a_string(self) -> None:
        """A bare string is not seven entries."""
        with pytest.raises(CalendarError, match=r"'hours' must be 7 weekday entries, Monday..Sunday \(got '09:00-17:00'\)"):
            WorkCalendar(hours="09:00-17:00")

    def test_start_before_end(self) -> None:
        """An interval must start before it ends (24:00 is the only end-of-day)."""
        with pytest.raises(CalendarError, match=r"'hours' interval on Tuesday must start before it ends \(got '18:00-08:00'\)"):
            WorkCalendar(hours=[None, "18:00-08:00", None, None, None, None, None])

    def test_sorted_non_overlapping(self) -> None:
        """Intervals of a day are sorted and do not overlap."""
        with pytest.raises(CalendarError, match=r"'hours' intervals on Monday must be sorted and must not overlap \(got '08:00-12:00, 11:00-13:00'\)"):
            WorkCalendar(hours=["08:00-12:00,11:00-13:00"] + [None] * 6)
        with pytest.raises(CalendarError, match=r"must be sorted and must not overlap \(got '13:00-14:00, 08:00-12:00'\)"):
            WorkCalendar(hours=["13:00-14:00,08:00-12:00"] + [None] * 6)

    def test_touching_intervals_allowed(self) -> None:
        """Touching intervals do not overlap."""
        calendar = WorkCalendar(tz="UTC", hours=["08:00-12:00,12:00-13:00"] * 7)
        assert 5 * 3600 == seconds(calendar, at("UTC", 2024, 1, 1), at("UTC", 2024, 1, 2))

    def test_no_working_time(self) -> None:
        """A week without working time is rejected."""
        with pytest.raises(CalendarError, match=r"'hours' has no working time in the week \(got \(\(\), \(\), \(\), \(\), \(\), \(\), \(\)\)\)"):
            WorkCalendar(hours=[None] * 7)

    @pytest.mark.parametrize(
        ("interval", "message"),
        [
            ("25:00-26:00", r"'hours' has an invalid time '25:00' in '25:00-26:00'; expected 'HH:MM'"),
            ("8h30-12:00", r"'hours' has an invalid time '8h30' in '8h30-12:00'; expected 'HH:MM'"),
            ("24:00-24:00", r"'hours' has an invalid time '24:00' in '24:00-24:00'"),
            ("08:30", r"'hours' has an invalid interval '08:30'; expected 'HH:MM-HH:MM'"),
            (("08:30", 9), r"'hours' times must be datetime.time or 'HH:MM' \(got 9 in \('08:30', 9\)\)"),
            (
                (time(8, 0, 0, 5), time(9)),
                r"'hours' times must be whole seconds without tzinfo \(got datetime.time\(8, 0, 0, 5\)",
            ),
            (42, r"'hours' intervals must be 'HH:MM-HH:MM' or \(start, end\) pairs \(got 42\)"),
        ],
    )
    def test_bad_interval(self, interval: object, message: str) -> None:
        """Malformed intervals and times are rejected with the offending text."""
        with pytest.raises(CalendarError, match=message):
            WorkCalendar(hours=[[interval]] * 7)  # type: ignore[list-item]

    def test_holiday_and_extra_workday(self) -> None:
        """A date cannot be both a holiday and a make-up day."""
        with pytest.raises(CalendarError, match=r"'extra_workdays' and 'holidays' contradict each other: both contain \[datetime.date\(2024, 10, 12\)\]"):
            WorkCalendar(holidays={date(2024, 10, 12)}, extra_workdays={date(2024, 10, 12)})

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            ("2024-10-01", r"'holidays' must be an iterable of dates \(got '2024-10-01'\)"),
            ([datetime(2024, 10, 1)], r"'holidays' must hold datetime.date values \(got datetime.datetime\(2024, 10, 1, 0, 0\)\)"),
            (["2024-13-01"], r"'holidays' has an invalid ISO date '2024-13-01'"),
            ([1], r"'holidays' must hold datetime.date values \(got 1\)"),
        ],
    )
    def test_bad_dates(self, value: object, message: str) -> None:
        """Date sets hold dates only."""
        with pytest.raises(CalendarError, match=message):
            WorkCalendar(holidays=value)  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            (7, r"'makeup_weekday' must be an int in 0..6, 0=Monday \(got 7\)"),
            (True, r"'makeup_weekday' must be an int in 0..6, 0=Monday \(got True\)"),
            (5, r"'makeup_weekday' must be a weekday with working hours \(got 5: Saturday has none\)"),
        ],
    )
    def test_makeup_weekday(self, value: int, message: str) -> None:
        """The make-up weekday is a weekday with hours (when there are make-up days)."""
        with pytest.raises(CalendarError, match=message):
            WorkCalendar(makeup_weekday=value, extra_workdays={date(2024, 10, 12)})


# -- hand-computed examples -----------------------------------------------------------


class TestWorkingSeconds:
    """Hand-computed working times in the default and special calendars."""

    def test_friday_to_monday(self) -> None:
        """Friday 16:00 -> Monday 09:30 is 1.5 h + 1 h."""
        assert 9000 == seconds(DEFAULT, sh(2024, 3, 1, 16), sh(2024, 3, 4, 9, 30))

    def test_lunch_excluded(self) -> None:
        """11:00 -> 14:00 skips the 12:00-13:30 lunch break."""
        assert 5400 == seconds(DEFAULT, sh(2024, 3, 1, 11), sh(2024, 3, 1, 14))

    def test_antisymmetric(self) -> None:
        """end before start gives the negative."""
        assert -9000 == seconds(DEFAULT, sh(2024, 3, 4, 9, 30), sh(2024, 3, 1, 16))

    def test_holiday_and_makeup_sunday(self) -> None:
        """Qingming 2024: Thu-Fri off, Sunday 7 April a make-up working day."""
        calendar = WorkCalendar(
            holidays={date(2024, 4, 4), date(2024, 4, 5)}, extra_workdays={date(2024, 4, 7)}
        )
        # Wed 17:00-17:30, all of Sunday (7.5 h), Mon 08:30-09:00.
        assert 1800 + 27000 + 1800 == seconds(calendar, sh(2024, 4, 3, 17), sh(2024, 4, 8, 9))

    def test_makeup_day_works_makeup_weekday_hours(self) -> None:
        """A make-up day works the hours of makeup_weekday, not its own."""
        calendar = WorkCalendar(
            tz="UTC",
            hours=["09:00-17:00", "09:00-10:00", None, None, None, "09:00-12:00", None],
            extra_workdays={date(2024, 3, 2)},  # a Saturday
            makeup_weekday=1,
        )
        assert 3600 == seconds(calendar, at("UTC", 2024, 3, 2), at("UTC", 2024, 3, 3))

    def test_multi_interval_day(self) -> None:
        """Three intervals a day, with seconds in the boundaries."""
        calendar = WorkCalendar(tz="UTC", hours=["08:00-10:00,11:00:30-12:00,14:00-15:00"] * 7)
        assert 7200 + 3570 + 3600 == seconds(calendar, at("UTC", 2024, 1, 1), at("UTC", 2024, 1, 2))
        assert 1800 + 3570 + 1 == seconds(calendar, at("UTC", 2024, 1, 1, 9, 30), at("UTC", 2024, 1, 1, 14, 0, 1))

    def test_24h_end_touches_next_day(self) -> None:
        """22:00-24:00 Friday plus 00:00-02:00 Saturday is continuous working time."""
        calendar = WorkCalendar(
            tz="UTC", hours=[None, None, None, None, "22:00-24:00", "00:00-02:00", None]
        )
        assert 7200 == seconds(calendar, at("UTC", 2024, 3, 1, 23), at("UTC", 2024, 3, 2, 1))
        assert bool(calendar.is_working(arr(at("UTC", 2024, 3, 2)))[0])

    def test_missing_propagates(self) -> None:
        """A missing start or end gives a missing row."""
        out = DEFAULT.working_seconds(arr(MISSING, sh(2024, 3, 1, 9), sh(2024, 3, 1, 9)), arr(1, MISSING, sh(2024, 3, 1, 10)))
        assert [MISSING, MISSING, 3600] == out.tolist()
        assert [MISSING] == DEFAULT.working_seconds(arr(MISSING), arr(MISSING)).tolist()

    def test_shapes_kept(self) -> None:
        """Any shape works, including empty and 2-D."""
        start = np.full((2, 3), sh(2024, 3, 1, 9))
        assert (2, 3) == DEFAULT.working_seconds(start, start + 60).shape
        assert (0,) == DEFAULT.working_seconds(arr(), arr()).shape

    def test_scalar_working_time(self) -> None:
        """working_time takes aware datetimes of any zone and floors to seconds."""
        start = datetime(2024, 3, 1, 1, 0, 0, 700_000, tzinfo=timezone.utc)  # 09:00:00.7 Shanghai
        end = datetime(2024, 3, 1, 10, 0, tzinfo=SHANGHAI)
        assert timedelta(hours=1) == DEFAULT.working_time(start, end)


class TestDaylightSaving:
    """Working time is the set of instants whose local wall clock is in an interval."""

    NIGHT = [["00:00-06:00"]] * 7

    @pytest.mark.parametrize(
        ("zone", "day", "hours"),
        [
            ("Europe/Berlin", date(2024, 3, 31), 5),  # 02:00 -> 03:00
            ("Europe/Berlin", date(2024, 10, 27), 7),  # 03:00 -> 02:00
            ("America/New_York", date(2024, 3, 10), 5),
            ("America/New_York", date(2024, 11, 3), 7),
            ("Australia/Lord_Howe", date(2024, 10, 6), 5.5),  # 02:00 -> 02:30
            ("Australia/Lord_Howe", date(2024, 4, 7), 6.5),  # 02:00 -> 01:30
            ("Asia/Sakhalin", date(2016, 3, 27), 5),  # +10 -> +11 for good
            ("Europe/Moscow", date(2014, 10, 26), 7),  # +4 -> +3 for good
            ("Europe/Moscow", date(2024, 6, 1), 6),
        ],
    )
    def test_night_interval(self, zone: str, day: date, hours: float) -> None:
        """An interval holding the gap is shorter, one holding the fold longer."""
        calendar = WorkCalendar(tz=zone, hours=self.NIGHT)
        start = at(zone, day.year, day.month, day.day)
        assert hours * 3600 == seconds(calendar, start, start + 12 * 3600)

    def test_boundary_inside_gap_maps_to_transition(self) -> None:
        """02:30-05:00 on a spring-forward day starts at 03:00 CEST, the transition."""
        calendar = WorkCalendar(tz="Europe/Berlin", hours=[["02:30-05:00"]] * 7)
        day = at("Europe/Berlin", 2024, 3, 31)
        assert 7200 == seconds(calendar, day, day + DAY)
        assert [False, True] == calendar.is_working(arr(at("Europe/Berlin", 2024, 3, 31, 3) - 1, at("Europe/Berlin", 2024, 3, 31, 3))).tolist()

    def test_repeated_hour_counts_twice(self) -> None:
        """02:15-02:45 lies in the repeated hour: it holds one hour on the fall-back day."""
        calendar = WorkCalendar(tz="Europe/Berlin", hours=[["02:15-02:45"]] * 7)
        assert 3600 == seconds(calendar, at("Europe/Berlin", 2024, 10, 27), at("Europe/Berlin", 2024, 10, 28))
        assert 0 == seconds(calendar, at("Europe/Berlin", 2024, 3, 31), at("Europe/Berlin", 2024, 4, 1))

    def test_midnight_fold(self) -> None:
        """Sao Paulo fell back from 00:00 to 23:00: Saturday 22:00-24:00 held 3 hours."""
        calendar = WorkCalendar(tz="America/Sao_Paulo", hours=[None] * 5 + ["22:00-24:00", None])
        start = at("America/Sao_Paulo", 2018, 2, 17, 12)
        assert 3 * 3600 == seconds(calendar, start, start + DAY)


class TestAddWorkingTime:
    """add_working_time finds the earliest instant with the requested working time."""

    @pytest.mark.parametrize(
        ("start", "amount", "expected"),
        [
            ((2024, 3, 1, 16), 9000, (2024, 3, 4, 9, 30)),
            ((2024, 3, 1, 16), 5400, (2024, 3, 1, 17, 30)),  # lands at an end, not Monday 08:30
            ((2024, 3, 1, 19), 1, (2024, 3, 4, 8, 30, 1)),
            ((2024, 3, 1, 11), 3600, (2024, 3, 1, 12, 0)),  # the earliest: before lunch
            ((2024, 3, 1, 11), 5400, (2024, 3, 1, 14, 0)),
            ((2024, 3, 2, 10), 0, (2024, 3, 2, 10)),  # adding nothing keeps the start
        ],
    )
    def test_examples(self, start: tuple[int, ...], amount: int, expected: tuple[int, ...]) -> None:
        """Hand-computed cases in the default calendar."""
        assert [sh(*expected)] == DEFAULT.add_working_time(arr(sh(*start)), amount).tolist()

    def test_scalar_and_array_amounts(self) -> None:
        """seconds may be an int array of the start's shape, with MISSING rows."""
        start = arr(sh(2024, 3, 1, 9), MISSING, sh(2024, 3, 1, 9))
        out = DEFAULT.add_working_time(start, arr(60, 60, MISSING))
        assert [sh(2024, 3, 1, 9, 1), MISSING, MISSING] == out.tolist()

    def test_extends_table_far(self) -> None:
        """A large amount extends the table past the inputs' years."""
        ten_years = 10 * 52 * 5 * 27000
        out = DEFAULT.add_working_time(arr(sh(2024, 1, 1)), ten_years)
        assert ten_years == seconds(DEFAULT, sh(2024, 1, 1), int(out[0]))
        assert from_epoch(int(out[0]), "Asia/Shanghai").year in (2033, 2034)

    def test_scalar(self) -> None:
        """add_working_time_at returns a datetime in the calendar zone."""
        start = datetime(2024, 3, 1, 8, 0, tzinfo=timezone.utc)  # 16:00 Shanghai
        result = DEFAULT.add_working_time_at(start, timedelta(hours=2.5))
        assert datetime(2024, 3, 4, 9, 30, tzinfo=SHANGHAI) == result
        assert timedelta(hours=8) == result.utcoffset()

    def test_negative(self) -> None:
        """Negative amounts are rejected."""
        with pytest.raises(CalendarError, match=r"'seconds' must be >= 0 \(got -5\)"):
            DEFAULT.add_working_time(arr(0, 1), arr(1, -5))
        with pytest.raises(CalendarError, match=r"'delta' must be >= 0 \(got datetime.timedelta\(days=-1, seconds=86399\)\)"):
            DEFAULT.add_working_time_at(datetime(2024, 1, 1, tzinfo=SHANGHAI), timedelta(seconds=-1))

    def test_past_the_range(self) -> None:
        """A result beyond 2101 is an error."""
        with pytest.raises(CalendarError, match=r"'seconds' takes the result past 2101-12-31"):
            DEFAULT.add_working_time(arr(sh(2100, 6, 1)), 3 * 52 * 5 * 27000)


class TestPandas:
    """add_working_time agrees with pandas CustomBusinessHour where the models coincide."""

    HOLIDAYS = ["2024-04-04", "2024-04-05"]

    @pytest.mark.parametrize(
        ("start", "hours"),
        [
            ("2024-03-01 16:00", 2),
            ("2024-03-04 08:00", 1),
            ("2024-03-04 17:00", 1),
            ("2024-04-03 16:30", 3),
            ("2024-03-02 12:00", 7),
            ("2024-03-04 16:00:30", 1),
            ("2024-04-01 10:15:07", 30),
        ],
    )
    def test_same_instant(self, start: str, hours: int) -> None:
        """09:00-17:00 Mon-Fri with holidays, in a fixed-offset zone."""
        pd = pytest.importorskip("pandas")
        cbh = pd.offsets.CustomBusinessHour(start="09:00", end="17:00", holidays=self.HOLIDAYS)
        stamp = pd.Timestamp(start, tz="Etc/GMT-8")
        expected = (stamp + hours * cbh).to_pydatetime()
        calendar = WorkCalendar(tz="Etc/GMT-8", hours=["09:00-17:00"] * 5 + [None, None], holidays=self.HOLIDAYS)
        assert expected == calendar.add_working_time_at(stamp.to_pydatetime(), timedelta(hours=hours))

    def test_end_of_day_representative(self) -> None:
        """Landing on a closing time, pandas gives the next opening, we the closing: same W."""
        pd = pytest.importorskip("pandas")
        cbh = pd.offsets.CustomBusinessHour(start="09:00", end="17:00")
        stamp = pd.Timestamp("2024-03-04 16:00", tz="UTC")
        theirs = (stamp + cbh).to_pydatetime()
        calendar = WorkCalendar(tz="UTC", hours=["09:00-17:00"] * 5 + [None, None])
        ours = calendar.add_working_time_at(stamp.to_pydatetime(), timedelta(hours=1))
        assert datetime(2024, 3, 4, 17, tzinfo=timezone.utc) == ours
        assert datetime(2024, 3, 5, 9, tzinfo=timezone.utc) == theirs
        assert timedelta(0) == calendar.working_time(ours, theirs)


class TestWorkingDays:
    """add_working_days and end_of_working_day follow busday_offset in the local zone."""

    def test_roll_forward_then_move(self) -> None:
        """Saturday rolls to Monday, then moves one day; the wall time is kept."""
        out = DEFAULT.add_working_days(arr(sh(2024, 3, 2, 10), sh(2024, 3, 1, 23, 59)), 1)
        assert [sh(2024, 3, 5, 10), sh(2024, 3, 4, 23, 59)] == out.tolist()

    def test_busday_offset_agrees(self) -> None:
        """With plain holidays the dates equal numpy's busday_offset(roll='forward')."""
        holidays = [date(2024, 4, 4), date(2024, 4, 5), date(2024, 5, 1)]
        calendar = WorkCalendar(holidays=holidays)
        days = np.arange(np.datetime64("2024-03-25"), np.datetime64("2024-05-10"))
        start = (days.astype(np.int64) * DAY + 3 * 3600 - 8 * 3600).astype(np.int64)
        for n in (0, 1, 7):
            expected = np.busday_offset(days, n, roll="forward", holidays=holidays)
            assert expected.tolist() == calendar.local_dates(calendar.add_working_days(start, n)).tolist()

    def test_makeup_days(self) -> None:
        """Make-up days count as working days."""
        calendar = WorkCalendar(holidays={date(2024, 4, 4), date(2024, 4, 5)}, extra_workdays={date(2024, 4, 7)})
        assert [sh(2024, 4, 7, 9)] == calendar.add_working_days(arr(sh(2024, 4, 3, 9)), 1).tolist()

    def test_first_wall_time_after_gap(self) -> None:
        """03:00 exists on the spring-forward day: it is the transition instant."""
        calendar = WorkCalendar(tz="Europe/Berlin", hours=[["00:00-06:00"]] * 7)
        out = calendar.add_working_days(arr(at("Europe/Berlin", 2024, 3, 30, 3), at("Europe/Berlin", 2024, 3, 30, 1, 59, 59)), 1)
        assert [at("Europe/Berlin", 2024, 3, 31, 3), at("Europe/Berlin", 2024, 3, 31, 1, 59, 59)] == out.tolist()

    def test_gap_and_fold(self) -> None:
        """A skipped wall time moves forward by the gap, a repeated one takes fold=0."""
        calendar = WorkCalendar(tz="Europe/Berlin", hours=[["00:00-06:00"]] * 7)
        out = calendar.add_working_days(arr(at("Europe/Berlin", 2024, 3, 30, 2, 30), at("Europe/Berlin", 2024, 10, 26, 2, 30)), 1)
        assert [at("Europe/Berlin", 2024, 3, 31, 3, 30), at("Europe/Berlin", 2024, 10, 27, 2, 30, fold=0)] == out.tolist()

    def test_array_n_and_missing(self) -> None:
        """n may be an integer array; MISSING starts stay missing."""
        out = DEFAULT.add_working_days(arr(sh(2024, 3, 1, 9), MISSING), np.array([2, 1], dtype=np.int32))
        assert [sh(2024, 3, 5, 9), MISSING] == out.tolist()

    def test_negative_n(self) -> None:
        """n must be >= 0."""
        with pytest.raises(CalendarError, match=r"'n' must be >= 0 \(got -1\)"):
            DEFAULT.add_working_days(arr(sh(2024, 3, 1)), -1)

    def test_within_three_working_days(self) -> None:
        """Deadline = end of the working day three working days later."""
        start = arr(sh(2024, 3, 1, 19))  # Friday evening
        deadline = DEFAULT.end_of_working_day(DEFAULT.add_working_days(start, 3))
        assert [sh(2024, 3, 6, 17, 30)] == deadline.tolist()
        assert [True] == (DEFAULT.working_seconds(start, deadline) == 3 * 27000).tolist()

    def test_end_of_working_day(self) -> None:
        """The day's last interval end; non-working days roll forward first."""
        out = DEFAULT.end_of_working_day(arr(sh(2024, 3, 1, 19), sh(2024, 3, 2, 9), MISSING))
        assert [sh(2024, 3, 1, 17, 30), sh(2024, 3, 4, 17, 30), MISSING] == out.tolist()

    def test_end_of_working_day_in_fold_and_gap(self) -> None:
        """An end in a repeated hour is its second pass; hours lost in a gap end at the transition."""
        fold = WorkCalendar(tz="Europe/Berlin", hours=[["01:00-02:30"]] * 7)
        assert [at("Europe/Berlin", 2024, 10, 27, 2, 30, fold=1)] == fold.end_of_working_day(arr(at("Europe/Berlin", 2024, 10, 27, 1))).tolist()
        gap = WorkCalendar(tz="Europe/Berlin", hours=[["02:15-02:45"]] * 7)
        assert datetime(2024, 3, 31, 3, tzinfo=BERLIN) == gap.end_of_working_day_at(datetime(2024, 3, 31, 1, tzinfo=BERLIN))

    def test_scalars(self) -> None:
        """The scalar forms return datetimes in the calendar zone."""
        start = datetime(2024, 3, 1, 16, tzinfo=SHANGHAI)
        assert datetime(2024, 3, 6, 16, tzinfo=SHANGHAI) == DEFAULT.add_working_days_at(start, 3)
        assert datetime(2024, 3, 1, 17, 30, tzinfo=SHANGHAI) == DEFAULT.end_of_working_day_at(start)


class TestIsWorkingAndDates:
    """is_working, local_dates and utc_offsets."""

    def test_is_working_boundaries(self) -> None:
        """Start inclusive, end exclusive; MISSING is not working."""
        t = arr(sh(2024, 3, 1, 8, 30) - 1, sh(2024, 3, 1, 8, 30), sh(2024, 3, 1, 12) - 1, sh(2024, 3, 1, 12), MISSING)
        assert [False, True, True, False, False] == DEFAULT.is_working(t).tolist()
        assert DEFAULT.is_working_at(datetime(2024, 3, 1, 9, tzinfo=SHANGHAI))

    def test_local_dates(self) -> None:
        """The calendar-zone date, NaT for MISSING."""
        out = DEFAULT.local_dates(arr(sh(2024, 3, 1, 23, 59), sh(2024, 3, 2), MISSING))
        assert ["2024-03-01", "2024-03-02", "NaT"] == [str(d) for d in out]

    def test_utc_offsets_any_zone(self) -> None:
        """Offsets of New York instants around the fall-back."""
        t = arr(at("America/New_York", 2024, 11, 3, 1, 30), at("America/New_York", 2024, 11, 3, 1, 30, fold=1), MISSING)
        assert [-4 * 3600, -5 * 3600, MISSING] == utc_offsets(t, "America/New_York").tolist()

    @pytest.mark.parametrize(("zone", "day"), ANCHORS)
    def test_utc_offsets_near_transitions(self, zone: str, day: date) -> None:
        """Every quarter hour for four days around each anchor equals dateutil's offset."""
        middle = to_epoch(datetime.combine(day, time(), tzinfo=timezone.utc))
        instants = list(range(max(middle - 2 * DAY, 0), middle + 2 * DAY, 900))
        tzinfo = gettz(zone)
        expected = [int(datetime.fromtimestamp(t, tzinfo).utcoffset().total_seconds()) for t in instants]  # type: ignore[union-attr]
        assert expected == utc_offsets(np.array(instants, dtype=np.int64), zone).tolist()

    @PROPERTY
    @given(st.sampled_from(["America/New_York", "Australia/Lord_Howe", "Europe/Moscow", "Asia/Kathmandu", "Pacific/Apia", "America/Sao_Paulo"]), st.lists(st.integers(0, 4_133_980_799), min_size=1, max_size=20))
    def test_utc_offsets_match_dateutil(self, zone: str, instants: list[int]) -> None:
        """utc_offsets and local dates equal dateutil's, per instant, 1970..2100."""
        tzinfo = gettz(zone)
        expected = [int(datetime.fromtimestamp(t, tzinfo).utcoffset().total_seconds()) for t in instants]  # type: ignore[union-attr]
        assert expected == utc_offsets(np.array(instants, dtype=np.int64), zone).tolist()
        dates = [datetime.fromtimestamp(t, tzinfo).date() for t in instants]
        assert dates == WorkCalendar(tz=zone).local_dates(np.array(instants, dtype=np.int64)).tolist()


class TestEpochs:
    """to_epoch / from_epoch and naive datetimes."""

    def test_round_trip_with_fold(self) -> None:
        """from_epoch sets fold on the second pass of a repeated hour."""
        first, second = 1_730_611_800, 1_730_615_400  # 01:30 EDT, 01:30 EST on 2024-11-03
        assert (0, 1) == (from_epoch(first, "America/New_York").fold, from_epoch(second, "America/New_York").fold)
        assert [first, second] == [to_epoch(from_epoch(t, "America/New_York")) for t in (first, second)]

    def test_floor(self) -> None:
        """Sub-second parts are floored, also before the epoch's second boundary."""
        assert 1 == to_epoch(datetime(1970, 1, 1, 0, 0, 1, 999_999, tzinfo=timezone.utc))

    @pytest.mark.parametrize(
        ("call", "name"),
        [
            (lambda dt: DEFAULT.working_time(dt, dt), "start"),
            (lambda dt: DEFAULT.add_working_time_at(dt, timedelta(0)), "start"),
            (lambda dt: DEFAULT.add_working_days_at(dt, 1), "start"),
            (lambda dt: DEFAULT.end_of_working_day_at(dt), "start"),
            (lambda dt: DEFAULT.is_working_at(dt), "t"),
            (to_epoch, "dt"),
        ],
    )
    def test_naive_rejected(self, call: object, name: str) -> None:
        """Every scalar entry point rejects naive datetimes by name."""
        naive = datetime(2024, 3, 1, 9, 0)
        with pytest.raises(NaiveDatetimeError, match=rf"'{name}' must be timezone-aware \(got datetime.datetime\(2024, 3, 1, 9, 0\)\)"):
            call(naive)  # type: ignore[operator]

    def test_not_a_datetime(self) -> None:
        """Dates are not instants."""
        with pytest.raises(CalendarError, match=r"'dt' must be a datetime.datetime \(got datetime.date\(2024, 3, 1\)\)"):
            to_epoch(date(2024, 3, 1))  # type: ignore[arg-type]

    def test_from_epoch_unknown_zone(self) -> None:
        """from_epoch validates the zone."""
        with pytest.raises(CalendarError, match=r"'tz' must be an IANA time zone name \(got 'Nowhere'\)"):
            from_epoch(0, "Nowhere")


class TestArrayChecks:
    """The array methods check dtype, shape and range first."""

    def test_dtype(self) -> None:
        """Only int64 arrays are epoch seconds."""
        with pytest.raises(CalendarError, match=r"'end' must be a numpy int64 array of epoch seconds \(got dtype 'float64'\)"):
            DEFAULT.working_seconds(arr(0), np.array([1.0]))
        with pytest.raises(CalendarError, match=r"'t' must be a numpy int64 array of epoch seconds \(got list\)"):
            DEFAULT.is_working([0])  # type: ignore[arg-type]
        with pytest.raises(CalendarError, match=r"'start' must be a numpy int64 array of epoch seconds \(got dtype 'datetime64\[s\]'\)"):
            DEFAULT.add_working_days(np.array(["2024-01-01"], dtype="datetime64[s]"), 1)

    def test_shape(self) -> None:
        """start and end have equal shapes."""
        with pytest.raises(CalendarError, match=r"'end' must have the shape of 'start' \(2,\) \(got \(3,\)\)"):
            DEFAULT.working_seconds(arr(0, 1), arr(0, 1, 2))
        with pytest.raises(CalendarError, match=r"'n' must be an int or have the shape of 'start' \(2,\) \(got \(1,\)\)"):
            DEFAULT.add_working_days(arr(0, 1), arr(1))
        with pytest.raises(CalendarError, match=r"'seconds' must be an int or an integer array \(got float\)"):
            DEFAULT.add_working_time(arr(0), 1.5)  # type: ignore[arg-type]

    def test_range(self) -> None:
        """Instants lie in 1970..2100."""
        with pytest.raises(CalendarError, match=r"'end' must lie in 1970-01-01T00:00:00Z..2100-12-31T23:59:59Z \(got 4133980800\)"):
            DEFAULT.working_seconds(arr(0), arr(4_133_980_800))
        with pytest.raises(CalendarError, match=r"'epochs' must lie in .* \(got -1\)"):
            utc_offsets(arr(-1), "UTC")


class TestTables:
    """The cached tables cover whole years of the span the inputs need."""

    def test_span_in_whole_years(self) -> None:
        """Mid-2024 rows need 2024 only; rows near New Year pull in the neighbour year."""
        assert (2024, 2024) == calendar_module._span(None, ("t", arr(sh(2024, 6, 1))))
        assert (2023, 2024) == calendar_module._span(None, ("t", arr(sh(2024, 1, 1, 12))))

    def test_cache_hits_within_a_year(self) -> None:
        """Two calls with instants in the same year reuse one table."""
        calendar = attrs.evolve(DEFAULT, holidays={date(2031, 1, 1)})
        calendar.working_seconds(arr(sh(2031, 3, 1)), arr(sh(2031, 4, 1)))
        hits = calendar_module._table.cache_info().hits
        calendar.working_seconds(arr(sh(2031, 5, 1)), arr(sh(2031, 9, 1)))
        assert hits + 1 == calendar_module._table.cache_info().hits

    @pytest.mark.parametrize("right", [True, False])
    def test_buckets_with_several_steps(self, right: bool) -> None:
        """Keys packed closer than the coarsest bucket allows need several steps."""
        rng = np.random.default_rng(2)
        keys = np.unique(np.concatenate((np.arange(1000, 1010), rng.integers(0, 1 << 30, 500))))
        buckets = calendar_module._Buckets(keys, 0, 1 << 30, right=right)
        values = np.concatenate((np.arange(990, 1020), rng.integers(0, 1 << 30, 2000), keys))
        assert buckets.steps > 1
        side: Literal["left", "right"] = "right" if right else "left"
        assert np.searchsorted(keys, values, side=side).tolist() == buckets.search(values).tolist()

    def test_crowded_buckets(self) -> None:
        """Many short intervals force several bucket steps; both lookups agree."""
        calendar = WorkCalendar(tz="America/New_York", hours=[",".join(f"{h:02d}:00-{h:02d}:01,{h:02d}:02-{h:02d}:03" for h in range(24))] * 7)
        t = np.random.default_rng(1).integers(at("America/New_York", 2024, 1, 1), at("America/New_York", 2025, 1, 1), 5000)
        table = calendar_module._table(calendar, *calendar_module._span(None, ("t", t)))  # type: ignore[misc]
        assert calendar_module._working_clock_searchsorted(table, t).tolist() == calendar_module._working_clock(table, t).tolist()


# -- properties against the naive reference -------------------------------------------


class TestProperties:
    """Random calendars near offset transitions agree with the per-instant reference."""

    @PROPERTY
    @given(specs(), near, near)
    def test_working_seconds_equals_reference(self, drawn: tuple[Spec, int], a: int, b: int) -> None:
        """Minute-exact boundaries, second-exact instants, 48 h spans."""
        spec, anchor = drawn
        start, end = anchor + a, anchor + min(max(b, a - DAY), a + DAY)
        assert ref_working_seconds(spec, start, end) == seconds(spec.calendar(), start, end)

    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(specs(grid=15), near, st.integers(0, 12 * DAY))
    def test_long_spans_equal_reference(self, drawn: tuple[Spec, int], a: int, length: int) -> None:
        """Quarter-hour calendars over up to 12 days, walked in 15-minute blocks."""
        spec, anchor = drawn
        start = anchor + a
        length = min(length, 4133980799 - start)  # the anchor near 2100-12-31 + 12 days
        assert ref_working_seconds(spec, start, start + length, step=900) == seconds(spec.calendar(), start, start + length)

    @PROPERTY
    @given(specs(), st.lists(near, min_size=1, max_size=30))
    def test_is_working_equals_reference(self, drawn: tuple[Spec, int], offsets: list[int]) -> None:
        """Membership per instant, checked to the second."""
        spec, anchor = drawn
        t = [anchor + o for o in offsets]
        assert [ref_is_working(spec, x) for x in t] == spec.calendar().is_working(np.array(t, dtype=np.int64)).tolist()

    @PROPERTY
    @given(specs(), near, st.integers(0, 2 * DAY))
    def test_add_working_time_inverts(self, drawn: tuple[Spec, int], a: int, amount: int) -> None:
        """working_seconds(s, add(s, x)) == x, and the result is the earliest such instant."""
        spec, anchor = drawn
        assume(anchor < at("UTC", 2090, 1, 1))
        calendar, start = spec.calendar(), anchor + a
        landed = int(calendar.add_working_time(arr(start), amount)[0])
        assert amount == seconds(calendar, start, landed)
        if amount:
            assert bool(calendar.is_working(arr(landed - 1))[0])
        else:
            assert start == landed

    @PROPERTY
    @given(specs(), near, st.integers(0, 3))
    def test_add_working_days_equals_reference(self, drawn: tuple[Spec, int], a: int, n: int) -> None:
        """The date walk and the wall-clock resolution equal dateutil's."""
        spec, anchor = drawn
        assume(anchor < at("UTC", 2090, 1, 1))
        start = anchor + a
        assert [ref_add_working_days(spec, start, n)] == spec.calendar().add_working_days(arr(start), n).tolist()

    @settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(specs(), near)
    def test_end_of_working_day_equals_reference(self, drawn: tuple[Spec, int], a: int) -> None:
        """The last working instant of the rolled-forward day, plus one second."""
        spec, anchor = drawn
        assume(anchor < at("UTC", 2090, 1, 1))
        expected = ref_end_of_working_day(spec, anchor + a)
        assume(expected is not None)
        assert [expected] == spec.calendar().end_of_working_day(arr(anchor + a)).tolist()

    @PROPERTY
    @given(specs(), st.lists(st.integers(0, 4_133_980_799), min_size=3, max_size=3))
    def test_antisymmetric_and_additive(self, drawn: tuple[Spec, int], points: list[int]) -> None:
        """W(a,b) == -W(b,a) and W(a,b) + W(b,c) == W(a,c), anywhere in 1970..2100."""
        calendar = drawn[0].calendar()
        a, b, c = (arr(p) for p in points)
        assert (-calendar.working_seconds(b, a)).tolist() == calendar.working_seconds(a, b).tolist()
        assert calendar.working_seconds(a, c).tolist() == (calendar.working_seconds(a, b) + calendar.working_seconds(b, c)).tolist()

    @PROPERTY
    @given(specs(), st.lists(st.integers(0, 4_133_980_799), min_size=1, max_size=50))
    def test_bucket_lookup_equals_searchsorted(self, drawn: tuple[Spec, int], points: list[int]) -> None:
        """The bucket-index W equals the searchsorted W over the whole range."""
        calendar, t = drawn[0].calendar(), np.array(points, dtype=np.int64)
        table = calendar_module._table(calendar, *calendar_module._span(None, ("t", t)))  # type: ignore[misc]
        assert calendar_module._working_clock_searchsorted(table, t).tolist() == calendar_module._working_clock(table, t).tolist()

    @PROPERTY
    @given(specs(), st.lists(st.one_of(near, st.just(None)), min_size=1, max_size=10), st.lists(st.one_of(near, st.just(None)), min_size=10, max_size=10))
    def test_missing_propagates(self, drawn: tuple[Spec, int], starts: list[int | None], ends: list[int | None]) -> None:
        """A MISSING row in gives MISSING (False) out, and the other rows are unaffected."""
        spec, anchor = drawn
        calendar = spec.calendar()
        ends = ends[: len(starts)]
        s = np.array([MISSING if x is None else anchor + x for x in starts], dtype=np.int64)
        e = np.array([MISSING if x is None else anchor + x for x in ends], dtype=np.int64)
        out = calendar.working_seconds(s, e)
        for i in range(len(starts)):
            if s[i] == MISSING or e[i] == MISSING:
                assert MISSING == out[i]
            else:
                assert seconds(calendar, int(s[i]), int(e[i])) == out[i]
        assert (s != MISSING).tolist() == (calendar.add_working_time(s, 60) != MISSING).tolist()
        assert (s != MISSING).tolist() == (calendar.add_working_days(s, 1) != MISSING).tolist()
        assert (s == MISSING).tolist() == np.isnat(calendar.local_dates(s)).tolist()
        assert not calendar.is_working(s)[s == MISSING].any()


class TestReference:
    """The reference walks instants with dateutil's own gap and fold rules."""

    def test_reference_sees_gap_and_fold(self) -> None:
        """02:30 does not exist on Berlin's spring-forward day and is ambiguous in autumn."""
        assert not datetime_exists(datetime(2024, 3, 31, 2, 30, tzinfo=BERLIN))
        assert datetime_ambiguous(datetime(2024, 10, 27, 2, 30, tzinfo=BERLIN))
        spec = Spec(zone="Europe/Berlin", week=(((0, 6 * 3600),),) * 7)
        day = at("Europe/Berlin", 2024, 10, 27)
        assert 7 * 3600 == ref_working_seconds(spec, day, day + DAY)
