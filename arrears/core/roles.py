"""Roles are auth groups; what each may do is given by model permissions (see ROLE_PERMISSIONS)."""

COLLECTOR = "collector"
FRONT_DESK = "front_desk"
MANAGER = "manager"
FINANCE = "finance"
LEGAL = "legal"
ADMIN = "admin"

ROLE_LABELS = {
    COLLECTOR: "催收员（客服/管家）",
    FRONT_DESK: "前台/门岗/车管",
    MANAGER: "片区/项目经理",
    FINANCE: "财务",
    LEGAL: "法务",
    ADMIN: "系统管理员",
}

_VIEW_ALL = [
    "estate.view_company", "estate.view_community", "estate.view_building", "estate.view_unit", "estate.view_owner",
    "estate.view_ownership", "estate.view_contact", "estate.view_vehicle", "ledger.view_chargetype", "ledger.view_tariff",
    "ledger.view_charge", "ledger.view_payment", "ledger.view_allocation", "ledger.view_waiver", "ledger.view_paymentreversal",
    "estate.view_serviceticket", "collection.view_case", "collection.view_task", "collection.view_contactattempt",
    "collection.view_promise", "collection.view_instalmentplan", "collection.view_ownerprofile", "collection.view_script",
    "collection.view_collectionpolicy", "collection.view_ladderstep", "collection.view_outgoingmessage",
    "collection.view_chargedispute", "collection.view_limitationevent", "collection.view_limitationproof",
    "collection.view_attemptattachment", "notices.view_noticetemplate",
    "notices.view_letter", "notices.view_letterbatch", "notices.view_messageevent", "notices.view_deliverycorrection",
    "portal.view_paymentorder", "portal.view_paymentnotification", "portal.view_receipt", "portal.view_reversalrequest",
    "portal.view_instalmentrequest", "portal.view_complaint", "portal.view_surveyresponse", "portal.view_feecomposition",
    "legal.view_matter", "legal.view_matterstage", "legal.view_mattercost", "legal.view_award",
    "legal.view_communitydocument", "legal.view_publicnotice", "legal.view_publicnoticeentry",
    "legal.view_documenttemplate", "legal.view_legalpolicy",
    "ledger.view_incentiveprogramme", "ledger.view_incentivegrant", "ledger.view_prepayaward",
]
# Answering what owners send from the portal: instalment requests and complaints.
_OWNER_REQUESTS = ["portal.change_instalmentrequest", "portal.change_complaint", "portal.revoke_statement_link"]
# The cashier desk: take a payment (ledger.add_payment), ask for a reversal; deciding one is
# ledger.add_paymentreversal and never the asker's own (four eyes).
_CASHIER = ["ledger.add_payment", "portal.add_receipt", "portal.add_reversalrequest"]
# Printing collection letters, recording their delivery, resending a failed message.
_LETTERS = ["notices.add_letterbatch", "notices.change_letter", "collection.change_outgoingmessage"]

# Working a case: log attempts, promises, plans and disputes, judge the owner's persona.
_COLLECT = [
    "collection.add_contactattempt", "collection.add_promise", "collection.add_instalmentplan",
    "collection.change_ownerprofile", "collection.change_task", "collection.add_chargedispute",
    "estate.add_serviceticket", "estate.change_serviceticket", "collection.add_attemptattachment",
    "collection.record_reminder",
]
# Proving limitation restarts (待补证据), recording a suit or the owner's written acknowledgement.
_LIMITATION = ["collection.add_limitationproof", "collection.add_limitationevent"]
# The legal desk: open and walk matters, record their costs and awards (posting an award is a
# manager's second look: legal.approve_award), upload the community's contract, edit the templates.
_LEGAL_DESK = ["legal.add_matter", "legal.change_matter", "legal.add_matterstage", "legal.add_mattercost",
               "legal.add_award", "legal.add_communitydocument", "legal.add_documenttemplate",
               "legal.change_documenttemplate"]

