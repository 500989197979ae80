"""Reading the Retry-After header (RFC 9110 §10.2.3)."""

from __future__ import annotations

from email.utils import parsedate_to_datetime

# Far-future hints are capped: a server cannot park a client for days.
MAX_RETRY_AFTER = 24 * 3600.0


def parse_retry_after(value: str | None, wall_now: float) -> float | None:
    """Seconds to wait from a Retry-After value (delay-seconds or HTTP-date).

    ``wall_now`` is the current Unix time, for dates. Returns ``None`` for a
    missing or malformed value; a date in the past means 0.
    """
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return min(float(int(text)), MAX_RETRY_AFTER)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:  # HTTP-dates are GMT; an obsolete form may omit it
        return None
    return min(max(0.0, moment.timestamp() - wall_now), MAX_RETRY_AFTER)
