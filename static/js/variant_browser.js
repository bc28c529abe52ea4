// The variant page's igv.js browser. The configuration (all URLs on this server, no default
// genomes, no search service) comes from the page as JSON; see genomeweb/variants/igv.py.
// It first shows the observed coverage; when the tracks job's poll brings the predicted panels
// (a JSON script "igv-predicted" in the swapped-in fragment), each replaces the panel of the
// same name, or is added, without reloading the page.
let browserReady = null;

document.addEventListener("DOMContentLoaded", () => {
  const holder = document.getElementById("igv-browser");
  if (!holder) return;
  const config = JSON.parse(document.getElementById("igv-config").textContent);
  browserReady = igv.createBrowser(holder, config).then((browser) => {
    window.gwBrowser = browser;
    holder.dataset.ready = "true"; // the browser test waits for this, then for the spinners
    return browser;
  });
});

document.addEventListener("htmx:load", async (event) => {
  const data = event.detail.elt.querySelector?.("#igv-predicted");
  if (!data || !browserReady) return;
  const panels = JSON.parse(data.textContent);
  data.remove(); // added once, even if htmx processes the fragment again
  const browser = await browserReady;
  for (const panel of panels) {
    browser.removeTrackByName(panel.name);
    await browser.loadTrack(panel);
  }
  document.getElementById("igv-browser").dataset.predicted = "true";
});
