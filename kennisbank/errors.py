"""One error tree for the whole platform: every error a service or the web layer raises on purpose.

Each class carries its HTTP ``status``, a short Dutch ``title`` and a Dutch ``detail`` (the
explanation a user or API client reads), so the web layer maps the whole tree once, in the app
factory (`kennisbank.web.app`): problem+json (RFC 9457) under ``/api/``, the Dutch error page for that
status otherwise. Routes therefore raise or let through; they catch an error only to do something
else than the default answer (re-render a form with the messages next to its fields, audit a
refusal, redirect). An instance may give its own ``detail``, ``title``, field ``errors`` and response
``headers``; positional arguments stay the exception's ``args`` (an id, a reason for the log).

The hierarchy (the models are datasette's ``Base400`` and httpx's documented exception tree)::

    KennisbankError                 500  base; also errors of the command line and of start-up
    ├── InvalidInput                400  input that does not validate; ``errors`` maps a field to messages
    │   ├── validation.InputError        a form, API body or import row (forms re-render with 422)
    │   ├── web.params.BadRequest        a query parameter, path id or form version out of shape
    │   └── importing.ImportFailed       a file that was not imported (the command line)
    ├── PermissionDenied            403  the actor may not do this (the service audited it)
    │   ├── collaborations.CollaborationDenied
    │   └── personal_data.ErasureRefused
    ├── NotFound                    404  no such object, or one the viewer may not know of
    │   ├── initiatives.InitiativeNotFound
    │   ├── matches.MatchNotFound
    │   ├── collaborations.CollaborationNotFound
    │   └── accounts.AccountNotFound
    ├── Conflict                    409  the change conflicts with the stored state
    │   └── StaleVersion            412  someone else saved after the client read its version
    │       ├── initiatives.VersionConflict
    │       └── collaborations.CollaborationConflict
    ├── PreconditionFailed          412  an ``If-Match`` that names no version of ours
    │   └── web.params.VersionMalformed
    ├── PreconditionRequired        428  a change without ``If-Match``
    │   └── web.params.VersionMissing
    ├── Unavailable                 503  a service the platform depends on does not answer
    │   └── mail.SendFailed
    ├── settings.SettingsError           invalid settings at start-up (the process stops)
    ├── backup.BackupError               a backup or restore that could not be done (the command line)
    ├── db.MigrationFailed               a migration the database refused (it stays at the one before)
    └── oidc.OIDCError                   a login through the identity provider that failed

``initiatives`` and ``matches`` raise `PermissionDenied` itself. `search.SearchUnavailable` belongs
to the search library (which does not import the platform) and is answered where it is caught.
"""

from __future__ import annotations

from typing import ClassVar


class KennisbankError(Exception):
    """Base of every deliberate Kennisbank error: an HTTP status and a Dutch title and detail."""

    status: ClassVar[int] = 500
    title: ClassVar[str] = "Interne fout"
    #: The explanation when the instance gives none (problem+json ``detail``).
    default_detail: ClassVar[str] = "Er ging iets mis aan onze kant. Probeer het later opnieuw."
    #: The sentence the HTML error page shows (the pages say less than the API about what exists).
    page_message: ClassVar[str] = ""

    def __init__(
        self,
        *args: object,
        detail: str | None = None,
        title: str | None = None,
        errors: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(*args)
        self.detail = detail if detail is not None else self.default_detail
        if title is not None:
            self.title = title  # type: ignore[misc]  # an instance may name itself more precisely
        self.errors: dict[str, list[str]] = errors or {}
        self.headers: dict[str, str] = headers or {}

    def __str__(self) -> str:
        return super().__str__() or self.detail


class InvalidInput(KennisbankError):
    """Input that does not validate; ``errors`` maps a field ("" for the whole) to Dutch messages."""

    status = 400
    title = "Ongeldige invoer"
    default_detail = "Een of meer velden zijn niet goed ingevuld."


class PermissionDenied(KennisbankError):
    """The actor may not do this. The service that refuses records it in the audit log."""

    status = 403
    title = "Geen toegang"
    default_detail = "U hebt geen rechten voor deze handeling."
    page_message = "U hebt geen rechten voor deze handeling."


class NotFound(KennisbankError):
    """No such object (or one the viewer may not know exists)."""

    status = 404
    title = "Niet gevonden"
    default_detail = "Dit bestaat niet (meer)."


class Conflict(KennisbankError):
    """The change conflicts with what is stored."""

    status = 409
    title = "Conflict"
    default_detail = "De wijziging botst met wat er al is opgeslagen."


class StaleVersion(Conflict):
    """Someone else saved after the client read the version it names: 412 with the current ETag."""

    status = 412
    title = "Versieconflict"

    #: The detail, with ``{version}`` for the current version.
    detail_template: ClassVar[str] = "Het is intussen gewijzigd (nu versie {version}). Haal het opnieuw op."

    def __init__(self, current_version: int) -> None:
        self.current_version = current_version
        super().__init__(
            f"changed meanwhile (now at version {current_version})",
            detail=self.detail_template.format(version=current_version),
            headers={"ETag": f'"{current_version}"'},
        )


class PreconditionFailed(KennisbankError):
    status = 412
    title = "Ongeldige versie"
    default_detail = 'If-Match moet één versie noemen, zoals If-Match: "3" (de ETag van GET).'


class PreconditionRequired(KennisbankError):
    status = 428
    title = "Versie vereist"
    default_detail = "Stuur de header If-Match mee met de versie die u hebt opgehaald (de ETag van GET)."


class Unavailable(KennisbankError):
    status = 503
    title = "Tijdelijk niet beschikbaar"
    default_detail = "Een onderdeel van de Kennisbank is tijdelijk niet beschikbaar. Probeer het later opnieuw."
