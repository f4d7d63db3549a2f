"""Import every CTI model so that the metadata is complete."""

from cti.calllog.models import Call, CallLeg, CallNote
from cti.daystats.models import CallHourStat

__all__ = ["Call", "CallHourStat", "CallLeg", "CallNote"]
