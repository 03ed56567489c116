"""Every closed set of the business as an enum.

Values are the lower-case strings used in files and TOML; the member order is the
order used for the int8 codes of the columnar tables, so **append, never reorder**.
"""

from __future__ import annotations

import enum
from typing import Self

from servicekpi.exceptions import InvalidChoiceError

__all__ = (
    "AppraisalTrack",
    "CallbackOutcome",
    "CallbackSubject",
    "Channel",
    "ClockName",
    "ClockStatus",
    "Direction",
    "ComplaintFlag",
    "ComplaintSource",
    "EscalationLevel",
    "EventKind",
    "Loyalty",
    "PeriodKind",
    "Priority",
    "RaterRole",
    "Role",
    "ServiceType",
    "Tier",
)


class _Choice(enum.StrEnum):
    """A string enum that also accepts member names, any case, and fails with a hint.

    ``Channel("Phone")``, ``Channel("PHONE")`` and ``Channel(Channel.PHONE)`` are all
    ``Channel.PHONE``; ``Channel("phnoe")`` raises :class:`InvalidChoiceError` saying
    "Did you mean 'phone'?". Being a type, the enum itself serves as an attrs converter.
    """

    @classmethod
    def _missing_(cls, value: object) -> Self:
        if isinstance(value, str):
            text = value.strip().lower().replace("-", "_").replace(" ", "_")
            for member in cls:
                if text in (member.value, member.name.lower()):
                    return member
        raise InvalidChoiceError.for_value(_label(cls), value, [m.value for m in cls])

    @classmethod
    def parse(cls, value: object) -> Self:
        """Return the member for *value* (a member, its value or its name, any case)."""
        return cls(value) if isinstance(value, str) else cls._missing_(value)


def _label(cls: type[enum.Enum]) -> str:
    # "ServiceType" -> "service type"
    name = cls.__name__
    return "".join(" " + c.lower() if c.isupper() else c for c in name).strip()


class Role(_Choice):
    """岗位: what an agent does.

    .. versionadded:: 0.1
    """

    SERVICE_MANAGER = "service_manager"  # 售后服务经理
    SERVICE_REPRESENTATIVE = "service_representative"  # 客户服务代表
    TECHNICAL_SUPPORT = "technical_support"  # 技术支持工程师
    FIELD_ENGINEER = "field_engineer"  # 售后服务工程师(现场服务)
    QUALITY_ASSURANCE = "quality_assurance"  # 质量保证专员
    FOLLOWUP_CLERK = "followup_clerk"  # 服务质量跟踪员
    FEEDBACK_CLERK = "feedback_clerk"  # 质量信息反馈员
    TRAINER = "trainer"  # 培训专员
    DATA_ANALYST = "data_analyst"  # 数据分析师
    COORDINATOR = "coordinator"  # 售后服务协调员
    LOGISTICS_COORDINATOR = "logistics_coordinator"  # 物流协调员
    INVENTORY_CLERK = "inventory_clerk"  # 库存管理员
    SERVICE_ADVISOR = "service_advisor"  # 服务顾问 SA


class AppraisalTrack(_Choice):
    """Which appraisal method applies to a role.

    .. versionadded:: 0.1
    """

    PERFORMANCE_AGREEMENT = "performance_agreement"  # 绩效协议模式
    KEY_INDICATORS = "key_indicators"  # 关键指标 / 关键行为考核法


class ServiceType(_Choice):
    """不同类型的售后服务: the KPI mix and weights depend on it.

    .. versionadded:: 0.1
    """

    REPAIR = "repair"
    CONSULTATION = "consultation"
    TECHNICAL_SUPPORT = "technical_support"
    COMPLAINT_HANDLING = "complaint_handling"
    MAINTENANCE = "maintenance"
    INSTALLATION = "installation"
    WARRANTY_CLAIM = "warranty_claim"


class Channel(_Choice):
    """How the customer reached the service team.

    .. versionadded:: 0.1
    """

    PHONE = "phone"
    ONLINE = "online"
    EMAIL = "email"
    WALK_IN = "walk_in"
    ON_SITE = "on_site"
    LETTER = "letter"


