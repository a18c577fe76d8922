from django.core.management.base import BaseCommand

OUTCOMES = {
    "sent": "已发送 sent", "recovered": "中断后核实为已发 recovered", "retry": "稍后重试 retry", "failed": "失败 failed",
    "unknown": "结果不明 unknown", "blocked": "拦截 blocked", "rescheduled": "改期 rescheduled",
    "cancelled": "取消 cancelled", "skipped": "他人处理中 skipped",
}


class Command(BaseCommand):
    help = "发送到期的待发消息（可重复运行，不会重发）/ Send the outbox messages that are due (safe to rerun)."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=500, help="本次最多处理条数 / at most this many")

    def handle(self, *args, limit=500, **options):
        from arrears.notices.outbox import dispatch

        outcomes = dispatch(limit=limit)
        if not outcomes:
            self.stdout.write("没有到期的消息 / nothing due")
            return
        for name, count in sorted(outcomes.items()):
            self.stdout.write(f"{OUTCOMES.get(name, name)}: {count}")
