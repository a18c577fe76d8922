from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from arrears.core.errors import DomainError
from arrears.demo import history
from arrears.demo.collection import seed_collection
from arrears.demo.deployment import refuse_on_deployment
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
        write(f"演示数据已生成 / demo data built in {result.seconds:.1f} s (seed {seed})")
        write(f"  房屋 / units {result.units}，业主 / owners {result.owners}")
        write(f"  应收 / charges {result.charges} 笔，¥{result.billed:,.2f}")
        write(f"  缴费 / payments {result.payments} 笔，¥{result.paid:,.2f}；冲抵 / allocations {result.allocations}")
        write(f"  欠费本金 / principal overdue ¥{result.principal_overdue:,.2f}，违约金 / late fees ¥{result.late_fee:,.2f}，"
              f"预存 / prepaid ¥{result.prepaid:,.2f}")
        write(f"  欠费率（按户）/ arrears rate by households: {result.arrears_rate}% "
              f"({result.units_in_arrears} / {result.units_owned})")
        # Staff first: the cases the history opens go to their building's collector.
        staff = ensure_demo_staff()
        seeded = seed_collection(result.owner_personas, today=timezone.localdate(), seed=seed)
        write(f"  员工 / staff {len(staff)}；催收 / collection: 在催案件 / open cases {seeded['cases']}，"
              f"催收记录 / attempts {seeded['attempts']}，违约承诺 / broken promises {seeded['promises_broken']}")
        personas = "，".join(f"{history.PERSONAS[key]} {count}" for key, count in sorted(result.personas.items()))
        write(f"  业主类型 / personas: {personas}")
