"""govcloud: census, batched migration planning and cloud migration for digital-government programmes."""

__version__ = "0.1.0"