class Priority(_Choice):
    """Ticket priority; HIGH and URGENT tickets count as complex problems.

    .. versionadded:: 0.1
    """

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Tier(_Choice):
    """ABC importance of a customer; sets the contact cadence.

    .. versionadded:: 0.1
    """

    A = "a"
    B = "b"
    C = "c"


class Loyalty(_Choice):
    """忠诚客户 / 一般客户 / 流失客户.

    .. versionadded:: 0.1
    """

    LOYAL = "loyal"
    ORDINARY = "ordinary"
    LOST = "lost"


class ComplaintSource(_Choice):
    """Where a complaint came in.

    .. versionadded:: 0.1
    """

    HOTLINE = "hotline"
    ONLINE = "online"
    LETTER = "letter"
    WALK_IN = "walk_in"  # 上访: a walk-in petition


class ComplaintFlag(_Choice):
    """Severity signals attached to a complaint (情节严重).

    .. versionadded:: 0.1
    """

    MEDIA = "media"
    REGULATOR = "regulator"
    SAFETY = "safety"
    THREAT = "threat"


class EscalationLevel(enum.IntEnum):
    """一般 < 重复 < 恶性; ordered, so the level of a complaint is a ``max``.

    .. versionadded:: 0.1
    """

    GENERAL = 0
    REPEAT = 1
    SEVERE = 2

    @classmethod
    def _missing_(cls, value: object) -> EscalationLevel:
        if isinstance(value, str) and value.strip().upper() in cls.__members__:
            return cls[value.strip().upper()]
        raise InvalidChoiceError.for_value(_label(cls), value, [m.name.lower() for m in cls])

    @classmethod
    def parse(cls, value: object) -> EscalationLevel:
        """Return the level for a member, its name (any case) or its int value."""
        if isinstance(value, int) and not isinstance(value, bool):
            return cls(value)
        return cls._missing_(value)


class CallbackOutcome(_Choice):
    """What a follow-up call achieved.

    .. versionadded:: 0.1
    """

    SOLVED = "solved"
    UNSOLVED = "unsolved"
    UNREACHABLE = "unreachable"


class CallbackSubject(_Choice):
    """What a callback is about.

    .. versionadded:: 0.1
    """

    TICKET = "ticket"
    COMPLAINT = "complaint"
    CUSTOMER = "customer"
    EVENT = "event"


class RaterRole(_Choice):
    """Who gives a 360° rating.

    .. versionadded:: 0.1
    """

    SELF = "self"
    SUPERVISOR = "supervisor"
    PEER = "peer"
    SUBORDINATE = "subordinate"
    CUSTOMER = "customer"
    EXTERNAL_EXPERT = "external_expert"


class Direction(_Choice):
    """Whether a higher or a lower KPI value is better.

    .. versionadded:: 0.1
    """

    HIGHER = "higher"
    LOWER = "lower"


class PeriodKind(_Choice):
    """The length of an appraisal period.

    .. versionadded:: 0.1
    """

    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


class EventKind(_Choice):
    """What happened to a ticket, as its event history records it.

    The member order is the order of events at the same second (a reply at the second
    of a customer message answers it).

    .. versionadded:: 0.1
    """

    STATUS = "status"
    ASSIGNMENT = "assignment"
    CUSTOMER_MESSAGE = "customer_message"
    AGENT_REPLY = "agent_reply"


class ClockName(_Choice):
    """The SLA clocks servicekpi measures over ticket events.

    .. versionadded:: 0.1
    """

    FIRST_RESPONSE = "first_response"
    NEXT_REPLY = "next_reply"
    RESOLUTION = "resolution"


class ClockStatus(_Choice):
    """Where a clock instance stands as of the judging instant.

    .. versionadded:: 0.1
    """

    RUNNING = "running"
    PAUSED = "paused"
    ACHIEVED = "achieved"
    BREACHED = "breached"
