"""Reading the Retry-After header (RFC 9110 §10.2.3)."""

from __future__ import annotations

import re
from datetime import timezone
from email.utils import parsedate_to_datetime

# Far-future hints are capped: a server cannot park a client for days.
MAX_RETRY_AFTER = 24 * 3600.0
# Longer digit strings exceed the cap anyway, so they are not converted: int()
# of thousands of digits is slow and refused past Python's digit limit.
_MAX_DIGITS = 10
# ASCII only: str.isdigit() also accepts "²" and other digits int() refuses.
_DELAY_SECONDS = re.compile(r"[0-9]+")
# An IMF-fixdate or RFC 850 date has a comma of its own, right after the weekday.
_WEEKDAYS = frozenset(
    {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
    | {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
)


def parse_retry_after(value: str | None, wall_now: float) -> float | None:
    """Seconds to wait from a Retry-After value (delay-seconds or HTTP-date).

    ``wall_now`` is the current Unix time, for dates. All three HTTP-date forms
    are read (IMF-fixdate, RFC 850, asctime); a date without a zone is GMT, as
    HTTP-dates always are. A date in the past means 0; hints are capped at
    ``MAX_RETRY_AFTER``. A repeated header arrives joined as ``"120, 60"``:
    only its first element counts, whatever follows. Returns ``None`` for a
    missing or malformed value and never raises.
    """
    if value is None:
        return None
    text = _first_element(value)
    if _DELAY_SECONDS.fullmatch(text):
        significant = text.lstrip("0")
        if len(significant) > _MAX_DIGITS:
            return MAX_RETRY_AFTER
        return min(float(significant or "0"), MAX_RETRY_AFTER)
    return _seconds_until(text, wall_now)


def _first_element(value: str) -> str:
    """The first member of a comma-joined header value, a date's own comma kept."""
    head, _, rest = value.partition(",")
    if head.strip().lower() in _WEEKDAYS:
        head = f"{head},{rest.partition(',')[0]}"
    return head.strip()


def _seconds_until(text: str, wall_now: float) -> float | None:
    """Seconds from ``wall_now`` to the HTTP-date ``text``, or ``None`` if it is no date."""
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        # TypeError is how Python 3.10 reports an unparsable date; the others
        # come from out-of-range fields (year, zone offset).
        return None
    if moment.tzinfo is None:  # asctime (or a "-0000" zone): GMT
        moment = moment.replace(tzinfo=timezone.utc)
    return min(max(0.0, moment.timestamp() - wall_now), MAX_RETRY_AFTER)
