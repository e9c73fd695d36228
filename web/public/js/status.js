// Operations panel: asks the API for liveness and readiness (no session needed).
async function check(item) {
  const path = item.dataset.check;
  const result = item.querySelector(".result");
  try {
    const res = await fetch(path, { headers: { Accept: "application/json" }, cache: "no-store" });
    // Read to the end: "done" means the request is over, not just its headers.
    await res.arrayBuffer();
    item.classList.toggle("ok", res.ok);
    item.classList.toggle("bad", !res.ok);
    result.textContent = res.ok ? "ok" : `unavailable (${res.status})`;
  } catch {
    item.classList.add("bad");
    result.textContent = "unreachable";
  }
}

export function checkStatus() {
  for (const item of document.querySelectorAll("#status [data-check]")) void check(item);
}
