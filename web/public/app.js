// Status page: asks the API for liveness and readiness. No inline script (CSP).
async function check(item) {
  const path = item.dataset.check;
  const result = item.querySelector(".result");
  try {
    const res = await fetch(path, { headers: { Accept: "application/json" }, cache: "no-store" });
    item.classList.toggle("ok", res.ok);
    item.classList.toggle("bad", !res.ok);
    result.textContent = res.ok ? "ok" : `unavailable (${res.status})`;
  } catch {
    item.classList.add("bad");
    result.textContent = "unreachable";
  }
}

for (const item of document.querySelectorAll("#status [data-check]")) check(item);
