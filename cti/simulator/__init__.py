"""The call simulator: a real TCP server that speaks AMI like Asterisk.

Used by the tests, the benchmarks and the demo (``callcard ami-replay``):

* :mod:`cti.simulator.transcripts`: recorded ``.ami``/``.json`` scenarios, ready to replay;
* :mod:`cti.simulator.calls` and :mod:`cti.simulator.originate`: the AMI events of made-up
  inbound calls (direct, queue) and of click-to-call;
* :mod:`cti.simulator.phones`: which extension is ringing or talking, so the simulator never
  puts two answered calls on one phone (a busy phone answers busy, as on a PBX);
* :mod:`cti.simulator.channels`: the live channel table behind ``CoreShowChannels`` and
  ``QueueStatus``;
* :mod:`cti.simulator.server`: the AMI server itself, :class:`AmiReplayServer`.
"""
