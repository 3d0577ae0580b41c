"""Who answers a dial, by how long it rang: the share of people among the calls the engine took for live.

Without AMD every answer is a live call to the engine, machines included, and the abandon rate it measures counts
the machines it hung up on; the rule counts people only (docs/compliance.md). Machines pick up later than people
(after a set number of rings), so the two are abandoned at different rates and the measured rate is not the
people's. Agents say which connected calls were machines (their disposition); the engine never learns it of an
abandoned call, but it knows how long that call rang. Which calls get an agent does not depend on who answered
(the engine cannot tell), so among calls that rang about as long, the connected ones show the abandoned ones'
mix: each abandon counts as a person with the share of people agents met at its ringing time.

Sans-I/O. The estimate leans toward "everyone was a person" (the measured rate, never less than the truth when
machines are abandoned more) until agents have said enough: a prior of ``PRIOR`` people per band.
"""

from __future__ import annotations

BAND = 2.0  # s of ringing per band
BANDS = 14  # the last band holds everything longer
PRIOR = 5.0  # people's worth of belief, per band, that every answer was a person


class PersonShare:
    """Agents' words per band of ringing time, and what the pacer counted there: abandons and the rule's rate
    spent on live calls. Both are weighed by the bands' shares as known now, so what agents say later in the
    day corrects the abandons counted at its start too."""

    def __init__(self) -> None:
        self.people = [0.0] * BANDS
        self.machines = [0.0] * BANDS
        self.abandons = [0.0] * BANDS
        self.unknown_abandons = 0  # ringing time not known: a person
        self.spent = [0.0] * BANDS

    @staticmethod
    def band(rang: float) -> int:
        return min(BANDS - 1, max(0, int(rang // BAND)))

    def agent_said(self, machine: bool, rang: float) -> None:
        """An agent's disposition of a connected call: a machine or a person, after ``rang`` s of ringing."""
        b = self.band(rang)
        if machine:
            self.machines[b] += 1
        else:
            self.people[b] += 1

    def abandoned(self, rang: float) -> None:
        if rang < 0:
            self.unknown_abandons += 1
        else:
            self.abandons[self.band(rang)] += 1

    def spend(self, rate: float, rang: float) -> None:
        self.spent[self.band(rang)] += rate

    def share(self, rang: float) -> float:
        """P(a person | the call was answered after ``rang`` s), shrunk toward 1."""
        return self._share(self.band(rang))

    def _share(self, b: int) -> float:
        return (self.people[b] + PRIOR) / (self.people[b] + self.machines[b] + PRIOR)

    @property
    def people_abandons(self) -> float:
        return self.unknown_abandons + sum(n * self._share(b) for b, n in enumerate(self.abandons))

    @property
    def rate_spent(self) -> float:
        """The rule's rate spent on live calls, each weighed as a person."""
        return sum(x * self._share(b) for b, x in enumerate(self.spent))

    @property
    def machines_said(self) -> int:
        return int(sum(self.machines))

    @property
    def heard(self) -> int:
        return int(sum(self.people) + sum(self.machines))
