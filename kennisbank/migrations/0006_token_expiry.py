from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    """API tokens expire. A token made before has no end date (NULL) and keeps working until it is
    revoked: the account page marks it, so its owner can replace it."""

    dependencies = [("models", "0005_initiative_partners")]

    initial = False

    operations = [
        ops.AddField(
            model_name="ApiToken",
            name="expires_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
