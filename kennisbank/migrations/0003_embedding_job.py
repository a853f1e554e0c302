from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0002_login_throttle")]

    initial = False

    operations = [
        ops.CreateModel(
            name="EmbeddingJob",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "initiative",
                    fields.ForeignKeyField(
                        "models.Initiative",
                        source_field="initiative_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="embedding_jobs",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("enqueued_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("claimed_by", fields.CharField(default="", max_length=80)),
                ("claimed_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("attempts", fields.IntField(default=0)),
                ("last_error", fields.TextField(default="", unique=False)),
            ],
            options={
                "table": "embedding_job",
                "app": "models",
                "pk_attr": "id",
                "table_description": "Semantic work queued by a save: the initiative's embedding, index vector and matches.",
            },
            bases=["Model"],
        ),
    ]
