from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand

from genomeweb.catalog.loading import file_sha256, load_genome
from genomeweb.catalog.models import Genome
from genomeweb.workspaces.models import Membership, Role, Workspace

YEAST = settings.BASE_DIR / "data" / "yeast"
DEMO_USER = "demo"
DEMO_PASSWORD = "genomeweb-demo"


class Command(BaseCommand):
    help = "Load the yeast genome and create a demo user and workspace (idempotent)."

    def handle(self, *args, **options) -> None:
        genome = self._load_yeast()
        user = self._demo_user()
        workspace = self._demo_workspace(user)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready: genome {genome.name} ({genome.genes.count()} genes), "
                f"workspace '{workspace.name}'.\n"
                f"  Log in as  {DEMO_USER} / {DEMO_PASSWORD}  (or sign up as a new user)\n"
                f"  Try uploading {YEAST / 'demo_variants.vcf'}"
            )
        )

    def _load_yeast(self) -> Genome:
        fasta = YEAST / "sacCer3.fa.gz"
        existing = Genome.objects.filter(name="sacCer3").first()
        if existing and existing.fasta_sha256 == file_sha256(fasta):
            return existing
        return load_genome(
            "sacCer3",
            fasta,
            YEAST / "genes_R64.gff3",
            species="Saccharomyces cerevisiae",
            description="S288C reference R64 (sequence identical to UCSC sacCer3), SGD genes",
        )

    def _demo_user(self) -> User:
        user = User.objects.filter(username=DEMO_USER).first()
        if user is None:
            user = User.objects.create_user(DEMO_USER, "demo@example.org", DEMO_PASSWORD)
        return user

    def _demo_workspace(self, user: User) -> Workspace:
        workspace = Workspace.objects.filter(memberships__user=user, name="Demo lab").first()
        if workspace is None:
            workspace = Workspace.objects.create(
                name="Demo lab", description="Yeast variants and the demo model", created_by=user
            )
            Membership.objects.create(workspace=workspace, user=user, role=Role.OWNER)
        return workspace
