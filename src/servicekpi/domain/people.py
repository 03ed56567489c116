"""Who is measured and whom they serve: agents, teams, stations, customers."""

from __future__ import annotations

from typing import ClassVar, final

import attrs

from servicekpi.domain import _checks
from servicekpi.domain.enums import AppraisalTrack, Loyalty, Role, Tier
from servicekpi.exceptions import InvalidAgentError, InvalidCustomerError

__all__ = ("Agent", "Customer", "Station", "Team")


def _optional_track(value: object) -> AppraisalTrack | None:
    return None if value is None else AppraisalTrack.parse(value)


@final
@attrs.frozen(kw_only=True)
class Agent:
    """服务人员: anyone whose work is measured.

    Args:
        agent_id: unique id.
        name: display name.
        role: the job (岗位); the policy maps roles to KPI mixes and appraisal tracks.
        team_id: the team the agent is ranked with.
        station_id: the station (站/门店) the agent works at.
        supervisor_id: the direct supervisor (scores the performance agreement), if any.
        tz: IANA time zone the agent works in.
        track: the appraisal track; ``None`` lets the policy choose by role.

    Raises:
        InvalidAgentError: for an empty id, an unknown zone, or a self-supervisor.

    >>> Agent(agent_id="A-1", name="Li Na", role="technical_support", team_id="T1",
    ...       station_id="S1", tz="Asia/Shanghai").role
    <Role.TECHNICAL_SUPPORT: 'technical_support'>

    .. versionadded:: 0.1
    """

    _error: ClassVar[type[InvalidAgentError]] = InvalidAgentError
    _noun: ClassVar[str] = "agent"
    _key: ClassVar[str] = "agent_id"

    agent_id: str = attrs.field(validator=_checks.ident)
    name: str = attrs.field(validator=_checks.text)
    role: Role = attrs.field(converter=Role)
    team_id: str = attrs.field(validator=_checks.ident)
    station_id: str = attrs.field(validator=_checks.ident)
    supervisor_id: str | None = attrs.field(default=None, validator=_checks.optional_ident)
    tz: str = attrs.field(default="Asia/Shanghai", validator=_checks.zone)
    track: AppraisalTrack | None = attrs.field(default=None, converter=_optional_track)

    @supervisor_id.validator
    def _not_own_supervisor(self, attribute: attrs.Attribute[str | None],
                            value: str | None) -> None:
        if value is not None and value == self.agent_id:
            raise _checks.fail(self, f"'supervisor_id' must differ from 'agent_id' "
                                     f"(got {value!r})")


@final
@attrs.frozen(kw_only=True)
class Team:
    """团队: agents evaluated and ranked together.

    >>> Team(team_id="T1", name="Hotline", station_id="S1").team_id
    'T1'

    .. versionadded:: 0.1
    """

    _error: ClassVar[type[InvalidAgentError]] = InvalidAgentError
    _noun: ClassVar[str] = "team"
    _key: ClassVar[str] = "team_id"

    team_id: str = attrs.field(validator=_checks.ident)
    name: str = attrs.field(validator=_checks.text)
    station_id: str | None = attrs.field(default=None, validator=_checks.optional_ident)
    leader_id: str | None = attrs.field(default=None, validator=_checks.optional_ident)


@final
@attrs.frozen(kw_only=True)
class Station:
    """站 / 服务站 / 门店: complaints are attributed to and ranked per station.

    Args:
        station_id: unique id.
        name: display name.
        responsible: the responsible person (负责人) who answers for its complaints.
        tz: IANA time zone of the station.

    >>> Station(station_id="S1", name="North", responsible="Wang Wei").responsible
    'Wang Wei'

    .. versionadded:: 0.1
    """

    _error: ClassVar[type[InvalidAgentError]] = InvalidAgentError
    _noun: ClassVar[str] = "station"
    _key: ClassVar[str] = "station_id"

    station_id: str = attrs.field(validator=_checks.ident)
    name: str = attrs.field(validator=_checks.text)
    responsible: str = attrs.field(validator=_checks.ident)
    tz: str = attrs.field(default="Asia/Shanghai", validator=_checks.zone)


@final
@attrs.frozen(kw_only=True)
class Customer:
    """客户: has a file, an ABC tier, a loyalty class and a time zone.

    >>> Customer(customer_id="C-9", tier="A", tz="Asia/Sakhalin").tier
    <Tier.A: 'a'>

    .. versionadded:: 0.1
    """

    _error: ClassVar[type[InvalidCustomerError]] = InvalidCustomerError
    _noun: ClassVar[str] = "customer"
    _key: ClassVar[str] = "customer_id"

    customer_id: str = attrs.field(validator=_checks.ident)
    tier: Tier = attrs.field(default=Tier.B, converter=Tier)
    loyalty: Loyalty = attrs.field(default=Loyalty.ORDINARY, converter=Loyalty)
    tz: str = attrs.field(default="Asia/Shanghai", validator=_checks.zone)
    name: str = attrs.field(default="", validator=_checks.text)
