import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from arrears.core.errors import DomainError


class Command(BaseCommand):
    help = "每日催收运行（同一日期重复运行不重复生成）/ The daily collection run for a date (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="YYYY-MM-DD（默认今天 / default today）")
        parser.add_argument("--json", action="store_true", help="以 JSON 输出结果 / print the summary as JSON")

    def handle(self, *args, date=None, json=False, **options):
        from arrears.collection.run import run_collection

        try:
            as_of = _parse_date(date) if date else timezone.localdate()
        except ValueError as exc:
            raise CommandError(f"日期格式应为 YYYY-MM-DD / date must be YYYY-MM-DD: {date!r}") from exc
        try:
            summary = run_collection(as_of=as_of)
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        if json:
            self.stdout.write(_dumps(summary.as_dict()))
            return
        self.stdout.write(
            f"{as_of}：在催案件 {summary.open_cases}（新立 {summary.opened}，结案 {summary.closed}），"
            f"执行步骤 {summary.steps}，新任务 {summary.tasks}，待发消息 {summary.messages}（拦截 {summary.blocked_messages}），"
            f"承诺兑现/违约 {summary.promises_kept}/{summary.promises_broken}，分期违约 {summary.plans_breached}，"
            f"时效预警 {summary.limitation_warnings}\n"
            f"{as_of}: {summary.open_cases} open cases ({summary.opened} opened, {summary.closed} closed), "
            f"{summary.steps} steps, {summary.tasks} new tasks, {summary.messages} messages queued "
            f"({summary.blocked_messages} blocked), promises kept/broken {summary.promises_kept}/{summary.promises_broken}, "
            f"{summary.plans_breached} plans breached, {summary.limitation_warnings} limitation warnings"
        )


def _parse_date(text: str) -> date:
    return date.fromisoformat(text.strip())


def _dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False)
