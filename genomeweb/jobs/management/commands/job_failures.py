from django.core.management.base import BaseCommand

from genomeweb.jobs.models import Job, JobStatus


class Command(BaseCommand):
    help = (
        "List recently failed jobs with the reason for the administrator (storage full, "
        "out of memory, worker crashes with the records they were on) and the technical detail."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--limit", type=int, default=20, help="How many (newest first)")

    def handle(self, *args, limit: int, **options) -> None:
        failed = Job.objects.filter(status=JobStatus.FAILED).order_by("-finished_at")[:limit]
        for job in failed.select_related("workspace"):
            self.stdout.write(
                f"{job.finished_at:%Y-%m-%d %H:%M:%S} {job.code} {job.kind} "
                f"[{job.workspace.name}] {job.get_failure_reason_display() or 'unclassified'}"
            )
            if job.failure_detail:
                self.stdout.write(f"    {job.failure_detail}")
            for crash in job.crashes:
                where = f" while on {crash['working_on']}" if crash.get("working_on") else ""
                self.stdout.write(f"    attempt {crash['attempt']}: {crash['how']}{where}")
