"""What AMC's throttling did to a deferred wait, for the task's log.

A deferred task waits in the triggerer on libamc's poller. When AMC answers
the status reads with HTTP 429, libamc waits as Retry-After asks and sends
them again (up to ``retry.max_throttle_waits``, 30, per read), then holds
every read of the poller back and keeps the watch (amc.h,
amc_poller_new): nothing ends and no event comes. libamc's own log lines
of those waits go to the triggerer process's log (logger ``libamc``): the
connection's client and poller serve every deferred AMC task of the
connection in that triggerer, so the lines belong to no single task.

``ThrottleCount`` counts, from the start of one wait, the HTTP answers the
client got and how many were 429 (``amc_client_metrics``: ``responses``
and the retried 429s, ``retries["429"]``; ``amc_poller_stats``:
``throttles``, reads that ended in a 429 after those retries), so that the
trigger can write into its task's log:

- a line at the first check that finds 429s (checks come every poll
  interval, at most ``CHECK_SECONDS`` apart), then one every
  ``REPEAT_SECONDS`` while they go on, each with the counts so far: a storm
  of 30 throttled reads in a row leaves a line within one poll interval of
  its first 429 (at most ``CHECK_SECONDS``);
- a line when AMC answers again after a throttled stretch;
- the counts in the deadline's message ("all 25 requests", "12 of the 30").

The counts are the client's, so they cover every deferred AMC task of the
connection in this triggerer (AMC's limit holds for the whole client
anyway), and the lines say so.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Longest time between two reads of the counters while a trigger waits
# (seconds), and between two lines while AMC keeps throttling.
CHECK_SECONDS = 15.0
REPEAT_SECONDS = 300.0


def _utc(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def client_counts(metrics: dict[str, Any], poller_stats: dict[str, Any]) -> tuple[int, int]:
    """(HTTP answers, 429 answers) of a client and its poller so far."""
    http = metrics.get("http") or {}
    answers = int(http.get("responses") or 0)
    throttled = int((http.get("retries") or {}).get("429") or 0) + int(poller_stats.get("throttles") or 0)
    return answers, throttled


@dataclass
class ThrottleCount:
    """HTTP answers and 429 answers since ``start()``.

    :param read_counts: the counters now, as ``client_counts`` gives them
        (blocking: call ``start`` and ``check`` in the loop's executor).
    :param whose: whose requests they are, for the lines.
    """

    read_counts: Callable[[], tuple[int, int]]
    whose: str
    started_at: float = 0.0
    _first: tuple[int, int] = (0, 0)
    _last: tuple[int, int] = (0, 0)
    # When the current stretch of 429s began (0: none) and when its last
    # line was written.
    _throttled_since: float = 0.0
    _reported_at: float = 0.0

    def start(self) -> None:
        self.started_at = time.time()
        self._first = self._last = self.read_counts()

    @property
    def answers(self) -> int:
        return self._last[0] - self._first[0]

    @property
    def throttled(self) -> int:
        return self._last[1] - self._first[1]

    def check(self) -> str | None:
        """Reads the counters; the line the task's log gets now, if any."""
        before = self._last
        self._last = self.read_counts()
        now = time.time()
        new_answers, new_throttled = self._last[0] - before[0], self._last[1] - before[1]
        if new_throttled > 0:
            if not self._throttled_since:
                self._throttled_since = self._reported_at = now
                return (
                    f"{self.summary()}; libamc waits as AMC's Retry-After asks and keeps watching the "
                    "execution"
                )
            if now - self._reported_at >= REPEAT_SECONDS:
                self._reported_at = now
                return f"{self.summary()}; throttled without a break since {_utc(self._throttled_since)}"
            return None
        if self._throttled_since and new_answers > 0:
            since, self._throttled_since = self._throttled_since, 0.0
            return f"AMC answers again after throttling since {_utc(since)}; {self.summary()}"
        return None

    def summary(self) -> str:
        """ "AMC throttled (HTTP 429) all 25 requests ..." or "... 12 of the
        30 requests ...", with whose they were and since when; "" when AMC
        throttled none."""
        if self.throttled <= 0:
            return ""
        share = (
            f"all {self.answers} requests"
            if self.throttled >= self.answers
            else f"{self.throttled} of the {self.answers} requests"
        )
        return (
            f"AMC throttled (HTTP 429) {share} that {self.whose} sent since this wait began at "
            f"{_utc(self.started_at)}"
        )
