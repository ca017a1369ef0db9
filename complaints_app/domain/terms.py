"""The app's fixed vocabularies (statuses, channels, categories, letter and task states...) in the reader's
language. Stored values stay as they are (the API and the CSV give them raw); pages show these words."""

from __future__ import annotations

from datetime import datetime

from babel import Locale
from babel.dates import format_date, format_time
from flask_babel import lazy_pgettext

TERMS = {
    "status": {
        "open": lazy_pgettext("status", "open"), "escalated": lazy_pgettext("status", "escalated"),
        "awaiting_customer": lazy_pgettext("status", "awaiting customer"),
        "resolved": lazy_pgettext("status", "resolved"), "closed": lazy_pgettext("status", "closed"),
        "withdrawn": lazy_pgettext("status", "withdrawn"), "merged": lazy_pgettext("status", "merged")},
    "channel": {
        "phone": lazy_pgettext("channel", "phone"), "email": lazy_pgettext("channel", "e-mail"),
        "web": lazy_pgettext("channel", "web"), "chat": lazy_pgettext("channel", "chat"),
        "letter": lazy_pgettext("channel", "letter"), "in_person": lazy_pgettext("channel", "in person")},
    "category": {
        "product": lazy_pgettext("category", "product"), "service": lazy_pgettext("category", "service"),
        "billing": lazy_pgettext("category", "billing"), "delivery": lazy_pgettext("category", "delivery"),
        "staff": lazy_pgettext("category", "staff"), "other": lazy_pgettext("category", "other")},
    "regime": {
        "consumer": lazy_pgettext("regime", "consumer"), "financial": lazy_pgettext("regime", "financial"),
        "payment_services": lazy_pgettext("regime", "payment services")},
    "language": {
        "pl": lazy_pgettext("language", "Polish"), "en": lazy_pgettext("language", "English"),
        "uk": lazy_pgettext("language", "Ukrainian")},
    "letter_state": {
        "draft": lazy_pgettext("letter", "draft"), "rendered": lazy_pgettext("letter", "ready"),
        "sent": lazy_pgettext("letter", "sent"), "failed": lazy_pgettext("letter", "failed")},
    "letter_type": {
        "acknowledgement": lazy_pgettext("letter", "acknowledgement"),
        "escalation_notice": lazy_pgettext("letter", "escalation notice"),
        "holding_letter": lazy_pgettext("letter", "holding letter"),
        "final_response": lazy_pgettext("letter", "final response"),
        "summary_resolution": lazy_pgettext("letter", "summary resolution"),
        "withdrawal_confirmation": lazy_pgettext("letter", "withdrawal confirmation")},
    "compensation_state": {
        "proposed": lazy_pgettext("compensation", "proposed"), "approved": lazy_pgettext("compensation", "approved"),
        "rejected": lazy_pgettext("compensation", "rejected"), "paid": lazy_pgettext("compensation", "paid")},
    "priority": {
        "urgent": lazy_pgettext("priority", "urgent"), "high": lazy_pgettext("priority", "high"),
        "normal": lazy_pgettext("priority", "normal"), "low": lazy_pgettext("priority", "low")},
    "role": {
        "staff": lazy_pgettext("role", "staff"), "supervisor": lazy_pgettext("role", "supervisor"),
        "manager": lazy_pgettext("role", "manager"), "customer_centre": lazy_pgettext("role", "customer centre"),
        "process_owner": lazy_pgettext("role", "process owner"), "admin": lazy_pgettext("role", "admin")},
    "team": {  # the shipped triage table's teams; a team a new table names shows as written
        "front_office": lazy_pgettext("team", "front office"), "billing_team": lazy_pgettext("team", "billing"),
        "logistics": lazy_pgettext("team", "logistics"), "financial_desk": lazy_pgettext("team", "financial desk")},
    "rule": {  # statutory deadline rules (domain/deadlines.RULES), by what they give the customer
        "pl-consumer-14d": lazy_pgettext("rule", "14 days, consumer complaint"),
        "pl-financial-30d": lazy_pgettext("rule", "30 days, financial-market complaint"),
        "pl-financial-60d": lazy_pgettext("rule", "60 days, complex financial-market complaint"),
        "uk-disp-summary-3bd": lazy_pgettext("rule", "3 business days, summary resolution (FCA)"),
        "uk-disp-final-8w": lazy_pgettext("rule", "8 weeks, final response (FCA)"),
        "uk-psd-15bd": lazy_pgettext("rule", "15 business days, payment services (FCA)"),
        "uk-psd-35bd": lazy_pgettext("rule", "35 business days, payment services, exceptional (FCA)"),
        "ua-appeal-15d": lazy_pgettext("rule", "15 days, citizen's appeal"),
        "ua-appeal-1m": lazy_pgettext("rule", "1 month, citizen's appeal"),
        "ua-appeal-45d": lazy_pgettext("rule", "45 days at most, citizen's appeal"),
        "internal-sla": lazy_pgettext("rule", "internal target, no statutory deadline")},
    "element_type": {  # the engine's names of diagram elements (workflow.inspect.describe_spec)
        "UserTask": lazy_pgettext("element", "user task"), "ManualTask": lazy_pgettext("element", "manual task"),
        "ServiceTask": lazy_pgettext("element", "service task"), "ScriptTask": lazy_pgettext("element", "script task"),
        "BusinessRuleTask": lazy_pgettext("element", "decision task"), "SendTask": lazy_pgettext("element", "send task"),
        "ReceiveTask": lazy_pgettext("element", "receive task"), "NoneTask": lazy_pgettext("element", "task"),
        "StartEvent": lazy_pgettext("element", "start event"), "EndEvent": lazy_pgettext("element", "end event"),
        "BoundaryEvent": lazy_pgettext("element", "boundary event"),
        "IntermediateCatchEvent": lazy_pgettext("element", "intermediate catch event"),
        "IntermediateThrowEvent": lazy_pgettext("element", "intermediate throw event"),
        "ExclusiveGateway": lazy_pgettext("element", "exclusive gateway"),
        "ParallelGateway": lazy_pgettext("element", "parallel gateway"),
        "InclusiveGateway": lazy_pgettext("element", "inclusive gateway"),
        "EventBasedGateway": lazy_pgettext("element", "event-based gateway"),
        "SubWorkflowTask": lazy_pgettext("element", "subprocess"), "CallActivity": lazy_pgettext("element", "call activity"),
        "EventSubprocess": lazy_pgettext("element", "event subprocess"),
        "TransactionSubprocess": lazy_pgettext("element", "transaction")},
    "aspect": {  # what a version's change to an element is (domain.versions.ASPECTS)
        "name": lazy_pgettext("aspect", "name"), "type": lazy_pgettext("aspect", "type"),
        "lane": lazy_pgettext("aspect", "lane"), "topic": lazy_pgettext("aspect", "service"),
        "form": lazy_pgettext("aspect", "form"), "expression": lazy_pgettext("aspect", "timer or message"),
        "script": lazy_pgettext("aspect", "script"), "conditions": lazy_pgettext("aspect", "conditions"),
        "properties": lazy_pgettext("aspect", "properties")},
    "task_state": {
        "open": lazy_pgettext("task", "open"), "completed": lazy_pgettext("task", "completed"),
        "cancelled": lazy_pgettext("task", "cancelled")},
}


def term(kind: str, value: str | None) -> str:
    """The word for ``value`` of vocabulary ``kind``; a value the app does not know (a status a new diagram
    uses, a letter type added under letters/) as stored, underscores as spaces."""
    known = TERMS.get(kind, {}).get(value or "")
    return str(known) if known is not None else (value or "").replace("_", " ")



def written_moment(local: datetime, locale: Locale | str) -> str:
    """A moment already in the reader's time zone, as pages and alerts write it: the day, then hours and
    minutes ("3 gru 2026, 15:04"; "Dec 3, 2026, 3:04 PM")."""
    locale = Locale.parse(locale)
    return locale.datetime_formats["medium"].replace("'", "").format(
        format_time(local, "short", locale=locale), format_date(local, "medium", locale=locale))
