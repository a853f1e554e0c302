"""Schema migrations of the ``models`` app (Tortoise's built-in migration system); see kennisbank/db.py."""
