"""In-memory stand-ins for the executor's ports (drivers/ports.py), for tests and rehearsals.

They live in the package, not under tests/, because more than one suite uses them (the unit
tests of the executor, the cloud conformance suite, other helpers' tests of cutover and
replication) and a rehearsal mode can drive the executor through them without a cloud. No
production module imports them: tests/unit/test_ports.py fails on any that does.
"""
