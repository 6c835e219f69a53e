"""`jianguan totp USERNAME`: show a user's current one-time code (for the demo and for
operators enrolling a phone); `--enrol` gives the user a new secret and prints its URI."""

from __future__ import annotations

from typing import Any

import pyotp
from django.core.management.base import BaseCommand, CommandError, CommandParser

from jianguan.core.actor import Actor
from jianguan.org.api import totp_enrol, totp_uri, user_by_username


class Command(BaseCommand):
    help = "动态口令：显示用户当前口令，或 --enrol 重新绑定"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--enrol", action="store_true", help="issue a new secret")

    def handle(self, *args: Any, **options: Any) -> None:
        user = user_by_username(options["username"])
        if user is None:
            raise CommandError(f"没有用户 {options['username']}")
        if options["enrol"]:
            totp_enrol(actor=Actor.system("totp-command"), user=user)
            self.stdout.write(f"新密钥已绑定，请用手机认证器扫描：{totp_uri(user)}")
            return
        if not user.totp_secret:
            raise CommandError(f"{user.username} 尚未绑定动态口令；用 --enrol 绑定")
        self.stdout.write(pyotp.TOTP(user.totp_secret).now())
