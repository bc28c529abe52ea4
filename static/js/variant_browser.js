// The variant page's igv.js browser. The configuration (all URLs on this server, no default
// genomes, no search service) comes from the page as JSON; see genomeweb/variants/igv.py.
// It first shows the observed coverage; when the tracks job's poll brings the predicted panels
// (a JSON script "igv-predicted" in the swapped-in fragment), each replaces the panel of the
// same name, or is added, without reloading the page.
let browserReady = null;

// igv.js 3.8 writes feature text into HTML as it is: a track's popup (handleTrackClick joins
// popupData's names and values into a string for innerHTML) and a region of interest's menu
// ("<b>${name}</b>"). Gene names, edit labels and the like must be shown as text.
const escapeHtml = (value) =>
  String(value ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const SEPARATORS = new Set(["<hr>", "<hr/>", "<hr/><hr/>"]); // igv.js's own, between features
// igv.js's own text may be markup: a merged track's heading for each of its tracks, a name with
// "&nbsp;"s. Its text comes from an inert document (no script runs, nothing loads). Values (gene
// names, labels) are shown as they are.
const textOf = (html) => new DOMParser().parseFromString(html, "text/html").body.textContent;

function popupHtml(items) {
  return items
    .map((item) => {
      if (SEPARATORS.has(item)) return item;
      if (typeof item === "string" && item.startsWith("<")) {
        return `<div style="font-weight: bold">${escapeHtml(textOf(item))}</div>`;
      }
      if (typeof item === "string") return `<div>${escapeHtml(item)}</div>`;
      if (!item.name) return ""; // {html}: igv.js's links to outside services, unused here
      const [name, value] = [escapeHtml(textOf(item.name)), escapeHtml(item.value)];
      return `<div title="${value}"><span>${name}</span>&nbsp;&nbsp;&nbsp;${value}</div>`;
    })
    .join("");
}

function showFeatureTextAsText(browser) {
  // A string returned by a "trackclick" handler is the popup's HTML (igv.js's API).
  browser.on("trackclick", (track, items) => (items && items.length ? popupHtml(items) : false));
  // The region menu has no such hook: its first items, built from the names, are swapped for
  // escaped ones (igv.js internals of the vendored 3.8.10; tests/browser/test_xss.py opens it).
  const menu = browser.roiManager.roiMenu;
  const menuItems = menu.menuItems.bind(menu);
  menu.menuItems = (feature, set, ...rest) =>
    menuItems(feature, set, ...rest).map((item) => {
      if (item === `<b>${feature.name}</b><br/>`) return `<b>${escapeHtml(feature.name)}</b><br/>`;
      if (item === `<b>ROI Set: ${set.name}</b>`) return `<b>ROI Set: ${escapeHtml(set.name)}</b>`;
      return item;
    });
}

document.addEventListener("DOMContentLoaded", () => {
  const holder = document.getElementById("igv-browser");
  if (!holder) return;
  const config = JSON.parse(document.getElementById("igv-config").textContent);
  browserReady = igv.createBrowser(holder, config).then((browser) => {
    showFeatureTextAsText(browser);
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
