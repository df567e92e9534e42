"""The top floor: typer commands that parse options, call one use case (``govcloud.usecases``) and
render its result through ``govcloud.render``. No file is written here (tests/unit/test_layers.py)."""
