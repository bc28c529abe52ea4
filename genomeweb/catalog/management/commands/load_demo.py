from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand

from engine.io.files import configured_shifts, sha256_file
from genomeweb.catalog.loading import load_genome
from genomeweb.catalog.models import Architecture, Genome, Predictor
from genomeweb.catalog.registration import (
    pair_observed_tracks,
    register_observed,
    register_predictor,
    replicate_entries,
    yeast_geometry_and_tracks,
)
from genomeweb.variants.backgrounds import register_background
from genomeweb.workspaces.models import Membership, Role, Workspace

YEAST = settings.BASE_DIR / "data" / "yeast"
DEMO_MODEL = settings.BASE_DIR / "data" / "models" / "yeast-demo"
DEMO_MODEL_NAME = "yeast-demo"
DEMO_USER = "demo"
DEMO_PASSWORD = "genomeweb-demo"


class Command(BaseCommand):
    help = (
        "Load the demo (idempotent): the yeast genome and genes, the 12 observed STRIPE-seq "
        "bigWigs, the yeast-demo model paired with them and its score background, and a demo "
        "user and workspace."
    )

    def handle(self, *args, **options) -> None:
        genome = self._load_yeast()
        observed = [
            register_observed(genome, path, description=_describe(path))
            for path in sorted(YEAST.glob("stripeseq_*.bw"))
        ]
        predictor = self._register_model(genome)
        paired = pair_observed_tracks(predictor) if predictor else 0
        background = DEMO_MODEL / "background.npz"
        if background.is_file():  # shipped with the model: percentiles from the first job
            register_background(predictor, background)
        user = self._demo_user()
        workspace = self._demo_workspace(user)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready: genome {genome.name} ({genome.genes.count()} genes), "
                f"{len(observed)} observed tracks, model {DEMO_MODEL_NAME} "
                f"({paired} tracks paired with observed), workspace '{workspace.name}'.\n"
                f"  Log in as  {DEMO_USER} / {DEMO_PASSWORD}  (or sign up as a new user)\n"
                f"  Try uploading {YEAST / 'demo_variants.vcf'}"
            )
        )

    def _load_yeast(self) -> Genome:
        fasta = YEAST / "sacCer3.fa.gz"
        existing = Genome.objects.filter(name="sacCer3").first()
        if existing and existing.fasta_sha256 == sha256_file(fasta):
            return existing
        return load_genome(
            "sacCer3",
            fasta,
            YEAST / "genes_R64.gff3",
            species="Saccharomyces cerevisiae",
            description="S288C reference R64 (sequence identical to UCSC sacCer3), SGD genes",
        )

    def _register_model(self, genome: Genome) -> Predictor:
        existing = Predictor.objects.filter(name=DEMO_MODEL_NAME).first()
        current = (replicate_entries([DEMO_MODEL]), configured_shifts(DEMO_MODEL))
        if existing and (existing.replicates, existing.default_shifts) == current:
            return existing
        geometry, tracks = yeast_geometry_and_tracks(DEMO_MODEL)
        return register_predictor(
            name=DEMO_MODEL_NAME,
            architecture=Architecture.YEAST,
            genome=genome,
            directories=[DEMO_MODEL],
            tracks=tracks,
            geometry=geometry,
            description="Borzoi-family model trained on yeast STRIPE-seq (see its model card)",
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


def _describe(path: Path) -> str:
    """``stripeseq_S288C_WT_1.plus.bw`` → ``"STRIPE-seq TSS counts, S288C WT_1, plus strand"``."""
    sample, strand = path.name.removeprefix("stripeseq_").removesuffix(".bw").rsplit(".", 1)
    strain, condition = sample.split("_", 1)
    return f"STRIPE-seq TSS counts, {strain} {condition}, {strand} strand"
