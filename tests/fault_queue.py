"""Faults a fake server serves, in the order they were queued, to the requests they match;
shared by the fake OpenAlex and the fake DataCite."""

import re
import threading
from dataclasses import dataclass


@dataclass
class _Queued[FaultT]:
    fault: FaultT
    pattern: re.Pattern[str] | None
    times: int


class FaultQueue[FaultT]:
    def __init__(self) -> None:
        self._queued: list[_Queued[FaultT]] = []
        # The servers answer from several threads at once.
        self._lock = threading.Lock()

    def add(self, fault: FaultT, *, pattern: str | None, times: int) -> None:
        """Serve `fault` to the next `times` requests whose target matches the regex `pattern`
        (any request when None)."""
        with self._lock:
            self._queued.append(_Queued(fault, re.compile(pattern) if pattern else None, times))

    def take(self, target: str) -> FaultT | None:
        """The fault for a request to `target`, used up once served its number of times."""
        with self._lock:
            for queued in self._queued:
                if queued.pattern is None or queued.pattern.search(target):
                    queued.times -= 1
                    if queued.times <= 0:
                        self._queued.remove(queued)
                    return queued.fault
        return None
