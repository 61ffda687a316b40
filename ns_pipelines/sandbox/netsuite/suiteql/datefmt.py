"""Oracle datetime format models (TO_CHAR / TO_DATE / TO_TIMESTAMP) over the store's ISO text.

The store keeps DATE as 'YYYY-MM-DD' and DATETIME as 'YYYY-MM-DD HH:MM:SS' (account-local), so a
date value here is always ISO text: 'YYYY-MM-DD' (midnight) or 'YYYY-MM-DD HH:MM:SS[.ffffff]'.
"""
from __future__ import annotations

import calendar
import re
from datetime import date, datetime, timedelta
from functools import lru_cache

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"]

# Format elements, longest first so that scanning is greedy.
_ELEMENTS = sorted([
    "SYYYY", "YYYY", "IYYY", "RRRR", "YYY", "IYY", "YY", "IY", "RR", "Y", "Q", "MM", "MONTH", "MON",
    "RM", "WW", "IW", "W", "DDD", "DD", "DAY", "DY", "D", "J", "HH24", "HH12", "HH", "MI", "SSSSS",
    "SS", "FF1", "FF2", "FF3", "FF4", "FF5", "FF6", "FF7", "FF8", "FF9", "FF", "AM", "PM", "A.M.",
    "P.M.", "FM", "FX",
], key=len, reverse=True)
PUNCTUATION = set("-/,.;: ")
TIME_ELEMENTS = {"HH24", "HH12", "HH", "MI", "SS", "SSSSS", "AM", "PM", "A.M.", "P.M."} | {
    f"FF{i}" for i in range(1, 10)} | {"FF"}


class FormatError(ValueError):
    """A format model or a value that does not match it (the reason is Oracle-like text)."""


@lru_cache(maxsize=512)
def tokenize(fmt: str) -> tuple[tuple[str, str], ...]:
    """('elem', ORIGINAL_TEXT) / ('lit', text) tokens of an Oracle format model."""
    tokens: list[tuple[str, str]] = []
    i, n = 0, len(fmt)
    while i < n:
        ch = fmt[i]
        if ch == '"':
            end = fmt.find('"', i + 1)
            if end < 0:
                raise FormatError(f"date format not recognized: {fmt!r}")
            tokens.append(("lit", fmt[i + 1:end]))
            i = end + 1
            continue
        upper = fmt[i:i + 5].upper()
        for element in _ELEMENTS:
            if upper.startswith(element):
                tokens.append(("elem", fmt[i:i + len(element)]))
                i += len(element)
                break
        else:
            if ch in PUNCTUATION:
                tokens.append(("lit", ch))
                i += 1
            else:
                raise FormatError(f"date format not recognized: {fmt!r}")
    return tuple(tokens)


def has_time(fmt: str) -> bool:
    return any(kind == "elem" and text.upper() in TIME_ELEMENTS for kind, text in tokenize(fmt))


# --- ISO text <-> datetime -------------------------------------------------------------------

_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?$")


def parse_iso(value: str) -> datetime | None:
    m = _ISO.match(value.strip())
    if not m:
        return None
    y, mo, d, h, mi, s, frac = m.groups()
    try:
        return datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0),
                        int((frac or "0").ljust(6, "0")[:6]))
    except ValueError:
        return None


def to_iso(value: datetime, *, short_if_midnight: bool) -> str:
    if short_if_midnight and value.hour == value.minute == value.second == value.microsecond == 0:
        return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
    text = (f"{value.year:04d}-{value.month:02d}-{value.day:02d} "
            f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}")
    if value.microsecond:
        text += ("." + f"{value.microsecond:06d}").rstrip("0")
    return text


def iso_full(value: str) -> str:
    """'YYYY-MM-DD' -> 'YYYY-MM-DD 00:00:00' (the form of DATETIME columns)."""
    return value + " 00:00:00" if len(value) == 10 else value


def iso_short(value: str) -> str:
    """Midnight 'YYYY-MM-DD 00:00:00' -> 'YYYY-MM-DD' (the form of DATE columns)."""
    if len(value) > 10 and set(value[11:]) <= set("0:."):
        return value[:10]
    return value


