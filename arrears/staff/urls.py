from django.urls import path

from arrears.staff import (
    cashier_views,
    collection_views,
    letters_views,
    notices_views,
    portal_views,
    proof_views,
    views,
)

app_name = "staff"

urlpatterns = [
    path("", views.home, name="home"),
    path("units/", views.search, name="search"),
    path("units/<int:pk>/", views.unit_detail, name="unit"),
    path("import/", views.import_page, name="import"),
    path("import/jobs/<int:pk>/", views.import_job_status, name="import-job"),
    path("workbench/", collection_views.workbench, name="workbench"),
    path("workbench/tasks/<int:pk>/log/", collection_views.task_log, name="task_log"),
    path("cases/", collection_views.cases, name="cases"),
    path("cases/<int:pk>/attempts/", collection_views.case_attempt, name="case_attempt"),
    path("cases/<int:pk>/promises/", collection_views.case_promise, name="case_promise"),
    path("cases/<int:pk>/profile/", collection_views.case_profile, name="case_profile"),
    path("attempts/<int:pk>/correct/", collection_views.attempt_correct, name="attempt_correct"),
    path("compliance/", collection_views.compliance_page, name="compliance"),
    path("desk/", collection_views.desk, name="desk"),
    path("desk/cases/<int:pk>/remind/", collection_views.desk_remind, name="desk_remind"),
    # limitation proof (待补证据)
    path("legal/evidence-needed/", proof_views.evidence_needed, name="evidence_needed"),
    path("legal/evidence-needed/<int:pk>/proof/", proof_views.event_proof, name="event_proof"),
    path("units/<int:pk>/attachments/", proof_views.unit_attachment, name="unit_attachment"),
    path("cases/<int:pk>/acknowledgement/", proof_views.case_acknowledgement, name="case_acknowledgement"),
    path("cases/<int:pk>/suit/", proof_views.case_suit, name="case_suit"),
    path("evidence/<str:what>/<int:pk>/", proof_views.evidence_file, name="evidence_file"),
    path("letters/", letters_views.letters, name="letters"),
    path("letters/issue/", letters_views.issue, name="letters_issue"),
    path("letters/batches/<int:pk>/", letters_views.batch_detail, name="letter_batch"),
    path("letters/batches/<int:pk>/<str:what>/", letters_views.batch_file, name="letter_batch_file"),
    path("letters/<int:pk>/", letters_views.letter_detail, name="letter"),
    path("letters/<int:pk>/pdf/", letters_views.letter_file, name="letter_pdf"),
    path("letters/<int:pk>/proof/", letters_views.letter_file, {"what": "proof"}, name="letter_proof"),
    path("letters/<int:pk>/deliver/", letters_views.deliver, name="letter_deliver"),
    path("letters/<int:pk>/correct-delivery/", letters_views.correct_delivery, name="letter_correct_delivery"),
    path("outbox/", notices_views.outbox_list, name="outbox"),
    path("outbox/dispatch/", notices_views.outbox_dispatch, name="outbox_dispatch"),
    path("outbox/<int:pk>/", notices_views.outbox_message, name="outbox_message"),
    path("outbox/<int:pk>/resend/", notices_views.outbox_resend, name="outbox_resend"),
    path("notice-templates/", notices_views.template_list, name="templates"),
    path("notice-templates/<int:pk>/", notices_views.template_edit, name="template_edit"),
    path("notice-templates/<int:pk>/override/", notices_views.template_override, name="template_override"),
    path("notices/receipts/<str:provider>/<str:token>/", notices_views.receipts, name="receipts"),
    # owner requests (portal)
    path("owner-requests/", portal_views.owner_requests_page, name="owner_requests"),
    path("owner-requests/instalments/<int:pk>/", portal_views.instalment_decide, name="instalment_decide"),
    path("owner-requests/complaints/<int:pk>/", portal_views.complaint_resolve, name="complaint_resolve"),
    path("units/<int:unit_pk>/owners/<int:owner_pk>/revoke-links/", portal_views.revoke_links, name="revoke_links"),
    # cashier
    path("units/<int:pk>/cashier/", cashier_views.cashier, name="cashier"),
    path("receipts/<int:pk>.pdf", cashier_views.receipt_pdf, name="receipt_pdf"),
    path("cashier/reversals/", cashier_views.reversals, name="reversals"),
]
