"""Decide whether a day is a PRC holiday, in any year, and fail closed where nobody can know yet.

Three sources, in order of authority (DESIGN.md §3: where the guard cannot know, it refuses):

1. **The law.** 《全国年节及纪念日放假办法》 fixes the statutory days (法定节假日) of every year;
   since its 2024 amendment (in force 2025) they are: 元旦 1 day (1 January), 春节 4 days (除夕
   through 正月初三), 清明节 1 day, 劳动节 2 days (1–2 May), 端午节 1 day, 中秋节 1 day, 国庆节 3
   days (1–3 October). Earlier years follow the text then in force (2014–2024: 春节 初一–初三 and
   劳动节 1 May; 2008–2013: 春节 除夕–初二; before 2008: 春节 初一–初三, 劳动节 and 国庆节 3 days,
   no 清明/端午/中秋). The lunar dates (正月初一, 端午, 中秋) and the solar term 清明 come from the
   maintained `holidays` package's lunisolar tables; 除夕 is the day before 正月初一. A statutory
   day is a holiday whatever any other source says: no arrangement can make it a working day
   (`HolidayCalendar.day` asserts it, and an entered arrangement that tries is refused).
2. **The official arrangement** of a year (the State Council's notice, with its 调休 working days):
   an arrangement an admin entered and confirmed (`HolidayArrangement`), else the `chinese-calendar`
   package for the years it knows. A notice may also place days at the end of the December before
   its year (the 2019 notice gave 30–31 December 2018): those days follow the next year's
   arrangement.
3. **A presumption, for a year whose arrangement is not confirmed** (neither entered nor in the
   package). Contact is blocked on the statutory days and on the days around them that the State
   Council usually gives off; there are no 调休 working days (a Saturday stays a weekend day). The
   presumed days off of year Y:

   - 春节: from the day before 除夕 through 正月初八 (every notice from 2019 to 2026 fell inside it);
   - 劳动节: 1–5 May; 国庆节: 1–7 October, and 8 October too when 中秋节 falls between 29 September
     and 8 October (as in 2017, 2020, 2023 and 2025);
   - 元旦, 清明节, 端午节, 中秋节: the usual 3-day block: the day itself, plus the Monday before
     when it is a Tuesday, the Friday after when it is a Thursday, the Monday after when it is a
     Saturday or Sunday;
   - every block grows over the Saturdays and Sundays that touch it (元旦 on a Tuesday thus
     blocks the Saturday, Sunday and Monday before it, even in December of the year before).

   Each answer drawn from the presumption names the unconfirmed year, so the guard's reason
   says why the day is blocked.

Nothing here touches the database: the guard loads the confirmed arrangements and passes them in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar
import holidays as holiday_tables  # the PyPI `holidays` package, not this module

WORKDAY, WEEKEND, HOLIDAY = "workday", "weekend", "holiday"


@dataclass(frozen=True)
class Festival:
    key: str
    zh: str
    en: str


NEW_YEAR = Festival("new_year", "元旦", "New Year's Day")
SPRING_FESTIVAL = Festival("spring_festival", "春节", "Spring Festival")
QINGMING = Festival("qingming", "清明节", "Qingming Festival")
LABOUR_DAY = Festival("labour_day", "劳动节", "Labour Day")
DRAGON_BOAT = Festival("dragon_boat", "端午节", "Dragon Boat Festival")
MID_AUTUMN = Festival("mid_autumn", "中秋节", "Mid-Autumn Festival")
NATIONAL_DAY = Festival("national_day", "国庆节", "National Day")
VICTORY_DAY = Festival("victory_day", "抗战胜利纪念日", "Victory Day")

# The `holidays` package's English labels for the lunar and solar-term days we take from it.
_LUNAR_LABELS = {
    "Chinese New Year (Spring Festival)": SPRING_FESTIVAL,
    "Tomb-Sweeping Day": QINGMING,
    "Dragon Boat Festival": DRAGON_BOAT,
    "Mid-Autumn Festival": MID_AUTUMN,
}
_PACKAGE_FESTIVALS = {
    chinese_calendar.Holiday.new_years_day: NEW_YEAR,
    chinese_calendar.Holiday.spring_festival: SPRING_FESTIVAL,
    chinese_calendar.Holiday.tomb_sweeping_day: QINGMING,
    chinese_calendar.Holiday.labour_day: LABOUR_DAY,
    chinese_calendar.Holiday.dragon_boat_festival: DRAGON_BOAT,
    chinese_calendar.Holiday.national_day: NATIONAL_DAY,
    chinese_calendar.Holiday.mid_autumn_festival: MID_AUTUMN,
    chinese_calendar.Holiday.anti_fascist_70th_day: VICTORY_DAY,
}


# -- 1. the law -------------------------------------------------------------------------------


@lru_cache(maxsize=128)
def lunar_dates(year: int) -> Mapping[Festival, date]:
    """正月初一, 清明, 端午 and 中秋 falling in a Gregorian year (the first three only from 2008)."""
    found: dict[Festival, date] = {}
    for day, label in holiday_tables.China(years=year, observed=False, language="en_US").items():
        for name in label.split("; "):
            festival = _LUNAR_LABELS.get(name)
            if festival is not None and (festival not in found or day < found[festival]):
                found[festival] = day  # the first day labelled 春节 is 正月初一 (除夕 has its own label)
    wanted = {SPRING_FESTIVAL} | ({QINGMING, DRAGON_BOAT, MID_AUTUMN} if year >= 2008 else set())
    missing = wanted - set(found)
    if missing:  # the package changed its labels: refuse rather than guess (a test pins every year)
        raise RuntimeError(f"the holidays package gave no {sorted(f.en for f in missing)} for {year}")
    return found


@lru_cache(maxsize=128)
def statutory_days(year: int) -> Mapping[date, Festival]:
    """The statutory holidays of a year under the law then in force (see the module docstring)."""
    lunar = lunar_dates(year)
    first = lunar[SPRING_FESTIVAL]
    days: dict[date, Festival] = {date(year, 1, 1): NEW_YEAR}
    if year >= 2025:
        spring = range(-1, 3)  # 除夕 through 初三
    elif 2008 <= year <= 2013:
        spring = range(-1, 2)  # 除夕 through 初二
    else:
        spring = range(0, 3)  # 初一 through 初三
    for offset in spring:
        days[first + timedelta(days=offset)] = SPRING_FESTIVAL
    labour = 2 if year >= 2025 else 1 if year >= 2008 else 3
    for offset in range(labour):
        days[date(year, 5, 1 + offset)] = LABOUR_DAY
    if year >= 2008:
        days[lunar[QINGMING]] = QINGMING
        days[lunar[DRAGON_BOAT]] = DRAGON_BOAT
        days[lunar[MID_AUTUMN]] = MID_AUTUMN  # may share a day with 国庆节, which then names it
    for offset in range(3):
        days[date(year, 10, 1 + offset)] = NATIONAL_DAY
    return days


def statutory_day(day: date) -> Festival | None:
    return statutory_days(day.year).get(day)


# -- 3. the presumption for an unconfirmed year -----------------------------------------------


def _grow_over_weekends(first: date, last: date) -> tuple[date, date]:
    while (first - timedelta(days=1)).weekday() >= 5:
        first -= timedelta(days=1)
    while (last + timedelta(days=1)).weekday() >= 5:
        last += timedelta(days=1)
    return first, last


def _short_block(day: date) -> tuple[date, date]:
    """The usual block around a one-day festival: Tue → Mon too, Thu → Fri too, Sat/Sun → Mon too."""
    weekday = day.weekday()
    first, last = day, day
    if weekday == 1:
        first = day - timedelta(days=1)
    elif weekday == 3:
        last = day + timedelta(days=1)
    elif weekday >= 5:
        last = day + timedelta(days=7 - weekday)
    return _grow_over_weekends(first, last)


@lru_cache(maxsize=128)
def presumed_days_off(year: int) -> Mapping[date, Festival]:
    """The days an unconfirmed year's arrangement will usually give off (module docstring, rule 3)."""
    lunar = lunar_dates(year)
    eve = lunar[SPRING_FESTIVAL] - timedelta(days=1)
    mid_autumn = lunar.get(MID_AUTUMN)
    national_last = date(year, 10, 8) if mid_autumn and date(year, 9, 29) <= mid_autumn <= date(year, 10, 8) else date(year, 10, 7)
    blocks = [
        (NEW_YEAR, *_short_block(date(year, 1, 1))),
        (SPRING_FESTIVAL, *_grow_over_weekends(eve - timedelta(days=1), eve + timedelta(days=9))),
        (LABOUR_DAY, *_grow_over_weekends(date(year, 5, 1), date(year, 5, 5))),
    ]
    blocks += [(festival, *_short_block(lunar[festival])) for festival in (QINGMING, DRAGON_BOAT, MID_AUTUMN)
               if festival in lunar]  # holidays only from 2008
    blocks.append((NATIONAL_DAY, *_grow_over_weekends(date(year, 10, 1), national_last)))
    days: dict[date, Festival] = {}
    for festival, first, last in blocks:
        day = first
        while day <= last:
            days.setdefault(day, festival)  # 国庆节 comes last: 中秋节 keeps the days it shares
            day += timedelta(days=1)
    days.update(statutory_days(year))
    return days


