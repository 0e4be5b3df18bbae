"""Circuit breaker rules: when to stop calling a failing provider and when to try it again.

A pure state machine over plain numbers (epoch seconds), so every breaker adapter (in-process,
Redis) applies the same rules to the state it shares:

- CLOSED: calls go through. An unhealthy outcome (the provider failed, timed out or answered
  with a body we cannot read) is counted; `threshold` of them in a row, the first no more than
  `window_seconds` before the last, open the breaker. A success resets the count. Outcomes
  that say nothing about the provider's health (rate limited, content rejected, invalid
  request) neither count nor reset.
- OPEN: no calls until `until`. The first admission after that becomes the probe.
- HALF_OPEN: one probe call is in flight (leased until `until`, so a worker that dies during it
  does not keep the breaker half-open for ever). Other callers wait. The probe's success
  closes the breaker; its failure opens it again for twice as long as the time before (up to
  `max_open_seconds`); a neutral outcome hands the probe to the next caller.
- Any success closes the breaker, whatever its state: the provider has just worked.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum


class Circuit(StrEnum):
    """The three states of a breaker."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class Outcome(StrEnum):
    """What a provider call says about the provider's health."""

    SUCCESS = "success"
    FAILURE = "failure"
    NEUTRAL = "neutral"


UNHEALTHY_KINDS = frozenset({"unavailable", "timeout"})
HEALTHY_KINDS = frozenset({"success"})


def outcome_of(kind: str) -> Outcome:
    """The breaker outcome of an attempt outcome ("success" or a ProviderError kind)."""
    if kind in HEALTHY_KINDS:
        return Outcome.SUCCESS
    if kind in UNHEALTHY_KINDS:
        return Outcome.FAILURE
    return Outcome.NEUTRAL


@dataclass(frozen=True)
class BreakerPolicy:
    """The knobs; `threshold` 0 turns the breaker off (always closed)."""

    threshold: int = 5
    window_seconds: float = 60.0
    open_seconds: float = 30.0
    max_open_seconds: float = 600.0
    recheck_seconds: float = 1.0  # how soon a caller held back by a probe asks again

    def open_for(self, opened: int) -> float:
        """Seconds the breaker stays open the `opened`-th time in a row (1-based)."""
        return float(min(self.max_open_seconds, self.open_seconds * 2.0 ** max(0, opened - 1)))


@dataclass(frozen=True)
class BreakerState:
    """A breaker's shared state. `until`: when OPEN ends, or when a probe's lease lapses."""

    circuit: Circuit = Circuit.CLOSED
    failures: int = 0  # unhealthy outcomes in a row (CLOSED)
    first_failure: float = 0.0  # when the first of them happened
    opened: int = 0  # times opened in a row without a success (for the backoff)
    until: float = 0.0

    def as_dict(self) -> dict[str, object]:
        """JSON form, for shared stores."""
        return {
            "circuit": self.circuit.value,
            "failures": self.failures,
            "first_failure": self.first_failure,
            "opened": self.opened,
            "until": self.until,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, object]) -> BreakerState:
        """The state from its JSON form (defaults for anything missing)."""
        return cls(
            circuit=Circuit(str(raw.get("circuit", "closed"))),
            failures=int(str(raw.get("failures", 0))),
            first_failure=float(str(raw.get("first_failure", 0.0))),
            opened=int(str(raw.get("opened", 0))),
            until=float(str(raw.get("until", 0.0))),
        )


@dataclass(frozen=True)
class Admission:
    """The breaker's answer to "may I call?": `wait` 0 means yes (`probe` if the trial)."""

    wait: float = 0.0
    probe: bool = False

    @property
    def allowed(self) -> bool:
        """Whether the call may be made now."""
        return self.wait <= 0.0


def admit(
    state: BreakerState, policy: BreakerPolicy, now: float, probe_seconds: float
) -> tuple[BreakerState, Admission]:
    """Decide one caller's admission; the new state holds a probe's lease when one is given."""
    if policy.threshold <= 0 or state.circuit is Circuit.CLOSED:
        return state, Admission()
    if now < state.until:
        wait = state.until - now
        if state.circuit is Circuit.HALF_OPEN:
            wait = min(wait, policy.recheck_seconds)
        return state, Admission(wait=max(wait, 0.001))
    # Open long enough, or the last probe's lease lapsed: this caller is the probe.
    leased = replace(state, circuit=Circuit.HALF_OPEN, until=now + probe_seconds)
    return leased, Admission(probe=True)


def record(
    state: BreakerState, policy: BreakerPolicy, now: float, outcome: Outcome, *, probe: bool
) -> BreakerState:
    """The state after a call admitted by `admit` ended with `outcome`."""
    if policy.threshold <= 0:
        return state
    if outcome is Outcome.SUCCESS:
        return BreakerState()
    if outcome is Outcome.NEUTRAL:
        if probe and state.circuit is Circuit.HALF_OPEN:
            return replace(state, until=now)  # the next caller probes instead
        return state
    if state.circuit is Circuit.HALF_OPEN:
        if not probe:
            return state  # a call from before the breaker opened: the probe decides
        opened = state.opened + 1
        return replace(
            state, circuit=Circuit.OPEN, opened=opened, until=now + policy.open_for(opened)
        )
    if state.circuit is Circuit.OPEN:
        return state  # a late answer to a call made before it opened
    fresh = state.failures == 0 or now - state.first_failure > policy.window_seconds
    failures = 1 if fresh else state.failures + 1
    first = now if fresh else state.first_failure
    if failures < policy.threshold:
        return replace(state, failures=failures, first_failure=first)
    opened = state.opened + 1
    return BreakerState(circuit=Circuit.OPEN, opened=opened, until=now + policy.open_for(opened))
