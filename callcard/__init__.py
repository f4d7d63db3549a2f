"""The root of Callcard: the app factory, the ``callcard`` command, the composed settings, the
database schema of every part, and the one place where the parts are mounted (:mod:`callcard.parts`).

Dependency direction: callcard -> dashboard, voicebots -> notifier -> cti -> crm_core.
"""
