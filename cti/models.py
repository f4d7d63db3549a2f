"""Import every CTI model so that the metadata is complete."""

from cti.calllog.models import Call, CallLeg, CallNote

__all__ = ["Call", "CallLeg", "CallNote"]
