from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0001_initial")]

    initial = False

    operations = [
        ops.CreateModel(
            name="LoginThrottleEntry",
            fields=[
                ("key", fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ("failures", fields.IntField(default=0)),
                ("last_failure", fields.FloatField(default=0.0)),
                ("version", fields.IntField(default=0)),
            ],
            options={
                "table": "login_throttle",
                "app": "models",
                "pk_attr": "key",
                "table_description": "Failed login attempts for one key: an account from an address, or an address.",
            },
            bases=["Model"],
        ),
    ]
