from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext, pgettext

from arrears.core.errors import DomainError
from arrears.core.money import format_yuan
from arrears.demo import history
from arrears.demo.collection import seed_collection
from arrears.demo.deployment import refuse_on_deployment
from arrears.demo.insights import seed_insights
from arrears.demo.legal import seed_legal
from arrears.demo.staff import ensure_demo_staff


class Command(BaseCommand):
    help = "生成演示数据：1 家物业公司、2 个小区、约 N 户、3 年账单与缴费 / Build the demo company with 3 years of history."

    def add_arguments(self, parser):
        parser.add_argument("--units", type=int, default=3000, help="房屋户数 / number of units (default 3000)")
        parser.add_argument("--seed", type=int, default=2026, help="随机种子：相同种子生成相同数据 / same seed, same data")

    def handle(self, *args, units, seed, **options):
        refuse_on_deployment()  # it makes the demo logins too
        try:
            result = history.build_demo(units=units, seed=seed)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        write = self.stdout.write
        # one language, the installation's (LANGUAGE_CODE), like every page
        write(gettext("演示数据已生成，用时 %(seconds)s 秒（种子 %(seed)s）") % {"seconds": f"{result.seconds:.1f}", "seed": seed})
        write(gettext("  房屋 %(units)s 户，业主 %(owners)s 人") % {"units": f"{result.units:,}", "owners": f"{result.owners:,}"})
        write(gettext("  应收 %(count)s 笔，%(amount)s") % {"count": f"{result.charges:,}", "amount": format_yuan(result.billed)})
        write(gettext("  缴费 %(count)s 笔，%(amount)s；冲抵 %(allocations)s 笔") % {
            "count": f"{result.payments:,}", "amount": format_yuan(result.paid), "allocations": f"{result.allocations:,}"})
        write(gettext("  欠费本金 %(principal)s，违约金 %(late_fee)s，预存 %(prepaid)s") % {
            "principal": format_yuan(result.principal_overdue), "late_fee": format_yuan(result.late_fee),
            "prepaid": format_yuan(result.prepaid)})
        write(gettext("  欠费率（按户）%(rate)s%%（%(owing)s / %(owned)s）") % {
            "rate": result.arrears_rate, "owing": result.units_in_arrears, "owned": result.units_owned})
        # Staff first: the cases the history opens go to their building's collector.
        staff = ensure_demo_staff()
        seeded = seed_collection(result.owner_personas, today=timezone.localdate(), seed=seed)
        write(gettext("  员工 %(staff)s 人；在催案件 %(cases)s 件，催收记录 %(attempts)s 条，违约承诺 %(broken)s 个") % {
            "staff": len(staff), "cases": seeded["cases"], "attempts": seeded["attempts"], "broken": seeded["promises_broken"]})
        legal = seed_legal(today=timezone.localdate())
        write(gettext("  法务案件 %(matters)s 件，小区合同文件 %(documents)s 份") % legal)
        insight = seed_insights(today=timezone.localdate())
        write(gettext("  考核目标 %(targets)s 个，优惠活动 %(programmes)s 个，逾期风险模型 %(models)s 个") % {
            "targets": insight["targets"], "programmes": insight["programmes"], "models": len(insight["models"])})
        personas = pgettext("punctuation", "、").join(f"{gettext(history.PERSONAS[key])} {count}"
                                                    for key, count in sorted(result.personas.items()))
        write(gettext("  业主类型：%(personas)s") % {"personas": personas})
