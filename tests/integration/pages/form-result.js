// The test pages' form #f, submitted: its fields shown as JSON in #result (what the tests read back).
document.getElementById("f").addEventListener("submit", ev => {
  ev.preventDefault();
  const out = {};
  for (const [k, v] of new FormData(ev.target)) out[k] = v;
  document.getElementById("result").textContent = JSON.stringify(out);
});