def as_datetime(value: object) -> datetime:
    if isinstance(value, datetime):
        return value
    parsed = parse_iso(str(value))
    if parsed is None:
        raise FormatError(f"'{value}' is not a valid date")
    return parsed


# --- TO_CHAR ------------------------------------------------------------------------------------

def styled(name: str, token: str) -> str:
    if len(token) > 1 and token[0].isupper() and token[1].islower():
        return name.capitalize()
    if token[0].islower():
        return name.lower()
    return name.upper()


def format_datetime(value: datetime, fmt: str) -> str:
    out: list[str] = []
    fill = True  # FM toggles fill mode off/on
    for kind, text in tokenize(fmt):
        if kind == "lit":
            out.append(text)
            continue
        e = text.upper()
        if e == "FM":
            fill = not fill
            continue
        if e == "FX":
            continue

        def num(v: int, width: int) -> str:
            return f"{v:0{width}d}" if fill else str(v)

        if e in ("YYYY", "RRRR", "SYYYY"):
            out.append(num(value.year, 4))
        elif e == "IYYY":
            out.append(num(value.isocalendar()[0], 4))
        elif e in ("YYY", "IYY"):
            out.append(num(value.year % 1000, 3))
        elif e in ("YY", "RR", "IY"):
            out.append(num(value.year % 100, 2))
        elif e == "Y":
            out.append(str(value.year % 10))
        elif e == "Q":
            out.append(str((value.month - 1) // 3 + 1))
        elif e == "MM":
            out.append(num(value.month, 2))
        elif e == "MON":
            out.append(styled(MONTHS[value.month - 1][:3], text))
        elif e == "MONTH":
            name = styled(MONTHS[value.month - 1], text)
            out.append(name.ljust(9) if fill else name)
        elif e == "RM":
            roman = _ROMAN[value.month - 1]
            roman = roman.lower() if text[0].islower() else roman
            out.append(roman.ljust(4) if fill else roman)
        elif e == "WW":
            out.append(num((value.timetuple().tm_yday - 1) // 7 + 1, 2))
        elif e == "IW":
            out.append(num(value.isocalendar()[1], 2))
        elif e == "W":
            out.append(str((value.day - 1) // 7 + 1))
        elif e == "DDD":
            out.append(num(value.timetuple().tm_yday, 3))
        elif e == "DD":
            out.append(num(value.day, 2))
        elif e == "D":
            out.append(str(value.isoweekday() % 7 + 1))  # Sunday = 1 (American territory)
        elif e == "DAY":
            name = styled(DAYS[value.weekday()], text)
            out.append(name.ljust(9) if fill else name)
        elif e == "DY":
            out.append(styled(DAYS[value.weekday()][:3], text))
        elif e == "J":
            out.append(str(value.toordinal() + 1721425))
        elif e in ("HH", "HH12"):
            out.append(num((value.hour + 11) % 12 + 1, 2))
        elif e == "HH24":
            out.append(num(value.hour, 2))
        elif e == "MI":
            out.append(num(value.minute, 2))
        elif e == "SS":
            out.append(num(value.second, 2))
        elif e == "SSSSS":
            out.append(num(value.hour * 3600 + value.minute * 60 + value.second, 5))
        elif e.startswith("FF"):
            digits = int(e[2:] or 6)
            out.append(f"{value.microsecond:06d}".ljust(9, "0")[:digits])
        elif e in ("AM", "PM", "A.M.", "P.M."):
            marker = "AM" if value.hour < 12 else "PM"
            if "." in e:
                marker = marker[0] + "." + marker[1] + "."
            out.append(marker.lower() if text[0].islower() else marker)
    return "".join(out)


# --- TO_DATE / TO_TIMESTAMP ---------------------------------------------------------------------

_NUMERIC_WIDTH = {"SYYYY": 4, "YYYY": 4, "IYYY": 4, "RRRR": 4, "YYY": 3, "IYY": 3, "YY": 2, "IY": 2,
                  "RR": 2, "Y": 1, "Q": 1, "MM": 2, "WW": 2, "IW": 2, "W": 1, "DDD": 3, "DD": 2,
                  "D": 1, "J": 7, "HH": 2, "HH12": 2, "HH24": 2, "MI": 2, "SS": 2, "SSSSS": 5}


def _match_name(s: str, pos: int, names: list[str]) -> tuple[int, int] | None:
    rest = s[pos:].lower()
    for index, name in enumerate(names):  # full names before abbreviations
        if rest.startswith(name.lower()):
            return index, len(name)
    for index, name in enumerate(names):
        if rest.startswith(name[:3].lower()):
            return index, 3
    return None


def parse_datetime(value: str, fmt: str, today: date) -> datetime:
    """Oracle's lenient TO_DATE: punctuation matches any punctuation, numbers may be short."""
    year = month = day = None
    hour = minute = second = micro = 0
    meridian: str | None = None
    day_of_year: int | None = None
    julian: int | None = None
    s, pos = value, 0
    tokens = tokenize(fmt)
    for kind, text in tokens:
        if kind == "lit":
            if text.strip() == "" or all(c in PUNCTUATION for c in text):
                while pos < len(s) and not s[pos].isalnum():
                    pos += 1
            else:
                if s[pos:pos + len(text)].lower() != text.lower():
                    raise FormatError("literal does not match format string")
                pos += len(text)
            continue
        e = text.upper()
        if e in ("FM", "FX"):
            continue
        while pos < len(s) and s[pos] == " ":
            pos += 1
        if e in ("MON", "MONTH"):
            found = _match_name(s, pos, MONTHS)
            if found is None:
                raise FormatError("not a valid month")
            month, length = found[0] + 1, found[1]
            pos += length
            continue
        if e in ("DAY", "DY"):
            found = _match_name(s, pos, DAYS)
            if found is None:
                raise FormatError("not a valid day of the week")
            pos += found[1]
            continue
        if e in ("AM", "PM", "A.M.", "P.M."):
            rest = s[pos:pos + 4].upper()
            for marker in ("A.M.", "P.M.", "AM", "PM"):
                if rest.startswith(marker):
                    meridian = marker[0]
                    pos += len(marker)
                    break
            else:
                raise FormatError("AM/A.M. or PM/P.M. required")
            continue
        if e == "RM":
            rest = s[pos:pos + 4].upper()
            for numeral in sorted(_ROMAN, key=len, reverse=True):  # VIII before V
                if rest.startswith(numeral):
                    month = _ROMAN.index(numeral) + 1
                    pos += len(numeral)
                    break
            else:
                raise FormatError("not a valid month")
            continue
        width = 9 if e.startswith("FF") else _NUMERIC_WIDTH[e]
        start = pos
        while pos < len(s) and pos - start < width and s[pos].isdigit():
            pos += 1
        if pos == start:
            raise FormatError("a non-numeric character was found where a numeric was expected")
        digits = s[start:pos]
        number = int(digits)
        if e in ("YYYY", "SYYYY", "IYYY", "RRRR"):
            year = number if len(digits) > 2 or e != "RRRR" else _rr(number, today)
        elif e in ("YYY", "IYY"):
            year = today.year - today.year % 1000 + number
        elif e in ("YY", "IY"):
            year = today.year - today.year % 100 + number
        elif e == "RR":
            year = _rr(number, today) if len(digits) <= 2 else number
        elif e == "Y":
            year = today.year - today.year % 10 + number
        elif e == "MM":
            month = number
        elif e == "DD":
            day = number
        elif e == "DDD":
            day_of_year = number
        elif e == "J":
            julian = number
        elif e in ("HH", "HH12"):
            if not 1 <= number <= 12:
                raise FormatError("hour must be between 1 and 12")
            hour = number
        elif e == "HH24":
            hour = number
        elif e == "MI":
            minute = number
        elif e == "SS":
            second = number
        elif e == "SSSSS":
            hour, rest_s = divmod(number, 3600)
            minute, second = divmod(rest_s, 60)
        elif e.startswith("FF"):
            micro = int(digits.ljust(6, "0")[:6])
        # Q, WW, IW, W, D are accepted and ignored, as Oracle does for TO_DATE
    if s[pos:].strip():
        raise FormatError("date format picture ends before converting entire input string")
    if meridian == "P" and hour < 12:
        hour += 12
    elif meridian == "A" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59 or second > 59:
        raise FormatError("hour, minute or second out of range")
    if julian is not None:
        base = date.fromordinal(julian - 1721425)
        return datetime(base.year, base.month, base.day, hour, minute, second, micro)
    year = today.year if year is None else year
    if day_of_year is not None:
        base = date(year, 1, 1) + timedelta(days=day_of_year - 1)
        return datetime(base.year, base.month, base.day, hour, minute, second, micro)
    month = today.month if month is None else month  # Oracle defaults to the current month
    day = 1 if day is None else day
    if not 1 <= month <= 12:
        raise FormatError("not a valid month")
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        raise FormatError("day of month must be between 1 and last day of month")
    return datetime(year, month, day, hour, minute, second, micro)


def _rr(two_digits: int, today: date) -> int:
    century = today.year - today.year % 100
    current = today.year % 100
    if two_digits < 50:
        return century + two_digits if current < 50 else century + 100 + two_digits
    return century + two_digits if current >= 50 else century - 100 + two_digits


# --- date arithmetic ------------------------------------------------------------------------

def add_days(value: str, days: float) -> str:
    parsed = as_datetime(value)
    result = parsed + timedelta(days=days)
    short = len(value) <= 10 and float(days).is_integer()
    return to_iso(result, short_if_midnight=short)


def add_months(value: str, months: int) -> str:
    parsed = as_datetime(value)
    months = int(months)
    last = calendar.monthrange(parsed.year, parsed.month)[1]
    index = parsed.year * 12 + parsed.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    new_last = calendar.monthrange(year, month)[1]
    new_day = new_last if parsed.day == last else min(parsed.day, new_last)
    result = parsed.replace(year=year, month=month, day=new_day)
    return to_iso(result, short_if_midnight=len(value) <= 10)


def last_day(value: str) -> str:
    parsed = as_datetime(value)
    result = parsed.replace(day=calendar.monthrange(parsed.year, parsed.month)[1])
    return to_iso(result, short_if_midnight=len(value) <= 10)


def months_between(a: str, b: str) -> float:
    x, y = as_datetime(a), as_datetime(b)
    months = (x.year - y.year) * 12 + (x.month - y.month)
    x_last = x.day == calendar.monthrange(x.year, x.month)[1]
    y_last = y.day == calendar.monthrange(y.year, y.month)[1]
    if x.day == y.day or (x_last and y_last):
        return float(months)
    seconds_x = x.hour * 3600 + x.minute * 60 + x.second
    seconds_y = y.hour * 3600 + y.minute * 60 + y.second
    return months + ((x.day - y.day) + (seconds_x - seconds_y) / 86400) / 31


def trunc_date(value: str, fmt: str | None = None) -> str:
    parsed = as_datetime(value)
    unit = (fmt or "DD").upper()
    if unit in ("DD", "DDD", "J"):
        result = parsed.replace(hour=0, minute=0, second=0, microsecond=0)
    elif unit in ("MM", "MON", "MONTH", "RM"):
        result = datetime(parsed.year, parsed.month, 1)
    elif unit in ("YYYY", "YYY", "YY", "Y", "YEAR", "SYYYY", "SYEAR", "RRRR", "RR"):
        result = datetime(parsed.year, 1, 1)
    elif unit == "Q":
        result = datetime(parsed.year, (parsed.month - 1) // 3 * 3 + 1, 1)
    elif unit in ("IW",):
        start = parsed - timedelta(days=parsed.weekday())
        result = datetime(start.year, start.month, start.day)
    elif unit in ("DAY", "DY", "D"):
        start = parsed - timedelta(days=parsed.isoweekday() % 7)
        result = datetime(start.year, start.month, start.day)
    elif unit in ("HH", "HH12", "HH24"):
        result = parsed.replace(minute=0, second=0, microsecond=0)
    elif unit == "MI":
        result = parsed.replace(second=0, microsecond=0)
    else:
        raise FormatError(f"date format not recognized: {fmt!r}")
    return to_iso(result, short_if_midnight=True)
