"""A realistic, seeded synthetic month of after-sales service records.

:func:`month` builds agents in teams and stations, customers with tiers, loyalty
classes and time zones, tickets with skewed per-agent volumes and log-normal response
and resolution times counted in working time, satisfaction ratings, complaints (some
repeating), callbacks (some late or unsolved), 360° ratings and orders. The same seed
gives the same month, bit for bit; generation is vectorised (10 M tickets take seconds),
so the benchmarks use it too.

>>> data = month(seed=7, tickets=2_000, agents=20, stations=2)
>>> len(data.tickets), len(data.agents), data.period.label
(2000, 20, '2026-10')
>>> month(seed=7, tickets=2_000, agents=20, stations=2).tickets == data.tickets
True

.. versionadded:: 0.1
"""

from __future__ import annotations

from typing import Any, Final, TypeVar

import numpy as np
from numpy.typing import NDArray

from servicekpi.calendar import WorkCalendar, from_epoch
from servicekpi.dataset import Dataset
from servicekpi.domain import (
    Appraisal,
    AppraisalItem,
    AppraisalTrack,
    CallbackOutcome,
    CallbackSubject,
    Channel,
    ComplaintSource,
    Deduction,
    Period,
    Priority,
    RaterRole,
    Role,
    ServiceType,
    Station,
    Team,
    Tier,
    Training,
)
from servicekpi.domain.enums import EventKind
from servicekpi.exceptions import InvalidRecordError
from servicekpi.kernel import MISSING
from servicekpi.tables import (
    AgentTable,
    CallbackTable,
    Coded,
    ComplaintTable,
    CustomerTable,
    OrderTable,
    RatingTable,
    Table,
    TicketEventTable,
    TicketTable,
    _KnownGoodLabels,
)

__all__ = ("events", "month")

_DAY: Final = 86_400
_HOUR: Final = 3_600
_FAMILY: Final = ("Li", "Wang", "Zhang", "Liu", "Chen", "Yang", "Zhao", "Huang", "Zhou", "Wu",
                  "Xu", "Sun", "Ma", "Zhu", "Hu", "Guo", "He", "Lin", "Luo", "Gao")
_GIVEN: Final = ("Wei", "Fang", "Na", "Min", "Jing", "Lei", "Jun", "Yan", "Tao", "Ming",
                 "Hua", "Qiang", "Li", "Xin", "Yu", "Hao", "Lin", "Ping", "Bo", "Hui")
_COMPLAINT_TYPES: Final = ("delay", "quality", "attitude", "billing", "parts")
_RATING_ITEMS: Final = ("teamwork", "attitude", "report_quality")
_PLAN_ITEMS: Final = (("monthly_plan", 0.5), ("knowledge_base", 0.3), ("parts_stock", 0.2))
_INDICATORS: Final = ("compliance", "fault_handling_response", "customer_communication",
                      "information_feedback")
_BEHAVIOURS: Final = ("late_arrival", "missing_report", "rude_language", "skipped_check")
_TRAININGS: Final = (("front_desk", 4), ("technical_basics", 2), ("workshop", 6),
                     ("hard_case_reviews", 3), ("team_activities", 3))
# (role, share of agents, service type mix: repair, consultation, technical support,
# complaint handling, maintenance)
_ROLES: Final = (
    (Role.SERVICE_REPRESENTATIVE, 0.40, (0.05, 0.75, 0.05, 0.15, 0.00)),
    (Role.TECHNICAL_SUPPORT, 0.25, (0.05, 0.10, 0.85, 0.00, 0.00)),
    (Role.FIELD_ENGINEER, 0.20, (0.70, 0.00, 0.10, 0.00, 0.20)),
    (Role.SERVICE_ADVISOR, 0.10, (0.40, 0.40, 0.00, 0.05, 0.15)),
    (Role.FOLLOWUP_CLERK, 0.05, (0.00, 0.40, 0.00, 0.60, 0.00)),
)
_TYPES: Final = (ServiceType.REPAIR, ServiceType.CONSULTATION, ServiceType.TECHNICAL_SUPPORT,
                 ServiceType.COMPLAINT_HANDLING, ServiceType.MAINTENANCE)
_ZONES: Final = ("Asia/Shanghai", "Asia/Urumqi", "Europe/Moscow", "Asia/Sakhalin")


