"""Database models: the source of truth. Search indexes and embeddings are derived from these."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from .taxonomy import Kind, Phase, ProgrammeLine, Status


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
        """Description, results and lessons as one Markdown text: what search and embeddings read."""
        return "\n\n".join(part for part in (self.description, self.results, self.lessons_learned) if part)


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