ROLE_PERMISSIONS = {
    COLLECTOR: _VIEW_ALL + _COLLECT + _OWNER_REQUESTS + ["ledger.add_waiver", "estate.add_contact", "estate.change_contact",
                                       "notices.change_letter", "collection.change_outgoingmessage",
                                       "insights.view_target"],  # their own targets and attainment
    # The front desk learns only "in arrears, remind politely": no amounts, no ledger.
    # It records "reminded in person at the gate / parking / desk" (⑦), through the guard.
    FRONT_DESK: ["estate.view_unit", "estate.view_building", "estate.view_community", "collection.record_reminder"],
    MANAGER: _VIEW_ALL + _COLLECT + _OWNER_REQUESTS + [
        "ledger.add_paymentreversal", "portal.change_reversalrequest", "portal.change_feecomposition",
        "portal.add_feecomposition",
        "ledger.add_waiver", "ledger.change_waiver", "ledger.add_tariff", "ledger.change_tariff",
        "collection.change_collectionpolicy", "collection.add_ladderstep", "collection.change_ladderstep",
        "collection.change_instalmentplan", "collection.change_chargedispute", "collection.add_collectorassignment",
        "collection.change_collectorassignment", "collection.delete_collectorassignment", "collection.view_collectorassignment",
        "collection.add_script", "collection.change_script", "estate.assign_serviceticket",
        *_LETTERS, "notices.issue_lawyer_letter", "notices.override_lawyer_limit", "notices.add_noticetemplate",
        "notices.change_noticetemplate", *_LIMITATION,
        # The State Council's holiday notice for a year: entered and confirmed by a manager or an admin.
        "collection.view_holidayarrangement", "collection.add_holidayarrangement",
        "collection.change_holidayarrangement",
        "collection.view_compliance",  # the compliance page: contacts logged against a contact rule
        "estate.change_contact", "estate.authorise_disclosure",  # the owner's own number, the written authorisation
        # Four eyes on what a court decided before it reaches the ledger; the public notice (公示),
        # prepared by one manager and approved by another, where the company allows it.
        "legal.approve_award", "legal.prepare_public_notice", "legal.approve_public_notice",
        "legal.add_communitydocument", "legal.change_legalpolicy",
        # The month's and quarter's targets of the team (insights.targets): set by a manager.
        "insights.view_target", "insights.add_target", "insights.change_target",
        # Incentives (seed 000): a manager opens and ends a community's programmes.
        "ledger.add_incentiveprogramme", "ledger.change_incentiveprogramme",
    ],
    FINANCE: _VIEW_ALL + _CASHIER + [
        "ledger.add_paymentreversal", "portal.change_reversalrequest", "portal.add_feecomposition",
        "portal.change_feecomposition", "ledger.add_charge", "ledger.add_tariff", "ledger.change_tariff",
        "ledger.change_waiver", "estate.add_unit", "estate.change_unit", "estate.add_owner", "estate.change_owner",
        "estate.add_ownership", "estate.change_ownership",
    ],
    LEGAL: _VIEW_ALL + ["collection.add_contactattempt", "collection.change_task", "collection.add_attemptattachment",
                        *_LIMITATION, *_LETTERS, *_LEGAL_DESK, "notices.issue_lawyer_letter", "estate.change_contact",
                        "estate.authorise_disclosure"],
    ADMIN: None,  # every permission
}


# -- how a staff member is named to owners ---------------------------------------------------------

NAMELESS_STAFF = "工作人员"  # said to an owner when a staff member has no real name on file


def _profile(user):
    try:
        return user.staff_profile
    except AttributeError:  # no profile row yet (RelatedObjectDoesNotExist is an AttributeError)
        return None


def real_name(user) -> str:
    """The name on file in Chinese order, family name first (李 + 明 → 李明); "" when none.

    Latin names keep their own order and a space (Ann + Lee → Ann Lee).
    """
    if user is None:
        return ""
    return join_name(user.last_name, user.first_name)


def join_name(family: str | None, given: str | None) -> str:
    """Family and given name as one name: 李 + 明 → 李明, Ann + Lee → Ann Lee (for rows read with .values())."""
    family, given = (family or "").strip(), (given or "").strip()
    if family.isascii() and given.isascii() and family and given:
        return f"{given} {family}"
    return f"{family}{given}"


def staff_label(user, *, nobody: str = "—") -> str:
    """A colleague as staff see them: the real name family first (李明), else the login; `nobody` for None.

    The one place staff names are formatted for staff (pages, exports, receipts' operator lines use
    `staff_name`): Django's `get_full_name()` prints Western order ("明 李") and is not used.
    """
    if user is None:
        return nobody
    return real_name(user) or user.get_username()


def staff_name(user, *, fallback: str = NAMELESS_STAFF) -> str:
    """What an owner is told a staff member is called: the real name, else their title, else `fallback`.

    Never the login name or a role code ("collector"): those mean nothing to an owner.
    """
    name = real_name(user)
    if name:
        return name
    profile = _profile(user) if user is not None else None
    return (profile.title.strip() if profile else "") or fallback


def staff_phone(user, *, fallback: str = "") -> str:
    """The number an owner rings for this staff member: office phone (or `fallback`) and extension."""
    profile = _profile(user) if user is not None else None
    if profile is None:
        return fallback
    phone = profile.office_phone.strip() or fallback
    extension = profile.extension.strip()
    return f"{phone} 转 {extension}" if phone and extension else phone