# -- 2. the official arrangement --------------------------------------------------------------


@dataclass(frozen=True)
class Arrangement:
    """One year's official arrangement: its days off (with the festival each belongs to) and 调休 working days."""

    year: int
    days_off: Mapping[date, Festival | None] = field(default_factory=dict)
    working_days: frozenset[date] = frozenset()
    source: str = "admin"  # "admin" (entered and confirmed) or "package" (chinese-calendar)


@lru_cache(maxsize=64)
def package_arrangement(year: int) -> Arrangement | None:
    """The `chinese-calendar` package's arrangement of a year, or None for a year it does not know."""
    days_off, working_days = {}, set()
    day = date(year, 1, 1)
    while day.year == year:
        try:
            on_holiday, name = chinese_calendar.get_holiday_detail(day)
        except NotImplementedError:
            return None
        if on_holiday and name:
            days_off[day] = _PACKAGE_FESTIVALS.get(chinese_calendar.Holiday(name))
        elif not on_holiday and day.weekday() >= 5:
            working_days.add(day)
        day += timedelta(days=1)
    return Arrangement(year, days_off, frozenset(working_days), source="package")


def nearest_festival(day: date, year: int) -> Festival | None:
    """The statutory festival an arranged day off belongs to: the nearest statutory day within 10 days."""
    best = None
    for statutory, festival in statutory_days(year).items():
        distance = abs((statutory - day).days)
        if distance <= 10 and (best is None or distance < best[0]):
            best = (distance, festival)
    return best[1] if best else None


