from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops

from kennisbank.taxonomy import CollaborationStage, CollaborationType


class Migration(migrations.Migration):
    dependencies = [("models", "0003_embedding_job")]

    initial = False

    operations = [
        ops.CreateModel(
            name="Collaboration",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("title", fields.CharField(max_length=200)),
                (
                    "type",
                    fields.CharEnumField(
                        description="GEZAMENLIJKE_INKOOP: gezamenlijke_inkoop\nOPSCHALEN: opschalen\nKENNISUITWISSELING: kennisuitwisseling",
                        enum_type=CollaborationType,
                        max_length=24,
                    ),
                ),
                (
                    "stage",
                    fields.CharEnumField(
                        default=CollaborationStage.VOORGESTELD,
                        description="VOORGESTELD: voorgesteld\nIN_GESPREK: in_gesprek\nAFSPRAKEN_GEMAAKT: afspraken_gemaakt\nGESTART: gestart\nAFGEROND: afgerond\nGESTOPT: gestopt",
                        enum_type=CollaborationStage,
                        max_length=24,
                    ),
                ),
                ("stop_reason", fields.TextField(default="", unique=False)),
                (
                    "owner",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="owner_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="owned_collaborations",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "initiatives",
                    fields.ManyToManyField(
                        "models.Initiative",
                        unique=True,
                        db_constraint=True,
                        through="collaboration_initiative",
                        forward_key="initiative_id",
                        backward_key="collaboration_id",
                        related_name="collaborations",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "matches",
                    fields.ManyToManyField(
                        "models.MatchSuggestion",
                        unique=True,
                        db_constraint=True,
                        through="collaboration_match",
                        forward_key="matchsuggestion_id",
                        backward_key="collaboration_id",
                        related_name="collaborations",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("next_action", fields.CharField(default="", max_length=300)),
                ("next_action_due", fields.DateField(null=True)),
                ("introduction", fields.CharField(default="open", max_length=12)),
                ("version", fields.IntField(default=1)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("stage_changed_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={
                "table": "collaboration",
                "app": "models",
                "pk_attr": "id",
                "table_description": "Initiatives of several provinces working together after a match: from first talk to joint result.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="CollaborationEvent",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "collaboration",
                    fields.ForeignKeyField(
                        "models.Collaboration",
                        source_field="collaboration_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="events",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                (
                    "user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="user_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="collaboration_events",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("kind", fields.CharField(max_length=16)),
                ("from_stage", fields.CharField(default="", max_length=24)),
                ("to_stage", fields.CharField(default="", max_length=24)),
                ("text", fields.TextField(default="", unique=False)),
            ],
            options={
                "table": "collaboration_event",
                "app": "models",
                "pk_attr": "id",
                "table_description": "One line of a collaboration's timeline: created, a stage change, a note, a link, a next action.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="CollaborationLink",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "collaboration",
                    fields.ForeignKeyField(
                        "models.Collaboration",
                        source_field="collaboration_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="links",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("url", fields.CharField(max_length=500)),
                ("label", fields.CharField(max_length=200)),
                (
                    "added_by",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="added_by_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="collaboration_links",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("added_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "collaboration_link",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A document of a collaboration elsewhere: tender documents, agreements.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="IntroductionDelivery",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "collaboration",
                    fields.ForeignKeyField(
                        "models.Collaboration",
                        source_field="collaboration_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="introductions",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("email", fields.CharField(max_length=254)),
                ("state", fields.CharField(max_length=12)),
                ("attempts", fields.IntField(default=0)),
                ("error", fields.TextField(default="", unique=False)),
                ("claimed_by", fields.CharField(default="", max_length=80)),
                ("claimed_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("sent_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "introduction_delivery",
                "app": "models",
                "unique_together": (("collaboration", "email"),),
                "pk_attr": "id",
                "table_description": "The introduction mail of one collaboration to one contact address: claimed, then sent, once.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="IntroductionOptOut",
            fields=[
                ("email", fields.CharField(primary_key=True, unique=True, db_index=True, max_length=254)),
                ("at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "introduction_opt_out",
                "app": "models",
                "pk_attr": "email",
                "table_description": "A contact address that asked not to receive introduction mails (a signed one-click link).",
            },
            bases=["Model"],
        ),
    ]
