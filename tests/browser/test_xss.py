"""Script injection (issue 15 item 9): payloads planted in every string a user controls, then
every page that shows them, igv.js popups and the offline report.html, in a real browser.

A payload that ran would call ``__xss`` (a canary the browser defines before any page script),
raise a dialog, or make the browser fetch the ``src=x`` of an injected image. Each page must
also show the payload as text, so a page that dropped it cannot pass by accident.

igv.js 3.8 puts feature text into its popups and menus as HTML, unescaped, so on each igv.js
page (and in report.html) the test clicks, at its pixel in the track's canvas, a gene whose name
is the payload, and opens the design's edit region's menu (the edit's label): each must open and
show the payload as text. Track labels (igv.js sets them as HTML too) must hold no element. What
user text reaches igv.js: edit labels (the design's regions of interest) and, from an annotation
file, gene names; variant IDs do not (the variant page's region is named CHROM:POS REF>ALT and
report.html's igv.js reads a VCF of positions only) and the permalink page has no igv.js.

The site is pytest-django's live server on this test's database; jobs (validation, scoring,
bundle, attention, design prediction) run in this process with the tiny model on the mini
genome, as in the unit tests, so the whole walk takes well under a minute.
"""

import uuid
import zipfile
from urllib.parse import quote, urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from engine.designs.edits import Edit
from engine.io.fasta import Genome
from engine.io.intervals import Interval
from genomeweb.catalog.models import Gene, resolve_data_path
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
# element, and a break-out of an inline <script> (JSON in script tags). The src is quoted: in
# <img/src=x/onerror=...> the unquoted value runs on to the ">" (src "x/onerror=__xss(1)", no
# handler), and the <img> is the one that runs when set with innerHTML (as igv.js's popups are):
# a <script> never does, and Chromium fired no SVG load there.
PAYLOAD = (
    '"\'><img/src="x"/onerror=__xss(1)><svg/onload=__xss(2)></script><script>__xss(3)</script>'
)
NOTE = f"{PAYLOAD} javascript:__xss(4) <!--<script> <a href=javascript:__xss(5)>link</a>"
FILENAME = '"><svg onload=__xss(6)>.vcf'
CANARY = "window.__xss = n => { (window.__xssHits = window.__xssHits || []).push(n) }"
TRACK = "stripeseq_S288C_WT_1.plus"
GENE = "PAU8"


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


def plant_gene_name_in_annotation(genome, folder) -> None:
    """The genome's GFF3 from now on names PAU8 with the payload (percent-encoded, as GFF3
    escapes "=" in a value)."""
    original = resolve_data_path(genome.annotation_path)
    text = original.read_text()
    planted = text.replace(f"Name={GENE}", f"Name={quote(PAYLOAD, safe='')}")
    assert planted != text
    path = folder / "planted.gff3"
    path.write_text(planted)
    genome.annotation_path = str(path)
    genome.save(update_fields=["annotation_path"])


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
    # Gene names come from the genome's annotation file (an administrator's, maybe downloaded);
    # igv.js shows them in its gene track's popups. PAU8 (I:1,807-2,169) is in every view here.
    # Renamed once the jobs ran: an interpretation's objective is a gene, found by name.
    assert Gene.objects.filter(genome=genome, name=GENE).update(name=PAYLOAD) == 1
    plant_gene_name_in_annotation(genome, tmp_path)  # the report's gene track reads the file
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
            page.evaluate("() => window.gwBrowser.roiManager.dismissTable()")
            assert_plain_track_labels(page)
            popup = feature_popup(page, "Genes", PAYLOAD)
            watch.check(page, f"{name}: the gene's popup")
            assert PAYLOAD in popup, (name, popup)  # the gene's name, as text
            if name == "design":
                menu = region_menu(page)
                watch.check(page, "design: the menu of the edits' region")
                assert PAYLOAD in menu, menu  # the edit's label, as text
                # a merged panel's popup: igv.js's own markup comes out as its text
                merged = track_popup(page, f"{TRACK} (reads per base)")
                assert f"predicted edited {TRACK}" in merged, merged
                assert "<" not in merged and "&nbsp;" not in merged, merged
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
    offline.evaluate("() => igvBrowser.roiManager.dismissTable()")
    assert_plain_track_labels(offline)
    # Variant IDs stay out of its igv.js (igv-reports reads a VCF of positions, ID "."); the
    # genes come from the planted annotation file.
    popup = feature_popup(offline, "Genes", PAYLOAD, browser="igvBrowser")
    report_watch.check(offline, "report.html: the gene's popup")
    assert PAYLOAD in popup, popup  # the gene's name, as text
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


# Where igv.js draws a feature, from igv.js's own state: the track's viewport on the page, the
# reference frame's first base and bases per pixel, and the feature's row in an expanded track
# (igv.js finds the clicked row as (y - margin) // expandedRowHeight).
FEATURE_POINT = """([trackName, name]) => {
  const view = BROWSER.trackViews.find((v) => v.track.name === trackName);
  const viewport = view.viewports[0];
  const feature = (viewport.cachedFeatures || []).find((f) => f.name === name);
  if (!feature) return null;
  viewport.viewportElement.scrollIntoView({block: "center"});
  const frame = viewport.referenceFrame;
  const last = frame.start + viewport.viewportElement.clientWidth * frame.bpPerPixel;
  const middle = (Math.max(feature.start, frame.start) + Math.min(feature.end, last)) / 2;
  const box = viewport.viewportElement.getBoundingClientRect();
  const track = view.track;
  return {
    x: box.left + (middle - frame.start) / frame.bpPerPixel,
    y: box.top + track.margin + ((feature.row || 0) + 0.5) * track.expandedRowHeight
      - viewport.contentTop,
  };
}"""


def feature_popup(page, track: str, name: str, browser: str = "window.gwBrowser") -> str:
    """Click the feature ``name`` of ``track`` in its canvas; the text of igv.js's popup."""
    point = page.evaluate(FEATURE_POINT.replace("BROWSER", browser), [track, name])
    assert point is not None, f"no feature {name!r} in view in track {track!r}"
    page.mouse.click(point["x"], point["y"])
    return open_popup(page)


def open_popup(page) -> str:
    """The text of the popup igv.js opens after its double-click delay; the popup is closed."""
    popup = page.locator(".igv-ui-popover:visible")
    popup.wait_for()
    text = popup.inner_text()
    page.locator(".igv-ui-popover:visible > div:first-child > div:last-child").click()  # close
    return text


def track_popup(page, track: str) -> str:
    """Click the middle of ``track``'s canvas; the text of the popup igv.js opens."""
    viewport = page.evaluate_handle(
        "name => window.gwBrowser.trackViews.find(v => v.track.name === name)"
        ".viewports[0].viewportElement",
        track,
    )
    viewport.as_element().click()
    return open_popup(page)


def region_menu(page) -> str:
    """Click the bar of the first region of interest; the text of the menu igv.js opens."""
    page.locator(".igv-roi-region > div").first.click()
    menu = page.locator(".igv-menu-popup:visible")
    menu.wait_for()
    return menu.inner_text()


def assert_plain_track_labels(page) -> None:
    """igv.js sets each track's label with innerHTML: none may hold an element."""
    labels = page.locator(".igv-track-label").evaluate_all(
        "labels => labels.map(l => [l.textContent, l.childElementCount])"
    )
    assert labels and all(text and not children for text, children in labels), labels
