"""The call tracker: AMI events in, calls and presence out (see :mod:`cti.tracker.tracker`)."""
