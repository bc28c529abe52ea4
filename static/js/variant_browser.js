// The variant page's igv.js browser. The configuration (all URLs on this server, no default
// genomes, no search service) comes from the page as JSON; see genomeweb/variants/igv.py.
document.addEventListener("DOMContentLoaded", async () => {
  const holder = document.getElementById("igv-browser");
  if (!holder) return;
  const config = JSON.parse(document.getElementById("igv-config").textContent);
  window.gwBrowser = await igv.createBrowser(holder, config);
  holder.dataset.ready = "true"; // the browser test waits for this, then for the spinners
});
