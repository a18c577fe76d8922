import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from arrears.core.errors import DomainError
from arrears.core.text import normalise_key
from arrears.estate.models import Company
from arrears.insights import risk


class Command(BaseCommand):
    help = (
        "逾期风险模型 / Early-warning risk model. `risk train [--company NAME] [--cut-off YYYY-MM-DD] [--format "
        "table|json]` fits on the company's history and prints the hold-out report; `risk score [--date YYYY-MM-DD] "
        "[--company NAME]` scores every open owner-unit with the last trained model."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["train", "score"])
        parser.add_argument("--company", help="物业公司名称 / company name (default: every company)")
        parser.add_argument("--cut-off", dest="cut_off", help="训练/检验分界日 / hold-out cut-off, YYYY-MM-DD")
        parser.add_argument("--date", help="数据日期 / as of, YYYY-MM-DD (default today)")
        parser.add_argument("--format", choices=["table", "json"], default="table")

    def handle(self, *args, action, company=None, cut_off=None, date=None, format="table", **options):
        today = _day(date) if date else timezone.localdate()
        companies = Company.objects.order_by("pk")
        if company:
            companies = companies.filter(name=normalise_key(company))
            if not companies.exists():
                raise CommandError(f"没有名为 {company} 的物业公司 / no company named {company!r}")
        try:
            for found in companies:
                if action == "train":
                    report = risk.train(company_id=found.pk, today=today, cut_off=_day(cut_off) if cut_off else None)
                    self.stdout.write(json.dumps(report, ensure_ascii=False, indent=2) if format == "json"
                                      else "\n".join([found.name, *report_lines(report)]))
                else:
                    result = risk.score(company_id=found.pk, as_of=today)
                    self.stdout.write(json.dumps(result, ensure_ascii=False) if format == "json" else
                                      f"{found.name}: 评分 / scored {result['scored']} (model {result['model_id']}; "
                                      f"new {result['created']}, changed {result['updated']}, removed {result['deleted']})")
        except DomainError as exc:
            raise CommandError(exc.message) from exc


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"日期格式应为 YYYY-MM-DD / date must be YYYY-MM-DD: {value!r}") from exc


def report_lines(report: dict) -> list[str]:
    """The hold-out report as a readable table, the models beside the baseline."""
    train, test, validation = report["train"], report["test"], report["validation"]
    lines = [
        f"cut-off {report['cut_off']} · chosen {report['algorithm']} · model {report.get('model_id', '-')}",
        f"train {train['examples']} bills ({train['first_due']} – {train['last_due']}, late {train['late_rate']:.1%})",
        f"test  {test['examples']} bills ({test['first_due']} – {test['last_due']}, late {test['late_rate']:.1%})",
        "validation AUC: " + ", ".join(f"{k[4:]} {v}" for k, v in validation.items() if k.startswith("auc_")),
        f"{'':22}{'AUC':>8}{'P@10%':>8}{'R@10%':>8}{'Brier':>8}",
    ]
    for name, m in report["metrics"].items():
        lines.append(f"{name:22}{_cell(m['auc'])}{_cell(m['top_decile_precision'])}{_cell(m['top_decile_recall'])}"
                     f"{_cell(m['brier'])}")
    clear = report["test_nothing_overdue"]
    lines.append(f"test bills of owners with nothing overdue at prediction: {clear['examples']} ({clear['late']} late)")
    for name, m in clear["metrics"].items():
        lines.append(f"{name:22}{_cell(m['auc'])}{_cell(m['top_decile_precision'])}{_cell(m['top_decile_recall'])}"
                     f"{_cell(m['brier'])}")
    chosen = report["metrics"][report["algorithm"]]["reliability"]
    lines.append(f"reliability ({report['algorithm']}): bin, n, predicted, observed")
    lines += [f"  {row['bin']}  {row['count']:>6}  {_cell(row['mean_predicted'])}  {_cell(row['observed'])}"
              for row in chosen if row["count"]]
    return lines


def _cell(value) -> str:
    return f"{value:>8.4f}" if value is not None else f"{'-':>8}"
