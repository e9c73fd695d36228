// The human-readable API reference: Swagger UI, served from our own origin
// (scripts/lib/vendor-web-assets.ts), rendering the OpenAPI document the api function serves.
// Nothing is fetched from anywhere else: no validator badge (it calls a public service), and
// "Try it out" starts off so that reading the reference never sends a request by accident.
// Deep links stay off: Swagger UI renders them as links nested inside the operation's toggle
// button, which screen readers cannot operate (axe "nested-interactive").
/* global SwaggerUIBundle */
SwaggerUIBundle({
  url: "/api/v1/openapi.json",
  dom_id: "#api-reference",
  validatorUrl: null,
  deepLinking: false,
  tryItOutEnabled: false,
  persistAuthorization: false,
});

// Swagger UI's authorization dialog has an icon-only close button without a name, and its
// per-scheme buttons carry an aria-label that differs from their visible text (WCAG 2.1
// 4.1.2 and 2.5.3). Name them by what they show, whenever React (re)renders them.
function nameControls(root) {
  for (const button of root.querySelectorAll(".close-modal:not([aria-label])")) {
    button.setAttribute("aria-label", "Close");
  }
  // Scrollable code samples must be reachable by keyboard (WCAG 2.1 2.1.1).
  for (const code of root.querySelectorAll("pre.microlight:not([tabindex])"))
    code.setAttribute("tabindex", "0");
  for (const button of root.querySelectorAll(".auth-btn-wrapper .btn[aria-label]")) {
    const visible = button.textContent.trim();
    if (visible && button.getAttribute("aria-label") !== visible) button.setAttribute("aria-label", visible);
  }
}
new MutationObserver(() => nameControls(document)).observe(document.body, { childList: true, subtree: true });