def month(seed: int = 0, *, tickets: int = 20_000, agents: int = 40, stations: int = 4,
          start: str | Period = "2026-10", tz: str = "Asia/Shanghai",
          calendar: WorkCalendar | None = None) -> Dataset:
    """A seeded synthetic month.

    Args:
        seed: the random seed; equal seeds give equal datasets.
        tickets: number of tickets opened in the month.
        agents: number of agents (at least 2 per station).
        stations: number of stations; each has one or more teams of about 8 agents.
        start: the month, as ``"YYYY-MM"`` or a month :class:`Period`.
        tz: the service centre's zone (the period's and the calendar's).
        calendar: the working calendar tickets are worked in (default: weekdays
            08:30–12:00 and 13:30–17:30 in *tz*).

    Returns:
        A :class:`Dataset` with every table filled and its ``period`` set.

    Raises:
        InvalidRecordError: for sizes that cannot make a month (e.g. no tickets).

    .. versionadded:: 0.1
    """
    if isinstance(tickets, bool) or not isinstance(tickets, int) or tickets < 1:
        raise InvalidRecordError(f"'tickets' must be an integer >= 1 (got {tickets!r})")
    if isinstance(stations, bool) or not isinstance(stations, int) or stations < 1:
        raise InvalidRecordError(f"'stations' must be an integer >= 1 (got {stations!r})")
    if isinstance(agents, bool) or not isinstance(agents, int) or agents < 2 * stations:
        raise InvalidRecordError(f"'agents' must be an integer >= 2 per station "
                                 f"(got {agents!r} for {stations} stations)")
    period = start if isinstance(start, Period) else Period.parse(start, tz=tz)
    cal = calendar if calendar is not None else WorkCalendar(tz=period.tz)
    rng = np.random.default_rng(seed)
    # A second stream for what was added later, so that the first one's tables stay
    # equal for equal seeds across versions.
    g = _Generator(rng, period, cal, np.random.default_rng([seed, 7]))
    station_objs, team_objs, agent_table, agent_info = g.roster(agents, stations)
    customer_table, customer_tier = g.customers(max(50, tickets // 4))
    ticket_table, ticket_info = g.tickets(tickets, agent_info, customer_tier,
                                          customer_table.labels("customer_id"))
    complaint_table, complaint_info = g.complaints(ticket_table, ticket_info, station_objs)
    callback_table = g.callbacks(ticket_info, complaint_info, agent_info)
    rating_table = g.ratings(agent_info)
    order_table = g.orders(ticket_info)
    return Dataset(period=period, agents=agent_table, teams=team_objs, stations=station_objs,
                   customers=customer_table, tickets=ticket_table,
                   complaints=complaint_table, callbacks=callback_table,
                   ratings=rating_table, orders=order_table,
                   appraisals=g.appraisals(agent_table, agent_info),
                   trainings=g.trainings())


_STATUSES: Final = _KnownGoodLabels(("solved", "waiting_customer", "waiting_third_party"))


def events(tickets: TicketTable, *, seed: int = 0) -> TicketEventTable:
    """A seeded history of about five events per ticket, consistent with its timestamps.

    Each answered ticket gets the agent's reply at ``first_response_at``; about half
    then wait on the customer (``waiting_customer`` a minute after the reply, the
    customer's message later, the agent's reply after it); most have one more message
    and reply; one in seven is reassigned to another agent of the table; repairs
    sometimes wait on a third party; resolved tickets are ``solved`` at
    ``resolved_at``. Vectorised: ten million events take a few seconds.

    >>> data = month(seed=2, tickets=1_000, agents=10, stations=1)
    >>> history = events(data.tickets, seed=2)
    >>> 4 < len(history) / len(data.tickets) < 6
    True

    .. versionadded:: 0.1
    """
    if not isinstance(tickets, TicketTable):
        raise TypeError(f"'tickets' must be a TicketTable (got {type(tickets).__name__})")
    rng = np.random.default_rng([seed, 11])
    n = len(tickets)
    opened, first = tickets["opened_at"], tickets["first_response_at"]
    resolved = tickets["resolved_at"]
    agent = tickets["agent_id"].astype(np.int64)
    n_agents = max(len(tickets.labels("agent_id")), 1)
    answered = first != MISSING
    done = resolved != MISSING
    # Everything after the first reply happens before the resolution (or within days).
    room = np.where(done, resolved - first, 3 * _DAY).clip(min=0)
    none = np.full(n, -1, dtype=np.int64)
    parts: dict[str, list[NDArray[Any]]] = {name: [] for name in (
        "row", "at", "kind", "to_value", "from_value", "actor")}

    def add(mask: NDArray[np.bool_], at: NDArray[np.int64], kind: EventKind,
            to: NDArray[np.int64] = none, from_: NDArray[np.int64] = none,
            actor: NDArray[np.int64] = none) -> None:
        rows = np.flatnonzero(mask)
        for name, values in (("row", rows), ("at", at[rows]),
                             ("kind", np.full(rows.size, list(EventKind).index(kind),
                                              dtype=np.int8)),
                             ("to_value", to[rows]), ("from_value", from_[rows]),
                             ("actor", actor[rows])):
            parts[name].append(values)

    statuses = {name: np.full(n, i, dtype=np.int64) for i, name in enumerate(_STATUSES)}
    add(answered, first, EventKind.AGENT_REPLY, actor=agent)
    wait = answered & (rng.random(n) < 0.5) & (room > 600)
    asked = first + 60 + (rng.random(n) * (room - 300)).astype(np.int64)
    add(wait, first + 60, EventKind.STATUS, to=statuses["waiting_customer"])
    # The two exchanges use even and odd seconds, so they never give the same event twice.
    asked = asked // 2 * 2
    add(wait, asked, EventKind.CUSTOMER_MESSAGE)
    add(wait, (asked + 6 + ((room - (asked - first)) * rng.random(n) * 0.5).astype(np.int64))
        // 2 * 2, EventKind.AGENT_REPLY, actor=agent)
    chat = answered & (rng.random(n) < 0.75) & (room > 120)
    said = (first + 37 + (rng.random(n) * (room - 60) * 0.5).astype(np.int64)) // 2 * 2 + 1
    add(chat, said, EventKind.CUSTOMER_MESSAGE)
    add(chat, (said + 11 + ((room - (said - first)) * rng.random(n) * 0.5).astype(np.int64))
        // 2 * 2 + 1, EventKind.AGENT_REPLY, actor=agent)
    moved = rng.random(n) < 1 / 7
    new_agent = (agent + 1 + rng.integers(0, max(n_agents - 1, 1), n)) % n_agents
    add(moved & (n_agents > 1), opened + (rng.random(n) * np.where(answered, first - opened,
                                                                  600)).astype(np.int64),
        EventKind.ASSIGNMENT, to=new_agent, from_=agent)
    third = (tickets["service_type"] == list(ServiceType).index(ServiceType.REPAIR)) \
        & answered & (room > 4 * _HOUR) & (rng.random(n) < 0.3)
    add(third, first + 2 * _HOUR, EventKind.STATUS, to=statuses["waiting_third_party"])
    add(done, resolved, EventKind.STATUS, to=statuses["solved"])

    cat = {name: np.concatenate(values) for name, values in parts.items()}
    agents_of = _KnownGoodLabels(tickets.labels("agent_id"))
    # Statuses and agents share the to_value column: agents come after the statuses.
    to_value = np.where(cat["kind"] == list(EventKind).index(EventKind.STATUS),
                        cat["to_value"], np.where(cat["to_value"] >= 0,
                                                  cat["to_value"] + len(_STATUSES), -1))
    columns: dict[str, Any] = {
        "ticket_id": Coded(codes=tickets["ticket_id"][cat["row"]], labels=_KnownGoodLabels(
            tickets.labels("ticket_id"))),
        "at": cat["at"],
        "kind": cat["kind"],
        "to_value": _used(to_value, _KnownGoodLabels((*_STATUSES, *agents_of))),
        "from_value": _used(cat["from_value"], agents_of),
        "actor": _used(cat["actor"], agents_of),
    }
    columns["kind"] = Coded(codes=columns["kind"], labels=tuple(k.value for k in EventKind))
    built, _ = TicketEventTable.from_columns(columns, on_invalid="raise", tickets=tickets)
    return built


def _ids(prefix: str, n: int) -> tuple[str, ...]:
    pattern = f"{prefix}%0{max(4, len(str(n)))}d"
    return _KnownGoodLabels(map(pattern.__mod__, range(1, n + 1)))


def _used(codes: NDArray[Any], labels: tuple[str, ...]) -> Coded:
    """Codes into a large label set, re-encoded over just the labels they use."""
    present = codes >= 0
    used, inverse = np.unique(codes[present], return_inverse=True)
    out = np.full(len(codes), -1, dtype=np.int64)
    out[present] = inverse
    return Coded(codes=out, labels=_KnownGoodLabels(labels[i] for i in used))


T = TypeVar("T", bound=Table)


def _build(table: type[T], columns: dict[str, Any]) -> T:
    built, _ = table.from_columns(columns, on_invalid="raise")
    return built


class _Generator:
    """The steps of :func:`month`, sharing the random stream in a fixed order."""

    def __init__(self, rng: np.random.Generator, period: Period, cal: WorkCalendar,
                 extra: np.random.Generator) -> None:
        self.rng = rng
        self.extra = extra
        self.period = period
        self.cal = cal
        self.start = int(period.start.timestamp())
        self.end = int(period.end.timestamp())

    def roster(self, n_agents: int, n_stations: int) -> tuple[
            tuple[Station, ...], tuple[Team, ...], AgentTable, dict[str, Any]]:
        rng = self.rng
        station_ids = _ids("S", n_stations)
        names = [f"{_FAMILY[i % 20]} {_GIVEN[(i * 7 + 3) % 20]}" for i in range(n_agents)]
        stations = tuple(Station(station_id=sid, name=f"Station {i + 1}",
                                 responsible=names[i], tz=self.period.tz)
                         for i, sid in enumerate(station_ids))
        agent_station = np.arange(n_agents) % n_stations
        per_station = np.bincount(agent_station, minlength=n_stations)
        teams_per_station = np.maximum(1, per_station // 8)
        team_offset = np.concatenate([[0], np.cumsum(teams_per_station)[:-1]])
        rank_in_station = np.arange(n_agents) // n_stations
        agent_team = team_offset[agent_station] + rank_in_station % teams_per_station[
            agent_station]
        n_teams = int(teams_per_station.sum())
        team_ids = _ids("T", n_teams)
        team_station = np.repeat(np.arange(n_stations), teams_per_station)
        leader = np.full(n_teams, -1)
        for agent in range(n_agents):  # one pass over agents, not tickets
            if leader[agent_team[agent]] < 0:
                leader[agent_team[agent]] = agent
        agent_ids = _ids("A", n_agents)
        teams = tuple(Team(team_id=team_ids[t], name=f"Team {t + 1}",
                           station_id=station_ids[team_station[t]],
                           leader_id=agent_ids[leader[t]]) for t in range(n_teams))
        shares = np.array([share for _, share, _ in _ROLES])
        role = rng.choice(len(_ROLES), size=n_agents, p=shares / shares.sum())
        is_leader = np.zeros(n_agents, dtype=bool)
        is_leader[leader] = True
        supervisor = np.where(is_leader, -1, leader[agent_team])
        role_members = [r for r, _, _ in _ROLES] + [Role.SERVICE_MANAGER]
        role_code = np.where(is_leader, len(_ROLES), role)
        table = _build(AgentTable, {
            "agent_id": Coded(codes=np.arange(n_agents), labels=agent_ids),
            "name": names,
            "role": Coded(codes=role_code, labels=[r.value for r in role_members]),
            "team_id": Coded(codes=agent_team, labels=team_ids),
            "station_id": Coded(codes=agent_station, labels=station_ids),
            "supervisor_id": Coded(codes=supervisor, labels=agent_ids),
            "tz": Coded(codes=np.zeros(n_agents, dtype=np.int64), labels=[self.period.tz]),
        })
        # Leaders handle tickets like representatives; skill scales speed and quality.
        mix = np.array([m for _, _, m in _ROLES] + [_ROLES[0][2]])
        info = {"n": n_agents, "ids": agent_ids, "team": agent_team, "station": agent_station,
                "station_ids": station_ids, "team_ids": team_ids, "mix": mix[role_code],
                "skill": np.clip(rng.lognormal(0.0, 0.25, n_agents), 0.5, 2.0),
                "volume": rng.lognormal(0.0, 0.6, n_agents), "supervisor": supervisor,
                "leaders": leader}
        return stations, teams, table, info

    def customers(self, n: int) -> tuple[CustomerTable, NDArray[np.int64]]:
        rng = self.rng
        tier = rng.choice(3, size=n, p=[0.1, 0.3, 0.6])
        loyalty = rng.choice(3, size=n, p=[0.25, 0.6, 0.15])
        zone = rng.choice(len(_ZONES), size=n, p=[0.85, 0.05, 0.05, 0.05])
        zones = (self.period.tz,) + tuple(z for z in _ZONES if z != self.period.tz)
        zone_codes = np.array([zones.index(z) for z in _ZONES])[zone]
        table = _build(CustomerTable, {
            "customer_id": Coded(codes=np.arange(n), labels=_ids("C", n)),
            "tier": Coded(codes=tier, labels=["a", "b", "c"]),
            "loyalty": Coded(codes=loyalty, labels=["loyal", "ordinary", "lost"]),
            "tz": Coded(codes=zone_codes, labels=zones),
        })
        return table, tier

    def tickets(self, n: int, agent: dict[str, Any], customer_tier: NDArray[np.int64],
                customer_ids: tuple[str, ...]) -> tuple[TicketTable, dict[str, Any]]:
        rng, cal = self.rng, self.cal
        volume = agent["volume"] / agent["volume"].sum()
        who = rng.choice(agent["n"], size=n, p=volume)
        # Service type per ticket from the agent's mix: inverse CDF on one uniform.
        cdf = np.cumsum(agent["mix"], axis=1)
        kind = (rng.random(n)[:, None] > cdf[who]).sum(axis=1).clip(0, len(_TYPES) - 1)
        customer = rng.integers(0, len(customer_tier), size=n)
        priority = rng.choice(4, size=n, p=[0.15, 0.6, 0.2, 0.05])
        channel = rng.choice(len(Channel), size=n, p=[0.45, 0.25, 0.05, 0.1, 0.13, 0.02])
        skill = agent["skill"][who]

        start = np.full(n, self.start, dtype=np.int64)
        month_work = int(cal.working_seconds(start[:1], np.array([self.end]))[0])
        # A uniform working second of the month: the second that ends at working offset
        # k + 1 starts inside working time (the earliest instant reaching k could be a
        # closing time, which is outside it).
        offset = rng.integers(0, max(month_work, 1), size=n)
        opened = cal.add_working_time(start, offset + 1) - 1

        response = np.maximum(30, rng.lognormal(np.log(1200), 0.9, n) / skill).astype(np.int64)
        first_response = cal.add_working_time(opened, response)
        repair = kind == 0
        base = np.where(repair, np.log(6 * _HOUR), np.log(3 * _HOUR))
        work = np.maximum(response + 60,
                          rng.lognormal(base, 0.8, n) / skill).astype(np.int64)
        resolved = cal.add_working_time(opened, work)
        never = rng.random(n) < 0.03
        resolved = np.where(never | (resolved >= self.end), MISSING, resolved)
        first_response = np.where(first_response >= self.end, MISSING, first_response)
        is_resolved = resolved != MISSING
        closed = resolved + rng.integers(0, 2 * _DAY, size=n)
        closed = np.where(is_resolved & (closed < self.end), closed, MISSING)

        quality = np.clip(skill, 0.6, 1.4)
        fcr = is_resolved & (rng.random(n) < 0.62 * quality)
        rework = repair & is_resolved & (rng.random(n) < 0.025 / quality)
        reopen = rng.poisson(0.04 / quality, n)
        rated = is_resolved & (rng.random(n) < 0.6)
        score = np.clip(np.rint(rng.normal(3.3 + 0.9 * quality, 0.8, n)), 1, 5)
        satisfaction = np.where(rated, score, np.nan)
        consult = kind == 1
        answers = np.where(consult, rng.poisson(3, n) + 1, 0)
        errors = np.minimum(answers, rng.binomial(answers, np.clip(0.04 / quality, 0, 1)))
        has_money = repair | (kind == 4)
        labour = np.where(has_money, np.round(rng.lognormal(np.log(280), 0.5, n), 2), np.nan)
        parts = np.where(has_money, np.round(rng.lognormal(np.log(350), 0.9, n), 2), np.nan)
        revenue = np.where(has_money, np.round(labour + parts * 1.25 + 60, 2), np.nan)
        # From the second stream: a share of maintenance jobs are warranty claims, a
        # share of repairs are insurance jobs (about twice the revenue).
        x = self.extra
        warranty = (kind == 4) & (x.random(n) < 0.3)
        kind = np.where(warranty, len(_TYPES), kind)
        approved = warranty & is_resolved & (x.random(n) < 0.96)
        insurance = repair & (x.random(n) < 0.25)
        revenue = np.where(insurance, np.round(revenue * 2.2, 2), revenue)

        ticket_ids = _ids("K", n)
        table = _build(TicketTable, {
            "ticket_id": Coded(codes=np.arange(n), labels=ticket_ids),
            "agent_id": Coded(codes=who, labels=agent["ids"]),
            "team_id": Coded(codes=agent["team"][who], labels=agent["team_ids"]),
            "station_id": Coded(codes=agent["station"][who], labels=agent["station_ids"]),
            "customer_id": Coded(codes=customer, labels=customer_ids),
            "service_type": Coded(codes=kind, labels=[t.value for t in _TYPES]
                                  + [ServiceType.WARRANTY_CLAIM.value]),
            "channel": Coded(codes=channel, labels=[c.value for c in Channel]),
            "priority": Coded(codes=priority, labels=[p.value for p in Priority]),
            "opened_at": opened, "first_response_at": first_response,
            "resolved_at": resolved, "closed_at": closed,
            "first_contact_resolved": fcr, "rework": rework, "reopen_count": reopen,
            "satisfaction": satisfaction, "answers": answers, "answer_errors": errors,
            "labour_cost": labour, "parts_cost": parts, "revenue": revenue,
            "insurance": insurance, "claim_approved": approved,
            "customer_tier": Coded(codes=customer_tier[customer], labels=["a", "b", "c"]),
        })
        info = {"n": n, "agent": who, "customer": customer, "kind": kind,
                "opened": opened, "resolved": resolved, "closed": closed,
                "station": agent["station"][who],
                "skill": skill, "ticket_ids": ticket_ids, "customer_ids": customer_ids,
                "agent_ids": agent["ids"]}
        return table, info

    def complaints(self, tickets: TicketTable, t: dict[str, Any],
                   stations: tuple[Station, ...]) -> tuple[ComplaintTable, dict[str, Any]]:
        rng = self.rng
        n_tickets = t["n"]
        chance = 0.015 / np.clip(t["skill"], 0.6, 1.4)
        source_rows = np.flatnonzero(rng.random(n_tickets) < chance)
        m = len(source_rows)
        ctype = rng.integers(0, len(_COMPLAINT_TYPES), size=m)
        received = t["opened"][source_rows] + rng.integers(_HOUR, 3 * _DAY, size=m)
        # Some customers complain again about the same matter a few days later.
        again = rng.random(m) < 0.15
        rows = np.concatenate([source_rows, source_rows[again]])
        ctype = np.concatenate([ctype, ctype[again]])
        received = np.concatenate([received, received[again] +
                                   rng.integers(2 * _DAY, 20 * _DAY, size=int(again.sum()))])
        inside = received < self.end
        rows, ctype, received = rows[inside], ctype[inside], received[inside]
        order = np.argsort(received, kind="stable")
        rows, ctype, received = rows[order], ctype[order], received[order]
        k = len(rows)
        source = rng.choice(4, size=k, p=[0.5, 0.3, 0.12, 0.08])
        flag_bits = np.where(rng.random(k) < 0.06, 1 << rng.integers(0, 4, size=k), 0)
        station = t["station"][rows]
        responsible = [s.responsible for s in stations]
        table = _build(ComplaintTable, {
            "complaint_id": Coded(codes=np.arange(k), labels=_ids("Q", k)),
            "customer_id": _used(t["customer"][rows], t["customer_ids"]),
            "station_id": Coded(codes=station, labels=[s.station_id for s in stations]),
            "responsible": [responsible[i] for i in station],
            "source": Coded(codes=source, labels=[s.value for s in ComplaintSource]),
            "complaint_type": Coded(codes=ctype, labels=_COMPLAINT_TYPES),
            "received_at": received,
            "flags": flag_bits.astype(np.uint8),
            "ticket_id": _used(rows, t["ticket_ids"]),
            "agent_id": Coded(codes=t["agent"][rows], labels=t["agent_ids"]),
        })
        return table, {"n": k, "received": received, "agent": t["agent"][rows]}

    def callbacks(self, t: dict[str, Any], c: dict[str, Any],
                  agent: dict[str, Any]) -> CallbackTable:
        rng = self.rng
        # Ticket follow-ups: half of the resolved tickets, due 3 days to 1 week after the
        # hand-back (closed, else resolved), as the dealer's rules ask.
        resolved_rows = np.flatnonzero((t["resolved"] != MISSING) & (rng.random(t["n"]) < 0.5))
        closed = t["closed"][resolved_rows]
        base = np.where(closed != MISSING, closed, t["resolved"][resolved_rows])
        due_from_t, due_by_t = base + 3 * _DAY, base + 7 * _DAY
        # Complaint callbacks: one to three each; the last is usually solved.
        per = rng.integers(1, 4, size=c["n"])
        owner = np.repeat(np.arange(c["n"]), per)
        nth = np.arange(len(owner)) - np.repeat(np.cumsum(per) - per, per)
        last = nth == per[owner] - 1
        due_from_c = c["received"][owner] + nth * 2 * _DAY + _DAY
        due_by_c = due_from_c + 2 * _DAY
        subject = np.concatenate([np.zeros(len(base), dtype=np.int64),
                                  np.ones(len(owner), dtype=np.int64)])
        due_from = np.concatenate([due_from_t, due_from_c])
        due_by = np.concatenate([due_by_t, due_by_c])
        m = len(due_from)
        delay = rng.lognormal(np.log(_DAY), 1.0, m).astype(np.int64)
        done = due_from + delay
        made = (rng.random(m) < 0.9) & (done < self.end)
        solved_p = np.concatenate([np.full(len(base), 0.92), np.where(last, 0.85, 0.2)])
        outcome = np.where(rng.random(m) < solved_p, 0,
                           np.where(rng.random(m) < 0.7, 1, 2))
        subject_labels = t["ticket_ids"] + _ids("Q", c["n"])
        subject_code = np.concatenate([resolved_rows, t["n"] + owner])
        who = np.concatenate([t["agent"][resolved_rows], c["agent"][owner]])
        substitute = rng.random(m) < 0.03
        leaders = agent["leaders"][agent["team"][who]]
        stand_in = np.where(substitute & (leaders != who), leaders, -1)
        doer = np.where(stand_in >= 0, stand_in, who)
        return _build(CallbackTable, {
            "callback_id": Coded(codes=np.arange(m), labels=_ids("B", m)),
            "subject": Coded(codes=subject, labels=[CallbackSubject.TICKET.value,
                                                    CallbackSubject.COMPLAINT.value]),
            "subject_id": _used(subject_code, subject_labels),
            "due_from": due_from, "due_by": due_by,
            "done_at": np.where(made, done, MISSING),
            "outcome": Coded(codes=np.where(made, outcome, -1),
                             labels=[o.value for o in CallbackOutcome]),
            "agent_id": Coded(codes=doer, labels=agent["ids"]),
            "substitute_for": Coded(codes=np.where(stand_in >= 0, who, -1), labels=agent["ids"]),
        })

    def ratings(self, agent: dict[str, Any]) -> RatingTable:
        rng = self.rng
        n = agent["n"]
        items = len(_RATING_ITEMS)
        has_supervisor = agent["supervisor"] >= 0
        who_self = np.repeat(np.arange(n), items)
        who_sup = np.repeat(np.flatnonzero(has_supervisor), items)
        who = np.concatenate([who_self, who_sup])
        role = np.concatenate([np.zeros(len(who_self), dtype=np.int64),
                               np.ones(len(who_sup), dtype=np.int64)])
        item = np.concatenate([np.tile(np.arange(items), n),
                               np.tile(np.arange(items), int(has_supervisor.sum()))])
        bias = np.where(role == 0, 8.0, 0.0)  # people rate themselves kindly
        score = np.clip(np.round(rng.normal(62 + 15 * agent["skill"][who] + bias, 6), 1),
                        0, 100)
        rater = np.where(role == 0, who, agent["supervisor"][who])
        rated_at = np.full(len(who), self.end - _DAY, dtype=np.int64)
        return _build(RatingTable, {
            "agent_id": Coded(codes=who, labels=agent["ids"]),
            "rater_role": Coded(codes=role, labels=[RaterRole.SELF.value,
                                                    RaterRole.SUPERVISOR.value]),
            "item": Coded(codes=item, labels=_RATING_ITEMS),
            "score": score, "rated_at": rated_at,
            "rater_id": Coded(codes=rater, labels=agent["ids"]),
        })

    def appraisals(self, table: AgentTable, agent: dict[str, Any]) -> tuple[Appraisal, ...]:
        """One appraisal per agent on its role's default track; 3 % not handed in."""
        x, n = self.extra, agent["n"]
        engineer = table["role"] == list(Role).index(Role.FIELD_ENGINEER)
        handed_in = x.random(n) >= 0.03
        level = np.clip(55 + 22 * agent["skill"], 0, 100)
        scores = np.clip(np.round(x.normal(level[:, None], 7, (n, 4))), 0, 100)
        quality = np.clip(np.round(x.normal(level, 5)), 0, 100)
        slips = x.poisson(0.8, n)
        behaviour = x.integers(0, len(_BEHAVIOURS), (n, 4))
        points = x.integers(1, 6, (n, 4))
        out: list[Appraisal] = []
        for i in np.flatnonzero(handed_in).tolist():
            agent_id = agent["ids"][i]
            if engineer[i]:
                items = [AppraisalItem(name=name, weight=0.25, score=float(scores[i, j]))
                         for j, name in enumerate(_INDICATORS)]
                deductions = [Deduction(behaviour=_BEHAVIOURS[behaviour[i, j]],
                                        points=float(points[i, j]))
                              for j in range(min(int(slips[i]), 4))]
                out.append(Appraisal(agent_id=agent_id, period=self.period,
                                     track=AppraisalTrack.KEY_INDICATORS, items=items,
                                     deductions=deductions))
            else:
                items = [AppraisalItem(name=name, weight=weight, score=float(scores[i, j]))
                         for j, (name, weight) in enumerate(_PLAN_ITEMS)]
                out.append(Appraisal(agent_id=agent_id, period=self.period,
                                     track=AppraisalTrack.PERFORMANCE_AGREEMENT, items=items,
                                     quality_score=float(quality[i])))
        return tuple(out)

    def trainings(self) -> tuple[Training, ...]:
        """Trainings of the year so far, roughly on track for the yearly targets."""
        x = self.extra
        year_start = int(Period.whole_year(self.period.year, tz=self.period.tz)
                         .start.timestamp())
        elapsed = (self.end - year_start) / (365 * _DAY)
        out: list[Training] = []
        for kind, per_year in _TRAININGS:
            count = int(x.poisson(per_year * elapsed * 1.05))
            when = np.sort(x.integers(year_start, self.end, count))
            out.extend(Training(kind=kind, held_at=from_epoch(int(t), self.period.tz),
                                training_id=f"TR-{kind}-{k + 1}",
                                attendees=int(x.integers(4, 30)))
                       for k, t in enumerate(when.tolist()))
        return tuple(out)

    def orders(self, t: dict[str, Any]) -> OrderTable:
        rng = self.rng
        rows = np.flatnonzero((t["kind"] == 1) & (rng.random(t["n"]) < 0.3))
        m = len(rows)
        amount = np.round(rng.lognormal(np.log(220), 0.7, m), 2)
        paid = np.where(rng.random(m) < 0.93, amount, 0.0)
        refunded = np.where((paid > 0) & (rng.random(m) < 0.05), paid, 0.0)
        created = t["opened"][rows] + rng.integers(_HOUR, 2 * _DAY, size=m)
        return _build(OrderTable, {
            "order_id": Coded(codes=np.arange(m), labels=_ids("O", m)),
            "customer_id": _used(t["customer"][rows], t["customer_ids"]),
            "agent_id": Coded(codes=t["agent"][rows], labels=t["agent_ids"]),
            "created_at": created, "amount": amount, "paid": paid, "refunded": refunded,
            "valid": rng.random(m) < 0.97, "abnormal": rng.random(m) < 0.02,
            "consultation_ticket_id": _used(rows, t["ticket_ids"]),
        })
