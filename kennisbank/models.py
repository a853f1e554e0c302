"""Database models: the source of truth. Search indexes and embeddings are derived from these."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from .initiatives.validation import BODY_FIELDS
from .taxonomy import (
    CollaborationStage,
    CollaborationType,
    IntroductionStatus,
    Kind,
    MatchStatus,
    Phase,
    ProgrammeLine,
    Role,
    Status,
)

#: How much of a failure's message a row keeps in its error column (a delivery's ``error``, a job's
#: ``last_error``): the server's answer, not a whole traceback.
MAX_ERROR_LENGTH = 2000


class Province(Model):
    code = fields.CharField(primary_key=True, max_length=5)
    name = fields.CharField(max_length=40, unique=True)

    class Meta:
        table = "province"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Theme(Model):
    slug = fields.CharField(primary_key=True, max_length=40)
    name = fields.CharField(max_length=60, unique=True)

    class Meta:
        table = "theme"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Initiative(Model):
    id = fields.IntField(primary_key=True)
    external_id = fields.CharField(max_length=64)
    province: fields.ForeignKeyRelation[Province] = fields.ForeignKeyField(
        "models.Province", related_name="initiatives", on_delete=fields.RESTRICT
    )
    province_id: str  # the foreign key column Tortoise adds for `province`; its stubs do not declare it
    kind = fields.CharEnumField(Kind, max_length=20)
    title = fields.CharField(max_length=200)
    summary = fields.TextField()
    description = fields.TextField(default="")
    themes: fields.ManyToManyRelation[Theme] = fields.ManyToManyField(
        "models.Theme", related_name="initiatives", through="initiative_theme"
    )
    programme_line = fields.CharEnumField(ProgrammeLine, max_length=20, null=True)
    phase = fields.CharEnumField(Phase, max_length=20)
    technologies: list[str] = fields.JSONField(default=list)
    suppliers: list[str] = fields.JSONField(default=list)
    # Organisations it works with. The database default lets the column be added to a table with rows.
    partners: list[str] = fields.JSONField(default=list, db_default=[])
    budget_eur = fields.BigIntField(null=True)
    start_date = fields.DateField(null=True)
    end_date = fields.DateField(null=True)
    contact_name = fields.CharField(max_length=120, default="")
    contact_email = fields.CharField(max_length=254, default="")
    links: list[str] = fields.JSONField(default=list)
    status = fields.CharEnumField(Status, max_length=20, default=Status.GEPUBLICEERD)
    lessons_learned = fields.TextField(default="")
    results = fields.TextField(default="")
    seeks_partners = fields.BooleanField(default=False)
    tender_date = fields.DateField(null=True)
    version = fields.IntField(default=1)
    published_at = fields.DatetimeField(null=True)  # first time it became gepubliceerd
    material_change_at = fields.DatetimeField(null=True)  # last change of its content (not of contact or status)
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="initiatives", null=True, on_delete=fields.SET_NULL
    )
    created_by_id: int | None  # the foreign key column of `created_by`, added by Tortoise
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "initiative"
        unique_together = (("province", "external_id"),)
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return self.title

    @property
    def body_text(self) -> str:
        """The body fields (`validation.BODY_FIELDS`: description, results, lessons) as one Markdown
        text: what search and embeddings read."""
        return "\n\n".join(part for name in BODY_FIELDS if (part := _as_text(getattr(self, name))))


def _as_text(value: object) -> str:
    """A body field as text: a list (of partners, say) as its items separated by commas."""
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value or "")


class Embedding(Model):
    """A cached text embedding, keyed by model and a hash of the embedded text: never computed twice."""

    id = fields.IntField(primary_key=True)
    model = fields.CharField(max_length=200)
    text_hash = fields.CharField(max_length=64)
    dimensions = fields.IntField()
    vector = fields.BinaryField()  # float32, little-endian

    class Meta:
        table = "embedding"
        unique_together = (("model", "text_hash"),)


class EmbeddingJob(Model):
    """Semantic work queued by a save: the initiative's embedding, index vector and matches.

    The durable queue behind every save (kennisbank/searching/embedding_jobs.py). Written in the transaction of the save, so a committed save always has its job. A consumer claims
    rows (``claimed_by``, ``claimed_at``); a claim older than the lease belongs to a process that died
    and is claimed again. A row is deleted when its work is done."""

    id = fields.IntField(primary_key=True)
    initiative: fields.ForeignKeyRelation[Initiative] = fields.ForeignKeyField(
        "models.Initiative", related_name="embedding_jobs", on_delete=fields.CASCADE
    )
    initiative_id: int  # the foreign key column of `initiative`, added by Tortoise
    enqueued_at = fields.DatetimeField()
    claimed_by = fields.CharField(max_length=80, default="")  # host:pid:nonce of the claim
    claimed_at = fields.DatetimeField(null=True)
    attempts = fields.IntField(default=0)
    last_error = fields.TextField(default="")

    class Meta:
        table = "embedding_job"
        ordering = ["id"]


class User(Model):
    """An account. Personal data is kept to what the platform needs: e-mail, a display name, province, role."""

    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=254, unique=True)  # stored lower-cased
    name = fields.CharField(max_length=120, default="")
    province: fields.ForeignKeyNullableRelation[Province] = fields.ForeignKeyField(
        "models.Province", related_name="users", null=True, on_delete=fields.RESTRICT
    )
    province_id: str | None  # the foreign key column of `province`, added by Tortoise
    role = fields.CharEnumField(Role, max_length=20)
    password_hash = fields.CharField(max_length=255, default="")  # argon2id; empty: password login disabled
    totp_secret = fields.CharField(max_length=64, default="")  # set once two-factor login is confirmed
    totp_last_step = fields.BigIntField(default=0)  # the last time step used: each code works once
    active = fields.BooleanField(default=True)
    digest_weekly = fields.BooleanField(default=True)  # the weekly digest mail; off: none
    digest_related = fields.BooleanField(default=True)  # include initiatives elsewhere that match my province's
    created_at = fields.DatetimeField(auto_now_add=True)
    last_login_at = fields.DatetimeField(null=True)

    class Meta:
        table = "user"
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    @property
    def totp_enabled(self) -> bool:
        return bool(self.totp_secret)


class UserSession(Model):
    """A server-side login session. The cookie holds a random token, only its SHA-256 is stored."""

    id = fields.CharField(primary_key=True, max_length=64)  # sha256 hex of the cookie token
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="sessions", on_delete=fields.CASCADE
    )
    second_factor_done = fields.BooleanField(default=False)
    created_at = fields.DatetimeField()
    last_seen_at = fields.DatetimeField()
    ip = fields.CharField(max_length=45, default="")

    class Meta:
        table = "user_session"


class ApiToken(Model):
    """A personal API token. Only its SHA-256 is stored, the token itself is shown once."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="api_tokens", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=80)
    token_hash = fields.CharField(max_length=64, unique=True)
    prefix = fields.CharField(max_length=12)  # the first characters, so a user can tell tokens apart
    created_at = fields.DatetimeField(auto_now_add=True)
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    expires_at = fields.DatetimeField(null=True)  # None only for tokens made before tokens expired

    class Meta:
        table = "api_token"
        ordering = ["-created_at", "-id"]


