"""The serving policy's texts, for the check-your-file page (which renders every language the
policy declares, in its order, and loads nothing from elsewhere).

``GET /v1/policy``         the policy's id, name, languages and display texts (:meth:`Policy.page_data`)
``GET /v1/policy/advice``  ``?verdict=&status=&label=&finding=`` (``finding`` repeatable): the advice
                           for those fields of a check answer in every language, ``{"advice": {lang: text}}``

The check answer itself (the ``aigc-check/1`` contract) carries the advice in one language only.
Register with ``routes=[..., *policy_routes()]`` in :func:`aigc_check.service.app.create_app`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..policy import STATUSES, VERDICTS, Policy, load_policy
from .errors import BadRequestError

POLICY_PATH = "/v1/policy"
ADVICE_PATH = "/v1/policy/advice"
MAX_FINDINGS = 64  # a check answer has a handful; a longer query is not one
HEADERS = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}


def serving_policy(request: Request) -> Policy:
    """The policy the service checks with (``--policy``); loaded once per process."""
    return load_policy(request.app.state.service.config.check_options.policy)


async def policy_texts(request: Request) -> Response:
    return JSONResponse(serving_policy(request).page_data(), headers=HEADERS)


async def policy_advice(request: Request) -> Response:
    policy = serving_policy(request)
    query = request.query_params
    verdict = query.get("verdict", "")
    if verdict not in VERDICTS:
        raise BadRequestError(f"verdict must be one of {', '.join(VERDICTS)}, not {verdict!r}", "bad-verdict")
    status = query.get("status", "")
    if status not in STATUSES:
        raise BadRequestError(f"status must be one of {', '.join(STATUSES)}, not {status!r}", "bad-status")
    label = query.get("label") or None
    if label is not None and label not in policy.data["label_text"]:
        raise BadRequestError(f"label {label!r} is not a label of policy {policy.id}", "bad-label")
    findings = query.getlist("finding")
    if len(findings) > MAX_FINDINGS:
        raise BadRequestError(f"at most {MAX_FINDINGS} finding codes", "too-many-findings")
    advice = policy.advice_texts(verdict, status, label, findings)
    return JSONResponse({"policy": policy.id, "languages": list(policy.languages), "advice": advice}, headers=HEADERS)


def policy_routes() -> list[Route]:
    return [
        Route(POLICY_PATH, policy_texts, methods=["GET"]),
        Route(ADVICE_PATH, policy_advice, methods=["GET"]),
    ]
