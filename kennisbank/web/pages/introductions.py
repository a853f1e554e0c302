"""The introduction mail in the browser: the coordinator's preview with send and skip, and the
contacts' signed one-click opt-out (reached from the mail, without a login)."""

from __future__ import annotations

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ...digest import mail
from ...initiatives.validation import InputError
from ...matching import introductions
from ..middleware.auth import actor
from ..templating import path_for, render


async def _preview(request: Request, errors: dict[str, list[str]] | None = None, status_code: int = 200) -> Response:
    who = actor(request)
    introduction = await introductions.prepare(who, request.path_params["collaboration_id"])
    settings = request.app.state.settings
    previews = [
        (contact, introduction.text_for(settings, contact, introduction.sender_name))
        for contact in introduction.contacts
    ]
    return render(
        request,
        "collaborations/introduction.html",
        {"introduction": introduction, "previews": previews, "errors": errors or {}},
        status_code=status_code,
    )


async def preview(request: Request) -> Response:
    return await _preview(request)


async def decide(request: Request) -> Response:
    """Send (action=versturen) or skip (action=overslaan) the introduction."""
    collaboration_id = request.path_params["collaboration_id"]
    form = await request.form()
    settings = request.app.state.settings
    try:
        if form.get("action") == "overslaan":
            await introductions.skip(actor(request), collaboration_id)
            notice = "overgeslagen"
        else:
            sender = mail.SMTPSender(settings)
            try:
                report = await introductions.send(actor(request), collaboration_id, settings, sender)
            finally:
                await anyio.to_thread.run_sync(sender.close)
            if report.failed:
                return await _preview(
                    request,
                    {
                        "": [
                            f"Niet iedereen is bereikt ({report.failed} mislukt). Probeer het later opnieuw: "
                            "wie de mail al kreeg, krijgt hem niet nog een keer."
                        ]
                    },
                    status_code=502,
                )
            notice = "verzonden"
    except InputError as exc:
        return await _preview(request, exc.errors, status_code=422)
    return RedirectResponse(
        f"{path_for(request, 'collaboration_detail', collaboration_id=collaboration_id)}?melding={notice}",
        status_code=303,
    )


async def opt_out(request: Request) -> Response:
    """GET asks for confirmation (mail scanners follow links); POST, also RFC 8058's one-click, records it."""
    settings = request.app.state.settings
    token = request.query_params.get("token", "")
    if introductions.opt_out_email(settings, token) is None:
        return render(request, "collaborations/opt_out.html", {"invalid": True}, status_code=400)
    if request.method == "GET":
        return render(request, "collaborations/opt_out.html", {"token": token})
    await introductions.opt_out(settings, token)
    return render(request, "collaborations/opt_out.html", {"done": True})


routes = [
    Route("/samenwerkingen/{collaboration_id:int}/introductie", preview, methods=["GET"], name="introduction"),
    Route("/samenwerkingen/{collaboration_id:int}/introductie", decide, methods=["POST"], name="introduction_decide"),
    Route("/introductie/afmelden", opt_out, methods=["GET", "POST"], name="introduction_opt_out"),
]