class AuditEntry(Model):
    """One line of the append-only audit log: who did what to which object, when, from where, and how it ended.

    Never holds a password, token or TOTP code. Rows are only ever inserted (see kennisbank/audit.py).
    """

    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField()
    actor_id = fields.IntField(null=True)  # no foreign key: the log outlives accounts
    actor_email = fields.CharField(max_length=254, default="")
    action = fields.CharField(max_length=40)
    object_type = fields.CharField(max_length=40, default="")
    object_id = fields.CharField(max_length=64, default="")
    ip = fields.CharField(max_length=45, default="")
    result = fields.CharField(max_length=20)  # ok | geweigerd | mislukt
    detail: dict[str, object] = fields.JSONField(default=dict)

    class Meta:
        table = "audit_entry"
        ordering = ["-at", "-id"]


class MatchSuggestion(Model):
    """A suggested pair of initiatives from different provinces, and the coordinators' decision on it.

    Recomputing updates score, type, reasons and features but never the decision. The fingerprints
    record both initiatives' matching-relevant content at the last decision: a rejected pair comes
    back only when one of them changed materially.
    """

    id = fields.IntField(primary_key=True)
    a: fields.ForeignKeyRelation[Initiative] = fields.ForeignKeyField(
        "models.Initiative", related_name="matches_as_a", on_delete=fields.CASCADE
    )
    b: fields.ForeignKeyRelation[Initiative] = fields.ForeignKeyField(
        "models.Initiative", related_name="matches_as_b", on_delete=fields.CASCADE
    )
    a_id: int  # the foreign key columns of `a` and `b`, added by Tortoise
    b_id: int
    score = fields.FloatField()
    type = fields.CharField(max_length=24)
    reasons: list[str] = fields.JSONField(default=list)
    features: dict[str, float] = fields.JSONField(default=dict)
    shared_terms: list[str] = fields.JSONField(default=list)
    status = fields.CharEnumField(MatchStatus, max_length=16, default=MatchStatus.VOORGESTELD)
    reviewer: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="reviewed_matches", null=True, on_delete=fields.SET_NULL
    )
    note = fields.TextField(default="")
    fingerprint_a = fields.CharField(max_length=64, default="")
    fingerprint_b = fields.CharField(max_length=64, default="")
    current = fields.BooleanField(default=True)  # False: the last computation no longer suggests the pair
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    decided_at = fields.DatetimeField(null=True)
    events: fields.ReverseRelation[MatchEvent]  # declared by MatchEvent.match

    class Meta:
        table = "match_suggestion"
        unique_together = (("a", "b"),)
        ordering = ["-score", "id"]


