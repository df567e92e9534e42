"""Use cases: what a command does, apart from how its options are parsed and its results printed
(ARCHITECTURE.md, "The middle floor"). Each module returns typed results and owns its guards."""
