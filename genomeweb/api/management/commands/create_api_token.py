from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from genomeweb.api.models import ApiToken


class Command(BaseCommand):
    help = (
        "Create a personal API token for a user and print its secret (shown only now), as the "
        "'API tokens' page does: for servers without a browser, and scripted demos."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("name", help="Where it will be used, e.g. 'cluster scripts'")

    def handle(self, *args, username: str, name: str, **options) -> None:
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user '{username}'.")
        _, secret = ApiToken.issue(user, name[:100])
        self.stdout.write(secret)
