// Number columns line up with their headers in every table (leaderboard, win matrix, agreement,
// ratings, versions): a header whose column holds numbers (td.num) is aligned like them. Tables are
// built in several modules; one observer covers them all.
function alignHeaders(table) {
  const row = table.tBodies[0]?.rows[0];
  const head = table.tHead?.rows[0];
  if (!row || !head) return;
  [...head.cells].forEach((th, i) => {
    const td = row.cells[i];
    // A row header (th) in the body, as in the win matrix, counts as the first column.
    th.classList.toggle('num', !!td && td.classList.contains('num'));
  });
}

let queued = false;
function alignAll() {
  queued = false;
  for (const table of document.querySelectorAll('table')) alignHeaders(table);
}

export function initTables() {
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(alignAll);
  }).observe(document.body, { childList: true, subtree: true });
  alignAll();
}
