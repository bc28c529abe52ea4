// The linked attention view: clicking a heatmap row (a query token) draws its strongest links
// as igv.js arcs and moves the browser to them. The links come from the server, behind the
// same access check as the page (genomeweb/interpret/views.py: attention_links).
// By keyboard: Tab reaches the heatmap's rows (one tab stop), the arrow keys, Page Up/Down,
// Home and End move between rows, Enter or Space draws the focused row's links.
async function showLinks(row) {
  if (!window.gwBrowser) return;
  const holder = document.getElementById("attention-heatmap");
  const url = holder.dataset.linksUrl.replace(/\/0\/$/, `/${row.dataset.row}/`);
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) return;
  const links = await response.json();
  if (holder.dataset.trackName) window.gwBrowser.removeTrackByName(holder.dataset.trackName);
  await window.gwBrowser.loadTrack({
    type: "interact",
    name: links.name,
    features: links.features,
    arcType: "proportional",
    valueColumn: "value",
    height: 140,
  });
  holder.dataset.trackName = links.name;
  await window.gwBrowser.search(links.locus);
  holder.querySelectorAll("g.row.selected").forEach((g) => {
    g.classList.remove("selected");
    g.setAttribute("aria-pressed", "false");
  });
  row.classList.add("selected");
  row.setAttribute("aria-pressed", "true");
  holder.dataset.selected = row.dataset.row; // the browser test waits for this
}

function focusRow(rows, index) {
  const next = rows[Math.max(0, Math.min(rows.length - 1, index))];
  rows.forEach((g) => g.setAttribute("tabindex", g === next ? "0" : "-1"));
  next.focus();
}

const STEPS = { ArrowDown: 1, ArrowUp: -1, PageDown: 10, PageUp: -10 };

document.addEventListener("click", (event) => {
  const row = event.target.closest("#attention-heatmap g.row");
  if (row) showLinks(row);
});

document.addEventListener("keydown", (event) => {
  const row = event.target.closest && event.target.closest("#attention-heatmap g.row");
  if (!row) return;
  const rows = [...row.parentNode.querySelectorAll("g.row")];
  const here = rows.indexOf(row);
  if (event.key === "Enter" || event.key === " ") showLinks(row);
  else if (event.key in STEPS) focusRow(rows, here + STEPS[event.key]);
  else if (event.key === "Home") focusRow(rows, 0);
  else if (event.key === "End") focusRow(rows, rows.length - 1);
  else return;
  event.preventDefault();
});

// The rows act as buttons on this page (on the allele comparison page they only describe).
document
  .querySelectorAll("#attention-heatmap g.row")
  .forEach((g) => g.setAttribute("role", "button"));
