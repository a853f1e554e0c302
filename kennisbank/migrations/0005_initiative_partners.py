import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    """`partners` may not be empty: its database default (`[]`) fills it for the initiatives already
    there (without one, SQLite cannot add the column to a table with rows)."""

    dependencies = [("models", "0004_collaborations")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Initiative",
            name="partners",
            field=fields.JSONField(
                default=list,
                db_default=[],
                encoder=functools.partial(dumps, separators=(",", ":")),
                decoder=loads,
            ),
        ),
    ]