class MatchEvent(Model):
    """One change of a match's status, with who made it and their note: the match's history."""

    id = fields.IntField(primary_key=True)
    match: fields.ForeignKeyRelation[MatchSuggestion] = fields.ForeignKeyField(
        "models.MatchSuggestion", related_name="events", on_delete=fields.CASCADE
    )
    at = fields.DatetimeField()
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="match_events", null=True, on_delete=fields.SET_NULL
    )
    from_status = fields.CharField(max_length=16)
    to_status = fields.CharField(max_length=16)
    note = fields.TextField(default="")

    class Meta:
        table = "match_event"
        ordering = ["at", "id"]


class Subscription(Model):
    """What a user wants to hear about in the weekly digest and in an Atom feed.

    ``kind`` is theme, province, kind or search; ``value`` a theme slug, province code, initiative kind
    or a search page's query string. ``feed_token`` makes the subscription's Atom feed URL: feed
    readers cannot log in, so the unguessable URL is the credential (renewed by re-subscribing).
    """

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="subscriptions", on_delete=fields.CASCADE
    )
    kind = fields.CharField(max_length=16)
    value = fields.CharField(max_length=500)
    label = fields.CharField(max_length=200)
    feed_token = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "subscription"
        unique_together = (("user", "kind", "value"),)
        ordering = ["kind", "label"]


