"""Staff's own words never stay in reporting: a reason's `note` parameter (why staff cancelled a
request or moved a case up) may name or describe a resident, as the events' declared personal
`note` fields may (those never reach reporting: it reads the public forms)."""
from shared.reasons import text


def public_params(params: dict | None) -> dict:
    """A reason's parameters without staff's own words (`note`): what reporting may keep."""
    return {name: value for name, value in (params or {}).items() if name != "note"}


def without_notes(body: dict) -> dict:
    """An event's public form as reporting keeps it: a reason with a note is worded again from
    its code and the parameters left (the note was in the English sentence too); a code without
    wording keeps only the code."""
    params = body.get("reason_params")
    if not isinstance(params, dict) or "note" not in params:
        return body
    kept = public_params(params)
    reason = text(body.get("reason_code"), kept, "en") or body.get("reason_code") or ""
    return {**body, "reason_params": kept, "reason": reason}
