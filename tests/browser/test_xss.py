"""Script injection (issue 15 item 9): payloads planted in every string a user controls, then
every page that shows them, igv.js popups and the offline report.html, in a real browser.

A payload that ran would call ``__xss`` (a canary the browser defines before any page script),
raise a dialog, or make the browser fetch the ``src=x`` of an injected image. Each page must
also show the payload as text, so a page that dropped it cannot pass by accident.

The site is pytest-django's live server on this test's database; jobs (validation, scoring,
bundle, attention, design prediction) run in this process with the tiny model on the mini
genome, as in the unit tests, so the whole walk takes well under a minute.
"""

import uuid
import zipfile
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from engine.designs.edits import Edit
from engine.io.fasta import Genome
from engine.io.intervals import Interval
from genomeweb.designs.models import Design
from genomeweb.jobs.models import Job, JobKind, JobStatus
from genomeweb.variants.models import VariantEffect
from genomeweb.variants.submit import submit_variant_set
from tests.conftest import open_offline_page
from tests.interpret.test_interpret_views import form as interpret_form
from tests.scoring import HEADER, score_form
from worker import tasks

# No spaces or semicolons, so one payload also fits a VCF ID; at most 100 characters (a
# workspace's name). It tries an attribute break-out, an event handler on an HTML and an SVG
# element, and a break-out of an inline <script> (JSON in script tags).
PAYLOAD = "\"'><img/src=x/onerror=__xss(1)><svg/onload=__xss(2)></script><script>__xss(3)</script>"
NOTE = f"{PAYLOAD} javascript:__xss(4) <!--<script> <a href=javascript:__xss(5)>link</a>"
FILENAME = '"><svg onload=__xss(6)>.vcf'
CANARY = "window.__xss = n => { (window.__xssHits = window.__xssHits || []).push(n) }"
TRACK = "stripeseq_S288C_WT_1.plus"


def payload_vcf(genome) -> bytes:
    """Four SNVs near the mini genome's genes with the payload in their IDs and INFO, and one
    whose REF is wrong (rejected: the validation report shows its line)."""
    fasta = Genome(genome.fasta_file)
    lines = []
    for number, pos in enumerate((1700, 1750, 1800, 2400)):
        ref = fasta.fetch(Interval("I", pos - 1, pos))
        alt = "A" if ref != "A" else "G"
        lines.append(f"I\t{pos}\t{PAYLOAD}{number}\t{ref}\t{alt}\t.\t.\tNOTE={PAYLOAD}")
    wrong = "A" if fasta.fetch(Interval("I", 2449, 2450)) != "A" else "C"
    lines.append(f"I\t2450\t{PAYLOAD}bad\t{wrong}\tT\t.\t.\tNOTE={PAYLOAD}")
    return (HEADER + "\n".join(lines) + "\n").encode()


def run(job: Job) -> Job:
    tasks.run_job.apply(args=[job.pk])
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    return job


def latest(kind: str, **params) -> Job:
    return Job.objects.filter(kind=kind, **{f"params__{k}": v for k, v in params.items()}).latest(
        "created"
    )


def scored_variants(client, workspace, eddie, genome) -> tuple[Job, VariantEffect]:
    variant_set = submit_variant_set(
        workspace=workspace,
        user=eddie,
        genome=genome,
        name=PAYLOAD,
        upload=SimpleUploadedFile(FILENAME, payload_vcf(genome)),
        submission=str(uuid.uuid4()),
    )
    run(variant_set.validation_job)
    client.post(reverse("gw-variantset-score", kwargs={"code": variant_set.code}), score_form())
    job = run(Job.objects.get(kind=JobKind.SCORE_VARIANTS))
    effect = VariantEffect.objects.filter(job=job).select_related("variant").latest("max_abs")
    variant = reverse("gw-variant", kwargs={"code": effect.variant.code})
    client.post(f"{variant}marks/", {"mark": "interesting", "on": "true"})
    client.post(f"{variant}notes/", {"text": NOTE})
    return job, effect


def report_of(client, job: Job, folder) -> str:
    """The scoring bundle's report.html, unpacked into ``folder``; its file: URL."""
    client.post(reverse("gw-bundle", kwargs={"code": job.code}), {"report_top": 4})
    bundle = run(latest(JobKind.BUNDLE, job=str(job.code)))
    with zipfile.ZipFile(bundle.artifacts.get().path) as archive:
        archive.extract("report.html", folder)
    return (folder / "report.html").as_uri()


def attention_of_both_alleles(client, job: Job, effect: VariantEffect) -> str:
    url = reverse("gw-effect-explain", kwargs={"code": job.code, "effect_id": effect.pk})
    form = {"method": "attention", "objective": f"track:{TRACK}", "width": "24", "layer": "2"}
    client.post(url, form | {"log": "log"})
    reference = run(latest(JobKind.ATTENTION, allele__side="ref"))
    run(latest(JobKind.ATTENTION, allele__side="alt"))
    return reverse("gw-interpret-alleles", kwargs={"code": reference.code})


