import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops

from kennisbank.taxonomy import Kind, MatchStatus, Phase, ProgrammeLine, Role, Status


class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name="AuditEntry",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("actor_id", fields.IntField(null=True)),
                ("actor_email", fields.CharField(default="", max_length=254)),
                ("action", fields.CharField(max_length=40)),
                ("object_type", fields.CharField(default="", max_length=40)),
                ("object_id", fields.CharField(default="", max_length=64)),
                ("ip", fields.CharField(default="", max_length=45)),
                ("result", fields.CharField(max_length=20)),
                (
                    "detail",
                    fields.JSONField(
                        default=dict, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads
                    ),
                ),
            ],
            options={
                "table": "audit_entry",
                "app": "models",
                "pk_attr": "id",
                "table_description": "One line of the append-only audit log: who did what to which object, when, from where, and how it ended.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Embedding",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("model", fields.CharField(max_length=200)),
                ("text_hash", fields.CharField(max_length=64)),
                ("dimensions", fields.IntField()),
                ("vector", fields.BinaryField()),
            ],
            options={
                "table": "embedding",
                "app": "models",
                "unique_together": (("model", "text_hash"),),
                "pk_attr": "id",
                "table_description": "A cached text embedding, keyed by model and a hash of the embedded text: never computed twice.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Province",
            fields=[
                ("code", fields.CharField(primary_key=True, unique=True, db_index=True, max_length=5)),
                ("name", fields.CharField(unique=True, max_length=40)),
            ],
            options={"table": "province", "app": "models", "pk_attr": "code"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Theme",
            fields=[
                ("slug", fields.CharField(primary_key=True, unique=True, db_index=True, max_length=40)),
                ("name", fields.CharField(unique=True, max_length=60)),
            ],
            options={"table": "theme", "app": "models", "pk_attr": "slug"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="User",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("email", fields.CharField(unique=True, max_length=254)),
                ("name", fields.CharField(default="", max_length=120)),
                (
                    "province",
                    fields.ForeignKeyField(
                        "models.Province",
                        source_field="province_id",
                        null=True,
                        db_constraint=True,
                        to_field="code",
                        related_name="users",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "role",
                    fields.CharEnumField(
                        description="MEDEWERKER: medewerker\nCOORDINATOR: coordinator\nBEHEERDER: beheerder",
                        enum_type=Role,
                        max_length=20,
                    ),
                ),
                ("password_hash", fields.CharField(default="", max_length=255)),
                ("totp_secret", fields.CharField(default="", max_length=64)),
                ("totp_last_step", fields.BigIntField(default=0)),
                ("active", fields.BooleanField(default=True)),
                ("digest_weekly", fields.BooleanField(default=True)),
                ("digest_related", fields.BooleanField(default=True)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("last_login_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "user",
                "app": "models",
                "pk_attr": "id",
                "table_description": "An account. Personal data is kept to what the platform needs: e-mail, a display name, province, role.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ApiToken",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="api_tokens",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("name", fields.CharField(max_length=80)),
                ("token_hash", fields.CharField(unique=True, max_length=64)),
                ("prefix", fields.CharField(max_length=12)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("last_used_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("revoked_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "api_token",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A personal API token. Only its SHA-256 is stored, the token itself is shown once.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="DigestDelivery",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="digest_deliveries",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("period", fields.CharField(max_length=8)),
                ("state", fields.CharField(max_length=12)),
                ("attempts", fields.IntField(default=0)),
                ("items", fields.IntField(default=0)),
                ("error", fields.TextField(default="", unique=False)),
                ("claimed_by", fields.CharField(default="", max_length=80)),
                ("claimed_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("sent_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "digest_delivery",
                "app": "models",
                "unique_together": (("user", "period"),),
                "pk_attr": "id",
                "table_description": "One user's digest for one ISO week: claimed before sending, marked sent after, so it goes out once.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Initiative",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("external_id", fields.CharField(max_length=64)),
                (
                    "province",
                    fields.ForeignKeyField(
                        "models.Province",
                        source_field="province_id",
                        db_constraint=True,
                        to_field="code",
                        related_name="initiatives",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "kind",
                    fields.CharEnumField(
                        description="BEST_PRACTICE: best_practice\nLIVING_LAB: living_lab\nPORTFOLIO_PROJECT: portfolio_project",
                        enum_type=Kind,
                        max_length=20,
                    ),
                ),
                ("title", fields.CharField(max_length=200)),
                ("summary", fields.TextField(unique=False)),
                ("description", fields.TextField(default="", unique=False)),
                (
                    "themes",
                    fields.ManyToManyField(
                        "models.Theme",
                        unique=True,
                        db_constraint=True,
                        through="initiative_theme",
                        forward_key="theme_id",
                        backward_key="initiative_id",
                        related_name="initiatives",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "programme_line",
                    fields.CharEnumField(
                        null=True,
                        description="DATA: data\nDIENSTVERLENING: dienstverlening\nINNOVATIE: innovatie\nBEDRIJFSVOERING: bedrijfsvoering",
                        enum_type=ProgrammeLine,
                        max_length=20,
                    ),
                ),
                (
                    "phase",
                    fields.CharEnumField(
                        description="IDEE: idee\nVERKENNING: verkenning\nPILOT: pilot\nIMPLEMENTATIE: implementatie\nOPGESCHAALD: opgeschaald",
                        enum_type=Phase,
                        max_length=20,
                    ),
                ),
                (
                    "technologies",
                    fields.JSONField(
                        default=list, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads
                    ),
                ),
                (
                    "suppliers",
                    fields.JSONField(
                        default=list, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads
                    ),
                ),
                ("budget_eur", fields.BigIntField(null=True)),
                ("start_date", fields.DateField(null=True)),
                ("end_date", fields.DateField(null=True)),
                ("contact_name", fields.CharField(default="", max_length=120)),
                ("contact_email", fields.CharField(default="", max_length=254)),
                (
                    "links",
                    fields.JSONField(
                        default=list, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads
                    ),
                ),
                (
                    "status",
                    fields.CharEnumField(
                        default=Status.GEPUBLICEERD,
                        description="CONCEPT: concept\nGEPUBLICEERD: gepubliceerd\nGEARCHIVEERD: gearchiveerd",
                        enum_type=Status,
                        max_length=20,
                    ),
                ),
                ("lessons_learned", fields.TextField(default="", unique=False)),
                ("results", fields.TextField(default="", unique=False)),
                ("seeks_partners", fields.BooleanField(default=False)),
                ("tender_date", fields.DateField(null=True)),
                ("version", fields.IntField(default=1)),
                ("published_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("material_change_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                (
                    "created_by",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="created_by_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="initiatives",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={
                "table": "initiative",
                "app": "models",
                "unique_together": (("province", "external_id"),),
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="MatchSuggestion",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "a",
                    fields.ForeignKeyField(
                        "models.Initiative",
                        source_field="a_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="matches_as_a",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "b",
                    fields.ForeignKeyField(
                        "models.Initiative",
                        source_field="b_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="matches_as_b",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("score", fields.FloatField()),
                ("type", fields.CharField(max_length=24)),
                (
                    "reasons",
                    fields.JSONField(
                        default=list, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads
                    ),
                ),
                (
                    "features",
                    fields.JSONField(
                        default=dict, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads
                    ),
                ),
                (
                    "shared_terms",
                    fields.JSONField(
                        default=list, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads
                    ),
                ),
                (
                    "status",
                    fields.CharEnumField(
                        default=MatchStatus.VOORGESTELD,
                        description="VOORGESTELD: voorgesteld\nGEACCEPTEERD: geaccepteerd\nAFGEWEZEN: afgewezen\nAANGEHOUDEN: aangehouden",
                        enum_type=MatchStatus,
                        max_length=16,
                    ),
                ),
                (
                    "reviewer",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="reviewer_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="reviewed_matches",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("note", fields.TextField(default="", unique=False)),
                ("fingerprint_a", fields.CharField(default="", max_length=64)),
                ("fingerprint_b", fields.CharField(default="", max_length=64)),
                ("current", fields.BooleanField(default=True)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ("decided_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "match_suggestion",
                "app": "models",
                "unique_together": (("a", "b"),),
                "pk_attr": "id",
                "table_description": "A suggested pair of initiatives from different provinces, and the coordinators' decision on it.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="MatchEvent",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "match",
                    fields.ForeignKeyField(
                        "models.MatchSuggestion",
                        source_field="match_id",
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
                        related_name="match_events",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("from_status", fields.CharField(max_length=16)),
                ("to_status", fields.CharField(max_length=16)),
                ("note", fields.TextField(default="", unique=False)),
            ],
            options={
                "table": "match_event",
                "app": "models",
                "pk_attr": "id",
                "table_description": "One change of a match's status, with who made it and their note: the match's history.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Subscription",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="subscriptions",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("kind", fields.CharField(max_length=16)),
                ("value", fields.CharField(max_length=500)),
                ("label", fields.CharField(max_length=200)),
                ("feed_token", fields.CharField(unique=True, max_length=64)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "subscription",
                "app": "models",
                "unique_together": (("user", "kind", "value"),),
                "pk_attr": "id",
                "table_description": "What a user wants to hear about in the weekly digest and in an Atom feed.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="UserSession",
            fields=[
                ("id", fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                (
                    "user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="sessions",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("second_factor_done", fields.BooleanField(default=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("last_seen_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("ip", fields.CharField(default="", max_length=45)),
            ],
            options={
                "table": "user_session",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A server-side login session. The cookie holds a random token, only its SHA-256 is stored.",
            },
            bases=["Model"],
        ),
    ]