def admin_arrangement(year: int, days_off: Iterable[date], working_days: Iterable[date]) -> Arrangement:
    return Arrangement(year, {day: nearest_festival(day, year) for day in days_off}, frozenset(working_days))


# -- the calendar the guard asks --------------------------------------------------------------


@dataclass(frozen=True)
class Day:
    kind: str  # WORKDAY, WEEKEND or HOLIDAY
    festival: Festival | None = None  # the festival a day off belongs to, when known
    statutory: bool = False  # a statutory day under the law (never a working day)
    unconfirmed_year: int | None = None  # the answer is the presumption: this year's arrangement is not confirmed

    @property
    def name_zh(self) -> str:
        return self.festival.zh if self.festival else ""

    @property
    def name_en(self) -> str:
        return self.festival.en if self.festival else ""


def _weekday_kind(day: date) -> Day:
    return Day(WEEKEND if day.weekday() >= 5 else WORKDAY)


class HolidayCalendar:
    """Answer what kind of day a date is, from the law, the confirmed arrangements and the presumption.

    `arrangements` are the confirmed arrangements an admin entered, by year; years without one
    fall back on the `chinese-calendar` package, then on the presumption (module docstring).
    """

    def __init__(self, arrangements: Mapping[int, Arrangement] | None = None):
        self.arrangements = dict(arrangements or {})
        self._days: dict[date, Day] = {}

    def arrangement(self, year: int) -> Arrangement | None:
        """The confirmed arrangement of a year: entered by an admin, else the package's, else None."""
        return self.arrangements.get(year) or package_arrangement(year)

    def confirmed(self, year: int) -> bool:
        return self.arrangement(year) is not None

    def day(self, day: date) -> Day:
        if day not in self._days:
            answer = self._answer(day)
            # The law first (《全国年节及纪念日放假办法》): no source may turn a statutory day into a working day.
            assert answer.kind == HOLIDAY or statutory_day(day) is None, f"{day} is a statutory holiday"
            self._days[day] = answer
        return self._days[day]

    def _answer(self, day: date) -> Day:
        festival = statutory_day(day)
        if day.month == 12:  # the next year's notice may hold the last days of this December
            following = self.arrangement(day.year + 1)
            if following is None:
                presumed = presumed_days_off(day.year + 1).get(day)
                if presumed is not None:
                    return Day(HOLIDAY, presumed, unconfirmed_year=day.year + 1)
            elif day in following.days_off:
                return Day(HOLIDAY, following.days_off[day])
            elif day in following.working_days and festival is None:
                return Day(WORKDAY)
        arrangement = self.arrangement(day.year)
        if arrangement is None:
            presumed = presumed_days_off(day.year).get(day)
            if presumed is not None:
                return Day(HOLIDAY, presumed, statutory=festival is not None, unconfirmed_year=day.year)
            return _weekday_kind(day)
        if festival is not None:
            return Day(HOLIDAY, festival, statutory=True)
        if day in arrangement.days_off:
            return Day(HOLIDAY, arrangement.days_off[day])
        if day in arrangement.working_days:
            return Day(WORKDAY)
        return _weekday_kind(day)


