// The linked attention view: clicking a heatmap row (a query token) draws its strongest links
// as igv.js arcs and moves the browser to them. The links come from the server, behind the
// same access check as the page (genomeweb/interpret/views.py: attention_links).
document.addEventListener("click", async (event) => {
  const row = event.target.closest("#attention-heatmap g.row");
  if (!row || !window.gwBrowser) return;
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
  holder.querySelectorAll("g.row.selected").forEach((g) => g.classList.remove("selected"));
  row.classList.add("selected");
  holder.dataset.selected = row.dataset.row; // the browser test waits for this
});
