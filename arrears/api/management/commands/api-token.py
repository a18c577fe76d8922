from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from arrears.api import tokens
from arrears.core.errors import DomainError


class Command(BaseCommand):
    help = ("为用户创建 API 令牌并打印（只打印这一次）/ Create an API token for USERNAME and print it (once). "
            "The token acts as that user, with the user's roles and scope.")

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--days", type=int, default=None,
                            help=f"有效天数 / days valid (default ARREARS_API_TOKEN_DAYS, at most {tokens.MAX_DAYS})")
        parser.add_argument("--name", default="命令行创建", help="用途 / what the token is for")

    def handle(self, *args, username, days=None, name="命令行创建", **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"没有这个用户 / no such user: {username}")
        try:
            issued = tokens.issue(user=user, name=name, days=days)
        except DomainError as error:
            raise CommandError(str(error)) from error
        self.stderr.write(f"到期 / expires {issued.token.expires_at:%Y-%m-%d %H:%M %Z}")
        self.stdout.write(issued.raw)