# -- entering an arrangement ------------------------------------------------------------------

_RANGE = re.compile(r"^(\d{4}-\d{1,2}-\d{1,2})\s*(?:(?:~|～|至|到|\.\.|—|–)\s*(\d{4}-\d{1,2}-\d{1,2}))?$")
WEEKDAY_ZH = "一二三四五六日"


def _parse_date(text: str) -> date:
    year, month, day = (int(part) for part in text.split("-"))
    return date(year, month, day)


def parse_days(text: str) -> tuple[list[date], list[tuple[str, str]]]:
    """Dates from text, one date or range (2027-02-05 至 2027-02-11) per line; with the lines refused."""
    days, problems = [], []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _RANGE.match(line)
        try:
            if match is None:
                raise ValueError(line)
            first = _parse_date(match.group(1))
            last = _parse_date(match.group(2)) if match.group(2) else first
        except ValueError:
            problems.append((f"第 {number} 行不是日期或日期段（YYYY-MM-DD 或 YYYY-MM-DD 至 YYYY-MM-DD）：{line}",
                             f"Line {number} is not a date or a date range (YYYY-MM-DD or YYYY-MM-DD ~ YYYY-MM-DD): {line}"))
            continue
        if last < first:
            problems.append((f"第 {number} 行的日期段结束早于开始：{line}", f"Line {number} ends before it starts: {line}"))
            continue
        while first <= last:
            days.append(first)
            first += timedelta(days=1)
    return sorted(set(days)), problems


def _listed(days: Iterable[date]) -> str:
    return "、".join(f"{day:%Y-%m-%d}" for day in sorted(days))


def arrangement_problems(year: int, days_off: Iterable[date], working_days: Iterable[date]) -> list[tuple[str, str]]:
    """Why an arrangement cannot be accepted (Chinese, English); empty when it can.

    Every statutory day of the year must be a day off; 调休 working days must be Saturdays or
    Sundays; dates lie in the year, or in the last week of the December before it (a New Year
    bridge, as the 2019 notice had); no date is both off and worked.
    """
    days_off, working_days = set(days_off), set(working_days)
    problems = []
    earliest, latest = date(year - 1, 12, 25), date(year, 12, 31)
    outside = sorted(day for day in days_off | working_days if not earliest <= day <= latest)
    if outside:
        problems.append((f"日期须在 {year} 年内（元旦前后可含上年 12 月 25–31 日）：{_listed(outside)}",
                         f"Dates must lie in {year} (or 25–31 December before it, for New Year): {_listed(outside)}"))
    missing = sorted(day for day in statutory_days(year) if day not in days_off)
    if missing:
        named_zh = "、".join(f"{day:%Y-%m-%d}（{statutory_day(day).zh}）" for day in missing)
        named_en = ", ".join(f"{day:%Y-%m-%d} ({statutory_day(day).en})" for day in missing)
        problems.append((f"法定节假日必须放假，不能调为上班日；放假日期缺少：{named_zh}",
                         f"A statutory holiday is always a day off and never a working day; the days off lack: {named_en}"))
    not_weekend = sorted(day for day in working_days if day.weekday() < 5)
    if not_weekend:
        problems.append((
            "调休上班日须为周六或周日：" + "、".join(f"{day:%Y-%m-%d}（周{WEEKDAY_ZH[day.weekday()]}）" for day in not_weekend),
            "A 调休 working day must be a Saturday or Sunday: " + ", ".join(f"{day:%Y-%m-%d} ({day:%A})" for day in not_weekend),
        ))
    both = sorted(days_off & working_days)
    if both:
        problems.append((f"同一天不能既放假又上班：{_listed(both)}", f"A day cannot be both off and worked: {_listed(both)}"))
    return problems