class DigestDelivery(Model):
    """One user's digest for one ISO week: claimed before sending, marked sent after, so it goes out once."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="digest_deliveries", on_delete=fields.CASCADE
    )
    period = fields.CharField(max_length=8)  # ISO week, e.g. 2026-W47
    state = fields.CharField(max_length=12)  # a DeliveryState: open, geclaimd, verzonden, leeg or mislukt
    attempts = fields.IntField(default=0)
    items = fields.IntField(default=0)
    error = fields.TextField(default="")
    claimed_by = fields.CharField(max_length=80, default="")  # host:pid of the run that claimed it
    claimed_at = fields.DatetimeField(null=True)
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "digest_delivery"
        unique_together = (("user", "period"),)


class LoginThrottleEntry(Model):
    """Failed login attempts for one key: an account from an address, or an address.

    Changed only by compare-and-set on ``version`` or an atomic increment, so concurrent requests and
    processes cannot buy extra attempts (kennisbank/accounts/login_throttle.py)."""

    key = fields.CharField(primary_key=True, max_length=64)  # sha256 hex of kind, account and address
    failures = fields.IntField(default=0)
    last_failure = fields.FloatField(default=0.0)  # seconds since the epoch (the same clock in every process)
    version = fields.IntField(default=0)

    class Meta:
        table = "login_throttle"


class Collaboration(Model):
    """Initiatives of several provinces working together after a match: from first talk to joint result.

    ``version`` guards the collaboration's own fields (stage, owner, next action) like an initiative's;
    notes and links are appended and need no version. Everything that happens is a `CollaborationEvent`.
    """

    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=200)
    type = fields.CharEnumField(CollaborationType, max_length=24)
    stage = fields.CharEnumField(CollaborationStage, max_length=24, default=CollaborationStage.VOORGESTELD)
    stop_reason = fields.TextField(default="")
    owner: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="owned_collaborations", null=True, on_delete=fields.SET_NULL
    )
    initiatives: fields.ManyToManyRelation[Initiative] = fields.ManyToManyField(
        "models.Initiative", related_name="collaborations", through="collaboration_initiative"
    )
    matches: fields.ManyToManyRelation[MatchSuggestion] = fields.ManyToManyField(
        "models.MatchSuggestion", related_name="collaborations", through="collaboration_match"
    )
    next_action = fields.CharField(max_length=300, default="")
    next_action_due = fields.DateField(null=True)
    introduction = fields.CharField(max_length=12, default=IntroductionStatus.OPEN.value)  # an IntroductionStatus
    version = fields.IntField(default=1)
    created_at = fields.DatetimeField()
    stage_changed_at = fields.DatetimeField()
    updated_at = fields.DatetimeField(auto_now=True)
    events: fields.ReverseRelation[CollaborationEvent]  # declared by CollaborationEvent.collaboration
    links: fields.ReverseRelation[CollaborationLink]  # declared by CollaborationLink.collaboration

    class Meta:
        table = "collaboration"
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return self.title


class CollaborationEvent(Model):
    """One line of a collaboration's timeline: created, a stage change, a note, a link, a next action."""

    id = fields.IntField(primary_key=True)
    collaboration: fields.ForeignKeyRelation[Collaboration] = fields.ForeignKeyField(
        "models.Collaboration", related_name="events", on_delete=fields.CASCADE
    )
    collaboration_id: int  # the foreign key column of `collaboration`, added by Tortoise
    at = fields.DatetimeField()
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="collaboration_events", null=True, on_delete=fields.SET_NULL
    )
    kind = fields.CharField(max_length=16)  # aangemaakt | fase | notitie | link | actie | deelnemer | introductie
    from_stage = fields.CharField(max_length=24, default="")
    to_stage = fields.CharField(max_length=24, default="")
    text = fields.TextField(default="")

    class Meta:
        table = "collaboration_event"
        ordering = ["at", "id"]


class CollaborationLink(Model):
    """A document of a collaboration elsewhere: tender documents, agreements."""

    id = fields.IntField(primary_key=True)
    collaboration: fields.ForeignKeyRelation[Collaboration] = fields.ForeignKeyField(
        "models.Collaboration", related_name="links", on_delete=fields.CASCADE
    )
    url = fields.CharField(max_length=500)
    label = fields.CharField(max_length=200)
    added_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="collaboration_links", null=True, on_delete=fields.SET_NULL
    )
    added_at = fields.DatetimeField()

    class Meta:
        table = "collaboration_link"
        ordering = ["added_at", "id"]


class IntroductionDelivery(Model):
    """The introduction mail of one collaboration to one contact address: claimed, then sent, once."""

    id = fields.IntField(primary_key=True)
    collaboration: fields.ForeignKeyRelation[Collaboration] = fields.ForeignKeyField(
        "models.Collaboration", related_name="introductions", on_delete=fields.CASCADE
    )
    email = fields.CharField(max_length=254)  # lower-cased contact address of one of its initiatives
    state = fields.CharField(max_length=12)  # a DeliveryState: open, geclaimd, verzonden, mislukt or afgemeld
    attempts = fields.IntField(default=0)
    error = fields.TextField(default="")
    claimed_by = fields.CharField(max_length=80, default="")
    claimed_at = fields.DatetimeField(null=True)
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "introduction_delivery"
        unique_together = (("collaboration", "email"),)


class IntroductionOptOut(Model):
    """A contact address that asked not to receive introduction mails (a signed one-click link)."""

    email = fields.CharField(primary_key=True, max_length=254)
    at = fields.DatetimeField()

    class Meta:
        table = "introduction_opt_out"
