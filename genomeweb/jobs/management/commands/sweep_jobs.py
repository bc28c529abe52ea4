from django.core.management.base import BaseCommand

from genomeweb.jobs.sweep import sweep_jobs


class Command(BaseCommand):
    help = "Send lost queued jobs again; requeue or fail running jobs whose worker went silent."

    def handle(self, *args, **options) -> None:
        report = sweep_jobs()
        self.stdout.write(
            f"resent {report.resent}, requeued {report.requeued}, failed {report.failed}"
        )
