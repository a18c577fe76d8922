"""The default escalation ladder (DESIGN.md §2, from the seeds), created with every policy."""

from decimal import Decimal

from django.utils.translation import gettext_noop as N_

# Step names are stored Chinese (the company may rename them); a page passes a name through
# gettext, so a default name reads in the viewer's language and a company's own name as written.
FOLLOW_UP_NAME = N_("函件静默期结束后跟进")

# (code, name, day, channel, technique, template, script, extra conditions)
DEFAULT_LADDER = [
    ("pre_due_sms", N_("到期前提醒短信"), -7, "sms", 1, "pre_due", "", {"credit": "not_exhausted"}),
    ("pre_due_credit_sms", N_("预存用完提醒短信"), -7, "sms", 1, "pre_due_credit_exhausted", "", {"credit": "exhausted"}),
    ("overdue_sms", N_("逾期提醒短信"), 1, "sms", 1, "overdue", "", {}),
    ("call_3", N_("电话提醒（1–5 天）"), 3, "call", 1, "", "reminder_call", {}),
    ("sms_10", N_("再次提醒短信（6–10 天）"), 10, "sms", 1, "overdue_second", "", {}),
    ("call_10", N_("电话提醒（6–10 天）"), 10, "call", 2, "", "promise_call", {}),
    ("call_20", N_("电话跟进"), 20, "call", 2, "", "promise_call", {}),
    ("visit_30", N_("上门拜访"), 30, "visit", 1, "", "visit_reminder", {}),
    ("front_desk_flag", N_("前台、门岗、车管提醒（全民总动员）"), 30, "front_desk_flag", 7, "", "front_desk_polite", {}),
    ("heads_up_60", N_("发函前私下告知"), 60, "call", 8, "", "letter_heads_up", {}),
    ("letter_1", N_("催费函（第一次）"), 60, "letter", 8, "collection_letter", "", {
        "requires_steps": "heads_up_60", "days_after_required": 1, "quiet_days": 7,
    }),
    # ⑧: no contact for 7 days after a letter reaches the owner, then follow up (the day after).
    ("letter_1_follow_up", FOLLOW_UP_NAME, 60, "call", 8, "", "letter_follow_up", {
        "requires_steps": "letter_1", "days_after_required": 8, "after_delivery": True,
    }),
    ("letter_2", N_("催费函（第二次）"), 90, "letter", 8, "collection_letter_2", "", {
        "requires_steps": "letter_1", "days_after_required": 7, "no_payment_since_required": True, "quiet_days": 7,
    }),
    ("letter_2_follow_up", FOLLOW_UP_NAME, 90, "call", 8, "", "letter_follow_up", {
        "requires_steps": "letter_2", "days_after_required": 8, "after_delivery": True,
    }),
    # ⑨, private before formal: the owner hears from us before a lawyer writes, on the same conditions.
    ("lawyer_heads_up", N_("律师函前私下告知"), 115, "call", 9, "", "lawyer_heads_up", {
        "requires_steps": "letter_2", "days_after_required": 7, "no_payment_since_required": True,
        "lawyer_letter_eligibility": True, "min_months": 3,
    }),
    ("lawyer_letter", N_("律师函（候选）"), 120, "lawyer_letter", 9, "lawyer_letter", "", {
        "requires_steps": "lawyer_heads_up", "days_after_required": 5, "no_payment_since_required": True,
        "lawyer_letter_eligibility": True, "min_months": 3, "quiet_days": 14,
    }),
    # The lawyer letter's quiet period runs to its deadline (Case.quiet_until): the call comes the day after.
    ("lawyer_letter_follow_up", FOLLOW_UP_NAME, 120, "call", 9, "", "lawyer_letter_follow_up", {
        "requires_steps": "lawyer_letter", "days_after_required": 1, "after_delivery": True,
    }),
    ("legal_review", N_("法务审查"), 150, "legal_review", None, "", "", {"requires_steps": "letter_1"}),
]


def ladder_rows() -> list[dict]:
    """Field values of the default ladder's steps, for `LadderStep(policy=…, **row)`."""
    rows = []
    for code, name, day, channel, technique, template, script, extra in DEFAULT_LADDER:
        row = {
            "code": code, "name": name, "day_offset": day, "channel": channel, "technique": technique,
            "template_code": template, "script_code": script, "min_amount": Decimal("0.00"),
        }
        row.update(extra)
        rows.append(row)
    return rows