def predicted_design(client, workspace, alice, predictor) -> Design:
    design = Design.start_new(
        workspace=workspace,
        user=alice,
        predictor=predictor,
        window=Interval("I", 1500, 2524),
        name=PAYLOAD,
        centred_on=PAYLOAD,
    )
    edit = Edit("deletion", 600, 610, label=PAYLOAD)
    assert design.save_edits([edit], expected_version=1, user=alice, message=PAYLOAD)
    client.post(reverse("gw-design-predict", kwargs={"code": design.code}), {"tracks": [TRACK]})
    run(latest(JobKind.DESIGN_PREDICT, design=str(design.code)))
    return design


@pytest.fixture
def planted(as_user, alice, eddie, workspace, genome, tiny_model, no_broker, tmp_path):
    """Every user-controlled string holds a payload; returns the pages that show them (paths),
    the report's file: URL and an editor's session cookie."""
    workspace.name = workspace.description = PAYLOAD
    workspace.save()
    predictor = tiny_model
    client = as_user(eddie)
    job, effect = scored_variants(client, workspace, eddie, genome)
    client.post(
        reverse("gw-interpret-new", kwargs={"code": workspace.code}),
        interpret_form(predictor, method="attention", layer="2", head=""),
    )
    attention = run(Job.objects.get(kind=JobKind.ATTENTION))
    design = predicted_design(client, workspace, alice, predictor)
    workspace_page = reverse("gw-workspace", kwargs={"code": workspace.code})
    pages = {
        "home": reverse("gw-home"),
        "workspace": workspace_page,
        "workspace search": reverse("gw-variant-search", kwargs={"code": workspace.code})
        + "?"
        + urlencode({"q": f"{PAYLOAD}0"}),
        "members": reverse("gw-members", kwargs={"code": workspace.code}),
        "variant set": reverse("gw-variantset", kwargs={"code": effect.variant.variant_set.code}),
        "results table": reverse("gw-effects", kwargs={"code": job.code}),
        "results search": reverse("gw-effects", kwargs={"code": job.code})
        + "?"
        + urlencode({"q": f"{PAYLOAD}0"}),
        "variant page": reverse("gw-effect", kwargs={"code": job.code, "effect_id": effect.pk}),
        "permalink": reverse("gw-variant", kwargs={"code": effect.variant.code}),
        "job page": reverse("gw-job", kwargs={"code": job.code}),
        "attention": reverse("gw-interpretation", kwargs={"code": attention.code}),
        "design": reverse("gw-design", kwargs={"code": design.code}),
    }
    pages["alleles"] = attention_of_both_alleles(client, job, effect)
    return {
        "pages": pages,
        "report": report_of(client, job, tmp_path),
        "session": client.cookies["sessionid"].value,
    }


class Watch:
    """What a page did that only an injected script (or element) would do."""

    def __init__(self, page):
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.injected_fetches: list[str] = []
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", self._console)
        page.on("request", self._request)
        page.context.add_init_script(CANARY)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _console(self, message) -> None:
        if "__xss" in message.text:
            self.errors.append(message.text)

    def _request(self, request) -> None:
        if request.url.rsplit("/", 1)[-1] == "x":  # the src of an injected <img>
            self.injected_fetches.append(request.url)

    def check(self, page, where: str) -> None:
        hits = page.evaluate("() => window.__xssHits || []")
        assert (hits, self.dialogs, self.injected_fetches) == ([], [], []), where
        assert not [e for e in self.errors if "__xss" in e], (where, self.errors)


# Pages with an igv.js browser, which draws after the page has loaded.
IGV_PAGES = {"variant page", "attention", "alleles", "design"}


@pytest.mark.slow
@pytest.mark.browser
def test_no_planted_payload_runs_on_any_page(planted, live_server, browser_page):
    page = browser_page
    watch = Watch(page)
    page.context.add_cookies(
        [{"name": "sessionid", "value": planted["session"], "url": live_server.url}]
    )
    for name, path in planted["pages"].items():
        page.goto(f"{live_server.url}{path}")
        if name in IGV_PAGES:
            table = regions_of_interest(page)
            assert name != "design" or PAYLOAD in table, table  # the edit's label, as text
        assert PAYLOAD[3:30] in page.inner_text("body"), f"{name}: the payload is not shown"
        watch.check(page, name)
    page.goto(f"{live_server.url}{planted['pages']['permalink']}")
    assert NOTE in page.inner_text("#annotations")  # the note, whole, as text
    assert page.locator("#annotations a[href^='javascript']").count() == 0
    assert page.outside_requests == []

    offline = open_offline_page(page.context.browser)
    report_watch = Watch(offline)
    offline.goto(planted["report"])
    offline.wait_for_selector("body[data-igv-ready]", timeout=60_000)
    offline.locator("#variant_table tbody tr").nth(1).click()
    regions_of_interest(offline, browser="igvBrowser")
    report_watch.check(offline, "report.html")
    table = offline.inner_text("#variant_table")
    assert table.count(PAYLOAD) == 4  # each variant's ID, as text
    assert offline.outside_requests == [] and offline.errors == []


def regions_of_interest(page, browser: str = "window.gwBrowser") -> str:
    """Once igv.js has drawn: its table of regions of interest (a design's edit labels), as
    shown."""
    page.wait_for_function(f"() => {browser} !== undefined", timeout=60_000)
    page.wait_for_function(
        "() => document.querySelectorAll('.igv-loading-spinner-container:not([style*=none])')"
        ".length === 0"
    )
    page.evaluate(f"() => {browser}.roiManager.presentTable()")
    return page.inner_text(".igv-roi-table")
